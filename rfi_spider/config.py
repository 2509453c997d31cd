"""The project's settings (``RFI_*``), read once, typed and checked: :class:`RfiSettings`.

Every ``RFI_*`` setting of ``rfi_spider/settings.py`` is a field here, with the setting it
comes from and the parser that types and checks it. :meth:`RfiSettings.from_settings`
builds the whole object at start (every command of the project calls it first,
``rfi_spider/cli.py``), so that a bad value (``-s RFI_MAX_ATTEMPTS=0``, a negative size, a
``RFI_QA_MIN_COVERAGE`` that is not JSON) costs one line and exit status 2 before
anything runs, instead of a traceback mid-crawl or a monitor that breaks at the end.

No other module reads an ``RFI_*`` setting (``tests/test_config.py`` checks it): a crawl's
spider, extensions, middlewares, pipelines and add-ons take their values from
:meth:`RfiSettings.of`, one object per crawler, built at the first call (the spider's
``from_crawler``, once its arguments have set what they set: the ``from_warc`` replay's
settings, the demo's sections) and cached; the commands build theirs with
:meth:`RfiSettings.from_settings`.

"Unset" (``None``) stays ``None`` where an edition's default takes its place
(``RFI_HOME``, ``RFI_SECTIONS``, ``RFI_FEEDS``, ``RFI_MIRRORS``, ``RFI_ARCHIVE_URL``):
the ``*_of`` methods (:meth:`RfiSettings.home_of`...) are the one place that rule lives.
"""

from __future__ import annotations

import json
import os
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.settings import BaseSettings, get_settings_priority

from rfi_spider.runtime import STATE_DIR, default_output_dir
from rfi_spider.setting_types import (
    MIN_WARC_MAX_SIZE,
    Parser,
    boolean,
    folder,
    month_pattern,
    no_nul,
    number,
    optional_entries,
    optional_text,
    optional_whole,
    secret_mapping,
    secret_text,
    shares,
    text,
    text_list,
    warc_prefix,
    whole,
    whole_between,
)
from rfi_spider.setting_types import ConfigError as ConfigError

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from rfi_spider.editions import Edition


def state_folder(settings: BaseSettings, name: str) -> Path:
    """``RFI_STATE_DIR``, unset: ``<RFI_OUTPUT_DIR>/.state`` (``runtime.STATE_DIR``)."""
    state = settings.get(name)
    if state:
        return Path(no_nul(settings, name, str(state)))
    return Path(settings.get("RFI_OUTPUT_DIR") or "output") / STATE_DIR


def set_edition_output_dir(settings: BaseSettings, edition_folder: str) -> None:
    """An edition's own default output folder (``output-tw``): unless ``RFI_OUTPUT_DIR``
    is given (``-s``, a spider's or the command line's setting, or the environment), that
    is, while it is still the project's default. Called by the spider's
    ``update_settings``, before the crawler's settings are read."""
    name = "RFI_OUTPUT_DIR"
    if (
        edition_folder != "output"
        and not os.environ.get(name)
        and settings.get(name) == default_output_dir()
        and (settings.getpriority(name) or 0) <= get_settings_priority("project")
    ):
        settings.set(name, default_output_dir(edition_folder), priority="spider")


# The settings that choose where a distributed crawl starts: its nodes must agree on them.
_SHARED_START = ("RFI_HOME", "RFI_SECTIONS", "RFI_FEEDS", "RFI_ARCHIVE_URL", "RFI_LISTING_DEPTH")


def shared_start(settings: BaseSettings) -> dict[str, str]:
    """Where a distributed crawl starts, each setting as given (JSON), for the nodes of
    one crawl to compare (``crawl/distributed/config.py``): the values as written, as a
    crawl recorded them in Redis before this object existed."""
    return {
        name: json.dumps(settings.get(name), ensure_ascii=False, default=str)
        for name in _SHARED_START
    }


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
    def of(cls, crawler: Crawler) -> RfiSettings:
        """``crawler``'s settings, built once (at the first call) and cached for it.

        The spider calls it first, in its ``from_crawler``, once its arguments have set
        the settings they set (``from_warc``, ``demo``); the add-ons, extensions,
        middlewares and pipelines Scrapy builds after the spider get the same object.
        """
        found = _BUILT.get(crawler)
        if found is None:
            found = _BUILT[crawler] = cls.from_settings(crawler.settings)
        return found

    @classmethod
    def for_addon(cls, crawler: Crawler | None, settings: BaseSettings) -> RfiSettings:
        """An add-on's (``update_settings(settings)``): its crawler's object, or, for an
        add-on built without one, ``settings`` read."""
        return cls.of(crawler) if crawler is not None else cls.from_settings(settings)

    # --- unset means the edition's default: the one place that rule lives ---------------
    def home_of(self, edition: Edition) -> str:
        """The home listing's path: ``RFI_HOME``, or the edition's (empty: none)."""
        return edition.home if self.home is None else self.home

    def sections_of(self, edition: Edition) -> list[str]:
        """The sections and columns walked: ``RFI_SECTIONS``, or the edition's."""
        return list(edition.listings if self.sections is None else self.sections)

    def feeds_of(self, declared: Iterable[str]) -> list[str]:
        """The RSS feeds' paths: ``RFI_FEEDS``, or those the edition's block declares."""
        return list(declared if self.feeds is None else self.feeds)

    def mirrors_of(self, edition: Edition) -> list[str]:
        """The feed mirrors: ``RFI_MIRRORS``, or the edition's (``-a mirrors=`` wins)."""
        return list(edition.mirrors if self.mirrors is None else self.mirrors)

    def archive_url_of(self, edition: Edition) -> str:
        """The daily archive's path pattern: ``RFI_ARCHIVE_URL``, or the edition's."""
        return edition.archive_url if self.archive_url is None else self.archive_url

    @property
    def archive_days_limit(self) -> int:
        """The longest backfill: ``RFI_MAX_BACKFILL_DAYS`` when it walks the daily archive
        (one request a day); none (0) through the sitemaps (one map a month)."""
        return self.max_backfill_days if self.backfill_archive else 0

    @classmethod
    def setting_names(cls) -> list[str]:
        """The settings this object reads, in its order."""
        return [f.metadata["setting"] for f in fields(cls)]


# crawler -> its RfiSettings (RfiSettings.of); gone with the crawler.
_BUILT: weakref.WeakKeyDictionary[Crawler, RfiSettings] = weakref.WeakKeyDictionary()
