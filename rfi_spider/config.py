"""The project's settings (``RFI_*``), read once, typed and checked: :class:`RfiSettings`.

Every ``RFI_*`` setting of ``rfi_spider/settings.py`` is a field here, with the setting it
comes from and the parser that types and checks it. :meth:`RfiSettings.from_settings`
builds the whole object at start (every command of the project calls it first,
``rfi_spider/cli.py``), so that a bad value (``-s RFI_MAX_ATTEMPTS=0``, a negative size, a
``RFI_QA_MIN_COVERAGE`` that is not JSON) costs one line and exit status 2 before
anything runs, instead of a traceback mid-crawl or a monitor that breaks at the end.

Issue 25 moves the modules' own ``settings.get*`` reads onto this object; until then
they read the same values, which this module has already checked.

"Unset" (``None``) stays ``None`` where the spider puts an edition's default in its
place (``RFI_HOME``, ``RFI_SECTIONS``, ``RFI_FEEDS``, ``RFI_MIRRORS``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from scrapy.settings import BaseSettings

from rfi_spider.runtime import output_dirs

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


def _no_nul(settings: BaseSettings, name: str, text: str) -> str:
    if "\x00" in text:
        raise _bad(name, settings, "text without a NUL character")
    return text


def text(settings: BaseSettings, name: str) -> str:
    value = settings.get(name)
    return _no_nul(settings, name, "" if value is None else str(value))


def optional_text(settings: BaseSettings, name: str) -> str | None:
    """Unset: None (the edition's or the code's default); set, even empty, the text."""
    value = settings.get(name)
    return None if value is None else _no_nul(settings, name, str(value))


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
        given = _no_nul(settings, name, str(value)) if value not in (None, "") else default
        return None if given is None else Path(given)

    return parse


def state_folder(settings: BaseSettings, name: str) -> Path:
    """``RFI_STATE_DIR``, unset: ``<RFI_OUTPUT_DIR>/.state`` (``runtime.output_dirs``)."""
    if settings.get(name):
        _no_nul(settings, name, str(settings.get(name)))
    return output_dirs(settings)[1]


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


def setting(name: str, parse: Parser, secret: bool = False) -> Any:
    """A field read from the setting ``name`` by ``parse``; ``secret``: not in ``repr``."""
    return field(metadata={"setting": name, "parse": parse}, repr=not secret)


@dataclass(frozen=True)
class RfiSettings:
    """Every ``RFI_*`` setting, typed and checked (what each does: ``settings.py``)."""

    # where things go
    output_dir: Path = setting("RFI_OUTPUT_DIR", folder("output"))
    state_dir: Path = setting("RFI_STATE_DIR", state_folder)
    fsync: bool = setting("RFI_FSYNC", boolean)
    # sources
    home: str | None = setting("RFI_HOME", optional_text)
    sections: tuple[str, ...] | None = setting("RFI_SECTIONS", optional_entries)
    feeds: tuple[str, ...] | None = setting("RFI_FEEDS", optional_entries)
    sitemaps: bool = setting("RFI_SITEMAPS", boolean)
    sitemap_news: tuple[str, ...] = setting("RFI_SITEMAP_NEWS", text_list)
    sitemap_contents: str = setting("RFI_SITEMAP_CONTENTS", month_pattern)
    sitemap_skip: tuple[str, ...] = setting("RFI_SITEMAP_SKIP", text_list)
    sitemap_max_bytes: int = setting("RFI_SITEMAP_MAX_BYTES", whole(1))
    sitemap_max_children: int = setting(
        "RFI_SITEMAP_MAX_CHILDREN", whole(0, "a whole number, 0 (no limit) or more")
    )
    backfill_archive: bool = setting("RFI_BACKFILL_ARCHIVE", boolean)
    archive_url: str | None = setting("RFI_ARCHIVE_URL", optional_text)
    listing_depth: int = setting("RFI_LISTING_DEPTH", whole(0))
    max_backfill_days: int = setting("RFI_MAX_BACKFILL_DAYS", whole(0))
    mirrors: tuple[str, ...] | None = setting("RFI_MIRRORS", optional_entries)
    mirror_max_entries: int = setting("RFI_MIRROR_MAX_ENTRIES", whole(0))
    mirror_max_bytes: int = setting("RFI_MIRROR_MAX_BYTES", whole(1))
    # scheduling and resume
    article_window: int = setting("RFI_ARTICLE_WINDOW", whole(1))
    extract_workers: int | None = setting("RFI_EXTRACT_WORKERS", optional_whole(0))
    # several machines
    crawl_id: str | None = setting("RFI_CRAWL_ID", optional_text)
    node_id: str | None = setting("RFI_NODE_ID", optional_text)
    redis_prefix: str = setting("RFI_REDIS_PREFIX", text)
    redis_lease_seconds: float = setting("RFI_REDIS_LEASE_SECONDS", number(0, above=True))
    redis_timeout: float = setting("RFI_REDIS_TIMEOUT", number(0, above=True))
    # politeness, blocks and the browser
    contact_url: str = setting("RFI_CONTACT_URL", text)
    backoff_start: float = setting("RFI_BACKOFF_START", number(0))
    backoff_factor: float = setting("RFI_BACKOFF_FACTOR", number(0))
    backoff_max_delay: float = setting("RFI_BACKOFF_MAX_DELAY", number(0))
    retry_after_max: float = setting("RFI_RETRY_AFTER_MAX", number(0))
    browser_path: str = setting("RFI_BROWSER_PATH", text)
    browser_args: tuple[str, ...] = setting("RFI_BROWSER_ARGS", text_list)
    browser_timeout: float = setting("RFI_BROWSER_TIMEOUT", number(0, above=True))
    browser_context_pages: int = setting("RFI_BROWSER_CONTEXT_PAGES", whole(0))
    browser_allowed_hosts: tuple[str, ...] = setting("RFI_BROWSER_ALLOWED_HOSTS", text_list)
    # the state store
    state_cache_kib: int = setting("RFI_STATE_CACHE_KIB", whole(0))
    state_mmap_mib: int = setting("RFI_STATE_MMAP_MIB", whole(0))
    state_batch: int = setting("RFI_STATE_BATCH", whole(1))
    state_batch_seconds: float = setting("RFI_STATE_BATCH_SECONDS", number(0))
    archive_db: bool = setting("RFI_ARCHIVE_DB", boolean)
    archive_db_batch: int = setting("RFI_ARCHIVE_DB_BATCH", whole(1))
    archive_db_wait: float = setting("RFI_ARCHIVE_DB_WAIT", number(0))
    # failed articles
    max_attempts: int = setting("RFI_MAX_ATTEMPTS", whole(1))
    # revisits
    revisit_days: float = setting("RFI_REVISIT_DAYS", number(0))
    revisit_every: float = setting("RFI_REVISIT_EVERY", number(0))
    revisit_max: int = setting("RFI_REVISIT_MAX", whole(0))
    # WARC
    warc: bool = setting("RFI_WARC", boolean)
    warc_dir: Path | None = setting("RFI_WARC_DIR", folder(None))
    warc_prefix: str = setting("RFI_WARC_PREFIX", warc_prefix)
    warc_max_size: int = setting(
        "RFI_WARC_MAX_SIZE",
        whole(MIN_WARC_MAX_SIZE, f"a whole number of bytes of {MIN_WARC_MAX_SIZE} (1 MiB) or more"),
    )
    warc_gzip_level: int = setting("RFI_WARC_GZIP_LEVEL", whole_between(0, 9))
    warc_replay: tuple[str, ...] = setting("RFI_WARC_REPLAY", text_list)
    warc_replay_site: str | None = setting("RFI_WARC_REPLAY_SITE", optional_text)
    warc_replay_hosts: tuple[str, ...] = setting("RFI_WARC_REPLAY_HOSTS", text_list)
    # the Atom feed
    atom_title: str | None = setting("RFI_ATOM_TITLE", optional_text)
    atom_self_url: str | None = setting("RFI_ATOM_SELF_URL", optional_text)
    atom_id: str | None = setting("RFI_ATOM_ID", optional_text)
    atom_latest: int = setting("RFI_ATOM_LATEST", whole(1))
    # quality checks and alerts
    blocked_close_minutes: float = setting("RFI_BLOCKED_CLOSE_MINUTES", number(0))
    qa_min_items: int = setting("RFI_QA_MIN_ITEMS", whole(0))
    qa_min_coverage: Mapping[str, float] = setting("RFI_QA_MIN_COVERAGE", shares)
    qa_coverage_min_items: int = setting("RFI_QA_COVERAGE_MIN_ITEMS", whole(0))
    qa_max_blocked_share: float = setting("RFI_QA_MAX_BLOCKED_SHARE", number(0, maximum=1))
    qa_max_sitemap_missing: float = setting("RFI_QA_MAX_SITEMAP_MISSING", number(0, maximum=1))
    qa_max_line_bytes: int = setting(
        "RFI_QA_MAX_LINE_BYTES", whole(1, "a whole number of bytes above 0")
    )
    alert_webhook_url: str | None = setting("RFI_ALERT_WEBHOOK_URL", secret_text, secret=True)
    alert_webhook_extra: Mapping[str, Any] = setting(
        "RFI_ALERT_WEBHOOK_EXTRA", secret_mapping, secret=True
    )
    alert_actions: tuple[str, ...] = setting("RFI_ALERT_ACTIONS", text_list)
    alert_timeout: float = setting("RFI_ALERT_TIMEOUT", number(0, above=True))
    # exit status
    failed_finish_reasons: tuple[str, ...] = setting("RFI_FAILED_FINISH_REASONS", text_list)

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RfiSettings:
        """Read and check every ``RFI_*`` setting: :class:`ConfigError` for the first bad one."""
        return cls(
            **{f.name: f.metadata["parse"](settings, f.metadata["setting"]) for f in fields(cls)}
        )

    @classmethod
    def setting_names(cls) -> list[str]:
        """The settings this object reads, in its order."""
        return [f.metadata["setting"] for f in fields(cls)]
