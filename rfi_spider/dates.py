"""Every date and time rule of the project, in one place.

- Timestamps are exported in UTC, to the second, with ``+00:00`` (:func:`iso_utc`).
- An article's *day* is its day in Paris, the newsroom's (:func:`paris_day`): backfill ranges,
  folder names and QA timelines all use it.
- Seed-style files and mirror entries carry milliseconds since the epoch (:func:`to_ms`,
  :func:`ms_to_iso`), computed in integer arithmetic.
- Parsers for what pages and feeds give (:func:`parse_datetime`, :func:`parse_feed_date`) accept
  plausible news dates only (years 2000–2100); the checking parsers used by QA
  (:func:`checked_time`, :func:`checked_ms`) accept any year but refuse a time that cannot be
  expressed in both UTC and Paris time.
"""

from __future__ import annotations

import email.utils
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PLAUSIBLE_YEARS = range(2000, 2101)
DATE_TEXT_FORMAT = "%d/%m/%Y - %H:%M"  # the page's display date, Paris time


def parse_datetime(value: str | None) -> datetime | None:
    """Parse an ISO 8601 timestamp; naive ones are taken as UTC. None when unparsable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.year not in PLAUSIBLE_YEARS:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_feed_date(text: str) -> datetime | None:
    """An RSS pubDate (RFC 822) or an ISO 8601 date (Atom, dc:date); None when unparsable."""
    text = text.strip()
    if not text:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except OverflowError:  # a year, hour or offset of 20 digits: not a date
        return None
    except (TypeError, ValueError, IndexError):
        return parse_datetime(text)
    if parsed.tzinfo is None:  # "-0000": UTC, origin unknown
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC) if parsed.year in PLAUSIBLE_YEARS else None


def iso_utc(value: datetime) -> str:
    """``2024-03-07T17:34:12+00:00``: the one timestamp format of every export."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


def rfc3339(moment: datetime) -> str:
    """``2024-03-07T17:34:12Z``: RFC 3339 in UTC, to the second (Atom's dates).

    ``isoformat``, not ``strftime("%Y")``: glibc writes year 999 as ``999``, while RFC
    3339's ``date-fullyear`` is always four digits (``0999``)."""
    utc = moment.astimezone(UTC).replace(microsecond=0, tzinfo=None)
    return f"{utc.isoformat()}Z"


def parse_aware_time(value: Any) -> datetime | None:
    """An ISO 8601 time with an offset (the exported items' form), as given; None for
    anything else, a naive time or one beyond UTC's range included."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None
    try:
        moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00
        return None
    return moment


def now_iso() -> str:
    """The current time as :func:`iso_utc` writes it (``crawled_at``)."""
    return iso_utc(datetime.now(UTC))


def to_ms(value: datetime | str) -> int:
    """Milliseconds since the epoch, in integer arithmetic, of a time or an ISO 8601 text."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - EPOCH) // timedelta(milliseconds=1)


def ms_to_iso(ms: int) -> str:
    """Milliseconds since the epoch as :func:`iso_utc` text."""
    return iso_utc(EPOCH + timedelta(milliseconds=ms))


def paris_day(value: datetime | str) -> date:
    """The day in Paris of a time (or of an exported ISO 8601 timestamp)."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.astimezone(PARIS).date()


def today_in_paris() -> date:
    """Today's date in Paris."""
    return datetime.now(PARIS).date()


def paris_date_text(published_at: str) -> str:
    """The page's display date (``DD/MM/YYYY - HH:MM``, Paris time) for a UTC timestamp."""
    return datetime.fromisoformat(published_at).astimezone(PARIS).strftime(DATE_TEXT_FORMAT)


def checked_time(value: Any) -> datetime | None:
    """A value from an export as a UTC time; None when it is not one, or cannot be expressed
    in UTC and Paris time (year 1 or 9999 with an offset)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        parsed.astimezone(PARIS)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def checked_ms(ms: int) -> datetime | None:
    """A seed-style file's milliseconds as a UTC time; None when out of range."""
    try:
        when = datetime.fromtimestamp(ms / 1000, tz=UTC)
        when.astimezone(PARIS)
    except (ValueError, OverflowError, OSError):
        return None
    return when


def checked_paris_day(value: Any) -> date | None:
    """:func:`paris_day` of a value from an export; None when :func:`checked_time` refuses it."""
    parsed = checked_time(value)
    return parsed.astimezone(PARIS).date() if parsed else None
