"""Spider arguments (``-a name=value``), checked before a crawl sends anything.

Each check raises :class:`ArgumentError` with one line saying which argument is
wrong and what it takes; the project's ``crawl`` command prints that line and
exits 2 (``rfi_spider/commands/crawl.py``). The spider runs the same checks in
its constructor, so a crawl started another way fails the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from urllib.parse import urlsplit

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# -a demo=: the words for on and off (any case); anything else is refused, not "off":
# -a demo=2 or -a demo= (an unset variable) must not become a crawl of the live site.
SWITCH_ON = frozenset({"1", "true", "yes"})
SWITCH_OFF = frozenset({"0", "false", "no"})
# ``-a since=all``: the whole history (RFI's web archive starts later than this).
ALL_HISTORY = date(1990, 1, 1)


class ArgumentError(ValueError):
    """A spider argument that cannot be used; the message is one line for the user."""


def http_url(name: str, value: str, root: bool = False) -> str:
    """``value`` if it is an absolute ``http(s)`` URL with a host, else :class:`ArgumentError`.

    ``root``: a site root (``base_url``): no query, fragment or user name either.
    """
    text = value.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() or not c.isprintable() for c in text)
    ):
        raise ArgumentError(f"-a {name}= takes an absolute http(s) URL, not {value!r}")
    if root and (parts.query or parts.fragment or parts.username or parts.password):
        raise ArgumentError(f"-a {name}= takes a site root such as http://host:port, not {value!r}")
    return text


def parse_day(name: str, value: str | None) -> date | None:
    """A ``YYYY-MM-DD`` day, None when not given; :class:`ArgumentError` otherwise (an
    empty value too: ``-a since=$UNSET`` is not a plain crawl)."""
    if value is None:
        return None
    if _DAY.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    suffix = " or all" if name == "since" else ""
    raise ArgumentError(f"-a {name}= takes a date as YYYY-MM-DD{suffix}, not {value!r}")


def backfill_range(
    since: str | None, until: str | None, today: date, max_days: int
) -> tuple[date | None, date | None]:
    """``(since, until)`` of a backfill (``until`` defaults to ``today``), or ``(None, None)``.

    ``since=all`` starts at :data:`ALL_HISTORY`. ``max_days`` (0: none) bounds the range.
    """
    if since is not None and since.strip().lower() == "all":
        since = ALL_HISTORY.isoformat()
    first = parse_day("since", since)
    last = parse_day("until", until)
    if last and not first:
        raise ArgumentError("-a until= needs -a since= as well")
    if first is None:
        return None, None
    last = last or today
    if first > last:
        raise ArgumentError(f"-a since={first} is after until={last}")
    days = (last - first).days + 1
    if max_days > 0 and days > max_days:
        raise ArgumentError(
            f"a backfill of {days} days is over RFI_MAX_BACKFILL_DAYS ({max_days}); "
            "raise the setting"
        )
    return first, last


def check_mirrors(urls: list[str]) -> list[str]:
    """Feed mirror URLs (``-a mirrors=`` or ``RFI_MIRRORS``), each an absolute http(s) URL."""
    for url in urls:
        try:
            http_url("mirrors", url)
        except ArgumentError:
            raise ArgumentError(f"a feed mirror must be an http(s) URL, not {url!r}") from None
    return urls


def switch(name: str, value: str | None) -> bool:
    """An on/off argument (``-a demo=1``): False when not given; ``1``, ``true``, ``yes``
    or ``0``, ``false``, ``no`` (any case); :class:`ArgumentError` for anything else."""
    if value is None:
        return False
    word = str(value).strip().lower()
    if word in SWITCH_ON | SWITCH_OFF:
        return word in SWITCH_ON
    raise ArgumentError(f"-a {name}= takes 1, true or yes (0, false or no: off), not {value!r}")


def check_names(names: Iterable[str], known: Iterable[str]) -> None:
    """Every argument name is one the spider knows: a typo (``-a sinse=``) would else be
    ignored, and the crawl run without it. Names that start with ``_`` are Scrapyd's
    (``_job``, ``_version``): let through."""
    allowed = set(known)
    for name in names:
        if name not in allowed and not name.startswith("_"):
            takes = ", ".join(sorted(allowed))
            shown = repr(name)[1:-1]  # control characters escaped
            raise ArgumentError(f"-a {shown}= is not an argument of this spider (it takes {takes})")
