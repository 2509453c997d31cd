"""The parsers of ``RfiSettings``' fields (``config.py``): each reads one setting and
returns its typed value, or raises :class:`ConfigError`, one line naming the setting.

``parse(settings, name)``; none reads any setting but the one it is given, so that
``config.py`` stays the one module that names the project's settings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from scrapy.settings import BaseSettings

# The smallest RFI_WARC_MAX_SIZE: below it, each WARC file would hold a record or two
# (an article's response is about 200 KB, gzipped 40 KB), and files would pile up.
MIN_WARC_MAX_SIZE = 1024 * 1024
# A WARC file name's prefix: a file name's part, never a path (no separator, no leading dot).
_WARC_PREFIX = re.compile(r"[\w-][\w.-]*")
# How much of a bad value an error shows.
_SHOWN = 80

Parser = Callable[[BaseSettings, str], Any]


class ConfigError(ValueError):
    """A setting that cannot be used; the message is one line naming it, for the user."""


def shown(value: Any) -> str:
    """``value`` as the error line shows it: ``repr`` (control characters escaped), cut."""
    text = repr(value)
    return text if len(text) <= _SHOWN else f"{text[: _SHOWN - 3]}..."


def _bad(name: str, settings: BaseSettings, what: str, secret: bool = False) -> ConfigError:
    value = "" if secret else f", not {shown(settings.get(name))}"
    return ConfigError(f"{name} must be {what}{value}")


# --- parsers: (settings, name) -> the typed value, or ConfigError ----------------------


def boolean(settings: BaseSettings, name: str) -> bool:
    try:
        return settings.getbool(name)
    except ValueError:
        raise _bad(name, settings, "True or False (1 or 0)") from None


def _number(settings: BaseSettings, name: str, whole: bool) -> float | int | None:
    """The value as a number; None when it is not one (or NaN, infinite, a bool)."""
    value = settings.get(name)
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if whole:
            return int(text) if re.fullmatch(r"[+-]?[0-9]+", text) else None
        try:
            value = float(text)
        except ValueError:
            return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        if not whole:
            return value
        return int(value) if value.is_integer() else None
    return None


def whole(minimum: int, what: str | None = None) -> Parser:
    """A whole number of ``minimum`` or more."""
    said = what or f"a whole number of {minimum} or more"

    def parse(settings: BaseSettings, name: str) -> int:
        value = _number(settings, name, whole=True)
        if value is None or value < minimum:
            raise _bad(name, settings, said)
        return int(value)

    return parse


def whole_between(minimum: int, maximum: int) -> Parser:
    """A whole number from ``minimum`` to ``maximum``."""
    check = whole(minimum, f"a whole number from {minimum} to {maximum}")

    def parse(settings: BaseSettings, name: str) -> int:
        value = check(settings, name)
        if value > maximum:
            raise _bad(name, settings, f"a whole number from {minimum} to {maximum}")
        return value

    return parse


def optional_whole(minimum: int) -> Parser:
    """Unset (None or empty): None; else a whole number of ``minimum`` or more."""
    check = whole(minimum, f"a whole number of {minimum} or more, or unset")

    def parse(settings: BaseSettings, name: str) -> int | None:
        value = settings.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return check(settings, name)

    return parse


def number(minimum: float, above: bool = False, maximum: float | None = None) -> Parser:
    """A finite number of ``minimum`` or more (``above``: more than it), up to ``maximum``."""
    said = f"a number {'above' if above else 'of'} {minimum:g}{'' if above else ' or more'}"
    if maximum is not None:
        said = f"a number from {minimum:g} to {maximum:g}"

    def parse(settings: BaseSettings, name: str) -> float:
        value = _number(settings, name, whole=False)
        if (
            value is None
            or value < minimum
            or (above and value == minimum)
            or (maximum is not None and value > maximum)
        ):
            raise _bad(name, settings, said)
        return float(value)

    return parse


def no_nul(settings: BaseSettings, name: str, text: str) -> str:
    if "\x00" in text:
        raise _bad(name, settings, "text without a NUL character")
    return text


def text(settings: BaseSettings, name: str) -> str:
    value = settings.get(name)
    return no_nul(settings, name, "" if value is None else str(value))


def optional_text(settings: BaseSettings, name: str) -> str | None:
    """Unset: None (the edition's or the code's default); set, even empty, the text."""
    value = settings.get(name)
    return None if value is None else no_nul(settings, name, str(value))


def secret_text(settings: BaseSettings, name: str) -> str | None:
    """As :func:`optional_text`; never shown, in an error or in ``repr``."""
    value = settings.get(name)
    if value is None:
        return None
    if "\x00" in str(value):
        raise _bad(name, settings, "text without a NUL character", secret=True)
    return str(value)


def text_list(settings: BaseSettings, name: str) -> tuple[str, ...]:
    """A list (``-s NAME=a,b``: split on commas), each entry as given."""
    try:
        return tuple(str(v) for v in settings.getlist(name))
    except (TypeError, ValueError):
        raise _bad(name, settings, "a list (a,b,c)") from None


def optional_entries(settings: BaseSettings, name: str) -> tuple[str, ...] | None:
    """Unset: None; else the list's entries, stripped, empty ones left out (empty: none)."""
    if settings.get(name) is None:
        return None
    return tuple(v.strip() for v in text_list(settings, name) if v.strip())


def _mapping(settings: BaseSettings, name: str, secret: bool = False) -> dict[Any, Any]:
    try:
        return dict(settings.getdict(name))
    except (TypeError, ValueError, RecursionError):  # json.JSONDecodeError is a ValueError
        raise _bad(name, settings, 'a JSON object such as {"key": "value"}', secret) from None


def secret_mapping(settings: BaseSettings, name: str) -> Mapping[str, Any]:
    """A JSON object whose values may be secret (a chat id, a token): never shown."""
    return MappingProxyType({str(k): v for k, v in _mapping(settings, name, True).items()})


def shares(settings: BaseSettings, name: str) -> Mapping[str, float]:
    """A JSON object of field names to shares from 0 to 1 (``{"summary": 0.5}``)."""
    found: dict[str, float] = {}
    for key, value in _mapping(settings, name).items():
        share = None if isinstance(value, bool) else value
        if isinstance(share, str):
            try:
                share = float(share)
            except ValueError:
                share = None
        if not isinstance(share, int | float) or not 0 <= share <= 1:
            raise ConfigError(
                f"{name}: {shown(key)} must be a share from 0 to 1, not {shown(value)}"
            )
        found[str(key)] = float(share)
    return MappingProxyType(found)


def folder(default: str | None) -> Parser:
    """A folder's path; unset or empty: ``default`` (None: stays None)."""

    def parse(settings: BaseSettings, name: str) -> Path | None:
        value = settings.get(name)
        given = no_nul(settings, name, str(value)) if value not in (None, "") else default
        return None if given is None else Path(given)

    return parse


def warc_prefix(settings: BaseSettings, name: str) -> str:
    """A file name's start: letters, digits, ``. _ -``, no leading dot; empty: ``rfi``."""
    value = text(settings, name) or "rfi"
    if not _WARC_PREFIX.fullmatch(value):
        raise _bad(name, settings, "letters, digits, . _ - (no path separator, no leading dot)")
    return value


def month_pattern(settings: BaseSettings, name: str) -> str:
    """A regular expression with a group ``month`` (a monthly sitemap's YYYYMM): without
    it, the first monthly map of a backfill would raise IndexError mid-crawl."""
    value = text(settings, name)
    try:
        compiled = re.compile(value)
    except re.error as error:
        raise _bad(name, settings, f"a regular expression ({error})") from None
    if "month" not in compiled.groupindex:
        raise _bad(name, settings, "a regular expression with a group (?P<month>...) for YYYYMM")
    return value
