"""Item pipelines: validate against the schema (Spidermon's pipeline), then dedupe and
export in one step.

Dedupe and export are one pipeline on purpose: under one file lock, an item
is checked against the store, written to both exports, then recorded. The
order of those writes is what makes a crash safe (see ``ArchivePipeline``).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DropItem
from scrapy.item import Item
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import deferred_from_coro
from spidermon.contrib.scrapy.pipelines import ItemValidationPipeline
from spidermon.contrib.validation.messages import MISSING_REQUIRED_FIELD, UNEXPECTED_FIELD
from spidermon.contrib.validation.validator import Validator

from rfi_spider.archive import seedfile
from rfi_spider.archive.database import CrawlDatabase
from rfi_spider.archive.exporters import (
    IntentLog,
    JsonLinesFile,
    SeedFiles,
    is_write_error,
    iter_lines_from,
    repair_torn_tail,
    seed_file_name,
    serialize_line,
)
from rfi_spider.archive.state import (
    STATE_FILE,
    Checked,
    Exported,
    ExportLock,
    SeenStore,
    output_dirs,
)
from rfi_spider.archive.versions import (
    Version,
    content_digest,
    line_version,
    version_of_name,
    versioned_name,
)
from rfi_spider.dates import to_ms
from rfi_spider.extract.loaders import SITE_SOURCE
from rfi_spider.quality.schema import field_errors
from rfi_spider.runtime import from_egg

logger = logging.getLogger(__name__)

# For the crash tests only: "<step>:<n>" ends the process (os._exit, as a kill -9 would)
# right after <step> of the n-th export of the run: "intent", "file", "line" or
# "store" (the URL in the batch, committed or not); "torn:<n>" writes the first half
# of the n-th JSON line, then ends it.
CRASH_AT = os.environ.get("RFI_TEST_CRASH_AT", "")
CRASH_EXIT_STATUS = 86

# Spidermon's message for a field present but wrong (its own are per kind of check).
INVALID_VALUE = "Invalid value"
# The finish reason of a crawl stopped by a write error (a full, broken or read-only disk).
WRITE_ERROR = "write_error"
# SQLite's primary result codes that mean the same for the store: full, I/O error, read-only.
_SQLITE_WRITE_ERRORS = frozenset(
    {sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY}
)


class InvalidItem(DropItem):
    """An item that breaks the article schema; ``details`` says how (one line)."""

    def __init__(self, message: str, details: str) -> None:
        super().__init__(message, log_level="DEBUG")
        self.details = details


class ExportStopped(DropItem):
    """An item not exported because a write error stopped the exports (it stays pending)."""


def stops_exports(error: BaseException) -> bool:
    """A write error of the export path: ENOSPC, EDQUOT, EIO or EROFS, or SQLite's
    full, I/O or read-only errors from the store."""
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        return code is not None and (code & 0xFF) in _SQLITE_WRITE_ERRORS
    return is_write_error(error)


def describe(error: BaseException) -> str:
    """One line naming the file and the error (errno or SQLite's code)."""
    if isinstance(error, sqlite3.Error):
        return f"the state store: {error} ({getattr(error, 'sqlite_errorname', 'SQLITE_ERROR')})"
    return str(error)  # "[Errno 28] No space left on device: '<path>'"


class ArticleSchemaValidator(Validator):
    """Spidermon's validator interface over the project's schema checks
    (:func:`~rfi_spider.quality.schema.field_errors`, the rules ``scrapy qa`` applies).

    It validates the item's JSON line exactly as it would be exported (internal fields
    such as ``mirror_entry`` are not part of it). Errors go to Spidermon per field with
    one of a few fixed messages, so its stats stay few; :attr:`details` keeps the full
    text of the last item's errors for the log.
    """

    name = "ArticleSchema"

    def __init__(self) -> None:
        super().__init__(use_default_translator=False)
        self.details = ""

    def _validate(self, data: Any, strict: bool = True) -> None:
        errors = field_errors(json.loads(serialize_line(data)))
        self.details = "; ".join(str(error) for error in errors)
        for error in errors:
            if error.message == "missing":
                message = MISSING_REQUIRED_FIELD
            elif error.message == "not a field of the item":
                message = UNEXPECTED_FIELD
            else:
                message = INVALID_VALUE
            self._add_errors({error.field: message})


class ValidationPipeline(ItemValidationPipeline):
    """Spidermon's item validation pipeline with the article schema; invalid items dropped.

    Spidermon's stats count the items validated and those with errors
    (``spidermon/validation/items``, ``…/items/errors``, ``…/items/dropped``) and the errors
    per message and field (``spidermon/validation/fields/errors/<message>/<field>``), which
    the "validation" monitor reads. Each dropped item also counts in ``rfi/dropped/invalid``
    (the crawl summary's dropped items), and a warning names its URL and what is wrong.
    Dropped items are not recorded as exported, so a later run (with the cause fixed)
    fetches them again. Unlike Spidermon's own pipeline it runs with Spidermon off too.
    """

    def __init__(self, stats: StatsCollector) -> None:
        self.schema = ArticleSchemaValidator()
        super().__init__(
            validators={Item.__name__: [self.schema]}, stats=stats, drop_items_with_errors=True
        )
        self.crawl_stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidationPipeline:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        return super().process_item(item)

    def _drop_item(self, item: Any, errors: dict[str, Any]) -> None:
        self.stats.add_dropped_item()
        self.crawl_stats.inc_value("rfi/dropped/invalid")
        url = ItemAdapter(item).get("url")
        logger.warning("invalid item %s not exported: %s", url, self.schema.details)
        raise InvalidItem(f"invalid item {url!r}", self.schema.details)


def seed_record(adapter: ItemAdapter) -> seedfile.SeedRecord:
    """The seed-style file of an item: the mirror's entry as sent, else the site fields."""
    entry = adapter.get("mirror_entry")
    if entry:
        return seedfile.SeedRecord(
            ms=entry["ms"],
            title=entry["title"],
            url=seedfile.whatwg_url(entry["link"]),
            html=seedfile.join_lines(entry["html"]),
        )
    return seedfile.SeedRecord(
        ms=to_ms(adapter["published_at"]),
        title=adapter["title"],
        url=adapter["url"],
        html=seedfile.site_html(adapter.asdict()),
    )


class ArchivePipeline:
    """Drops articles already exported (this run or any earlier one) and exports the rest.

    Order of writes for one article, all under the export lock:

    0. the intent: the file's path, one line appended to ``<state>/intents.log``;
    1. the seed-style file, atomically (temporary file + rename);
    2. the JSON line, in one append;
    3. the URL into the store, with the JSON Lines size: recorded in batches of
       ``RFI_STATE_BATCH`` exports (or every ``RFI_STATE_BATCH_SECONDS``), one
       transaction each. A batch not yet committed is only lines the store does
       not know yet, exactly what a crash between 2 and 3 leaves.

    Two jobs sharing the state: before each export, still under the lock, a job
    whose ``items.jsonl`` grew since its own last write reads the new lines (the
    other job's exports, recorded or not) into its batch, so it never exports an
    article again that the other job has not recorded yet.

    At start, under the lock: a torn last JSON line is moved aside; the lines
    after the size the store last recorded are read back and recorded
    (:meth:`reconcile`: a crash between 2 and 3); then every intent whose URL the
    store still does not know is an export that never reached 2, and its file,
    if 1 happened, is deleted (:meth:`settle_intents`: the article, still pending,
    is exported again, maybe at another path). So whatever the moment of a kill,
    each article ends in ``items.jsonl`` once, with one complete file.

    A write error (a full, broken or read-only disk: :func:`stops_exports`) stops
    the exports at once: the JSON line is cut back (``JsonLinesFile.append``), the
    article's file removed, its URL never batched; the error is logged once,
    ``rfi/write_error`` counted, and the spider closed with the finish reason
    ``write_error``. Every later item is dropped untouched (:class:`ExportStopped`,
    left pending for the next run), and nothing more is written but the store's
    record of the lines that did land.
    """

    def __init__(
        self,
        output_dir: Path,
        state_dir: Path,
        stats: StatsCollector,
        fsync: bool,
        cache_kib: int | None = None,
        mmap_mib: int = 0,
        batch_size: int = 1,
        batch_seconds: float = 0.0,
    ) -> None:
        self.output_dir = output_dir
        self.cache_kib = cache_kib
        self.mmap_mib = mmap_mib
        self.batch_size = max(1, batch_size)
        self.batch_seconds = batch_seconds
        # Exported lines the store does not know yet, and the latest version of each URL.
        self.batch: list[Exported] = []
        self.batch_urls: dict[str, Version] = {}
        # Revisits that found the latest version unchanged, recorded with the next batch.
        self.checked: list[Checked] = []
        self.batch_started = 0.0
        self.known_size = 0  # items.jsonl's bytes whose URLs are in the store or the batch
        self.state_dir = state_dir
        self.stats = stats
        self.fsync = fsync
        self.jsonl_path = output_dir / "items.jsonl"
        self.offset_key = f"jsonl_size:{self.jsonl_path.resolve()}"
        self.exports_started = 0
        self.crawler: Crawler | None = None
        # The write error that stopped the exports, and whether the store raised it.
        self.stopped: BaseException | None = None
        self.store_failed = False
        self.database: CrawlDatabase | None = None  # archive.db (RFI_ARCHIVE_DB)
        self.database_batch = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        settings = crawler.settings
        output_dir, state_dir = output_dirs(settings)
        pipeline = cls(
            output_dir,
            state_dir,
            crawler.stats,
            settings.getbool("RFI_FSYNC"),
            cache_kib=settings.getint("RFI_STATE_CACHE_KIB") or None,
            mmap_mib=settings.getint("RFI_STATE_MMAP_MIB"),
            batch_size=settings.getint("RFI_STATE_BATCH"),
            batch_seconds=settings.getfloat("RFI_STATE_BATCH_SECONDS"),
        )
        pipeline.crawler = crawler
        if settings.getbool("RFI_ARCHIVE_DB"):
            pipeline.database_batch = settings.getint("RFI_ARCHIVE_DB_BATCH")
        return pipeline

    def open_spider(self) -> None:
        self.log_where()
        self.store = SeenStore(
            self.state_dir / STATE_FILE, cache_kib=self.cache_kib, mmap_mib=self.mmap_mib
        )
        self.lock = ExportLock(self.state_dir / "export.lock")
        self.files = SeedFiles(self.output_dir / "articles", fsync=self.fsync)
        self.intents = IntentLog(self.state_dir / "intents.log", fsync=self.fsync)
        with self.lock:
            try:
                self.move_torn_line_aside()
                self.jsonl = JsonLinesFile(self.jsonl_path, fsync=self.fsync)
                self.reconcile()
            except (OSError, sqlite3.Error) as error:
                if not stops_exports(error):
                    raise
                self.stop(error, close=False)  # the engine is not open yet: CloseSpider
                raise CloseSpider(WRITE_ERROR) from error
            self.settle_intents()
            removed = self.files.remove_leftovers()
            if removed:
                logger.warning("removed %d temporary file(s) left by a killed run", removed)
                self.stats.inc_value("rfi/repaired/temporary_files", removed)
        if self.database_batch:  # after items.jsonl's repairs: catches up what it lacks
            self.database = CrawlDatabase(
                self.output_dir, self.state_dir, self.stats, self.database_batch
            )

    def log_where(self) -> None:
        """Say where this job writes; warn about a relative folder under Scrapyd."""
        logger.info(
            "exports go to %s, the state to %s", self.output_dir.resolve(), self.state_dir.resolve()
        )
        if not from_egg():
            return
        for name, path in (("RFI_OUTPUT_DIR", self.output_dir), ("RFI_STATE_DIR", self.state_dir)):
            if not path.is_absolute():
                logger.warning(
                    "%s=%s is relative to Scrapyd's working directory %s: set an absolute path",
                    name,
                    path,
                    Path.cwd(),
                )
                self.stats.inc_value("rfi/config/relative_dir")

    def reconcile(self) -> None:
        """Record the URLs of JSON lines written after the store's last commit."""
        size = self.jsonl.size()
        recorded = int(self.store.get_meta(self.offset_key) or 0)
        if recorded > size:
            logger.warning(
                "items.jsonl is shorter than the state remembers (%d < %d bytes): was it "
                "replaced? Articles already in the state will not be exported again.",
                size,
                recorded,
            )
            recorded = 0
        if self.store.get_meta(self.versions_key) is None:
            # A state older than versions: each line's version and digest, read once.
            recorded = 0
        if recorded < size:
            added = self.store.add_many(self.exported_rows(recorded))
            if added:
                logger.warning("recorded %d exported article(s) the state had missed", added)
                self.stats.inc_value("rfi/repaired/state_entries", added)
        self.store.set_meta(self.offset_key, str(size))
        self.store.set_meta(self.versions_key, "1")
        self.known_size = size

    def catch_up(self) -> None:
        """Put into the batch the lines another job appended since this one last wrote."""
        size = self.jsonl.size()
        if size == self.known_size:
            return
        if size > self.known_size:
            rows = self.exported_rows(self.known_size)
            self.batch.extend(rows)
            for row in rows:
                self.batch_urls[row.url] = Version(row.version, row.digest)
            self.stats.inc_value("rfi/state/lines_of_other_jobs", len(rows))
        self.move_torn_line_aside()  # another job, killed mid-write
        self.known_size = self.jsonl.size()

    @property
    def versions_key(self) -> str:
        """The meta key saying the store holds the versions of every line of items.jsonl."""
        return f"versions_read:{self.jsonl_path.resolve()}"

    def exported_rows(self, offset: int) -> list[Exported]:
        """The versions of the JSON lines after byte ``offset`` of ``items.jsonl``."""
        rows = []
        for line in iter_lines_from(self.jsonl_path, offset):
            url = line.get("url")
            if not isinstance(url, str):
                continue
            version = line_version(line)
            rows.append(
                Exported(
                    url,
                    line.get("source") or "",
                    version.number,
                    version.digest,
                    _text(line.get("published_at")),
                    _text(line.get("crawled_at")),
                )
            )
        return rows

    def move_torn_line_aside(self) -> None:
        """A last JSON line a killed run or job left half-written goes aside, with a warning."""
        aside = repair_torn_tail(self.jsonl_path)
        if aside:
            logger.warning("items.jsonl ended in a torn line (a killed run): moved it to %s", aside)
            self.stats.inc_value("rfi/repaired/torn_jsonl_line")

    def commit(self) -> None:
        """Record the batch in the store, with the JSON Lines size it covers."""
        self.store.add_many(
            self.batch, at_least={self.offset_key: self.known_size}, checked=self.checked
        )
        self.batch.clear()
        self.batch_urls.clear()
        self.checked.clear()

    def settle_intents(self) -> None:
        """Delete the files of exports a killed run left before their JSON line."""
        root = self.files.root.resolve()
        for url, relative in self.intents.entries():
            if self.store.has_version(url, version_of_name(relative)):
                continue  # its JSON line is in items.jsonl: the file is its own
            target = (root / relative).resolve()
            if target.parent.is_relative_to(root) and target.is_file():
                target.unlink()
                self.stats.inc_value("rfi/repaired/unfinished_export")
                logger.warning(
                    "removed %s: a killed run wrote it for %s and never exported that"
                    " article (it is exported again when found)",
                    target,
                    url,
                )
        self.intents.clear()

    def stop(self, error: BaseException, close: bool = True) -> None:
        """The first write error: log it, count it, and close the spider (``write_error``)."""
        self.stopped = error
        self.store_failed = isinstance(error, sqlite3.Error)
        self.stats.inc_value("rfi/write_error")
        logger.error(
            "write error, crawl stopped: %s. Nothing unwritten is recorded as exported;"
            " free space (or fix the disk) and run again: the next run repairs and goes on",
            describe(error),
        )
        if not close or self.crawler is None:
            return
        try:
            engine = self.crawler.engine
        except RuntimeError:  # no crawl is running: the pipeline is used on its own
            return
        deferred_from_coro(engine.close_spider_async(reason=WRITE_ERROR))

    def close_spider(self) -> None:
        if self.database is not None:
            self.database.close()
        if not hasattr(self, "jsonl"):  # open_spider stopped on a write error
            self.intents.close()
            self.lock.close()
            self.store.close()
            return
        with self.lock:  # no export is under way: every intent is settled
            if not self.stopped:
                self.catch_up()
            if not self.store_failed:  # the lines that did land, once more if it failed
                try:
                    self.commit()
                except sqlite3.Error as error:
                    if not stops_exports(error):
                        raise
                    logger.warning(
                        "could not record %d exported article(s) in the state (%s): the next"
                        " run records them from items.jsonl",
                        len(self.batch),
                        describe(error),
                    )
            self.intents.clear()
        self.intents.close()
        self.jsonl.close()
        self.lock.close()
        self.store.close()

    def latest(self, url: str) -> Version | None:
        """The latest version of ``url``: this job's batch, else the store's."""
        return self.batch_urls.get(url) or self.store.latest(url)

    def next_version(self, item: Any, adapter: ItemAdapter, url: str) -> int:
        """Set the item's ``version``, ``content_digest`` and ``previous_digest`` and
        return its version; DropItem when it is no new version.

        An article already exported is dropped as a duplicate (``rfi/duplicates``), as
        before versions existed, unless the item comes from a revisit of the site's
        page (``revisit``, set by ``crawl/revisits.py``): then the same digest is no
        new version (``rfi/versions/unchanged``, the check recorded) and another one
        is the next version (``rfi/versions/changed``).
        """
        digest = content_digest(adapter)
        latest = self.latest(url)
        adapter["content_digest"] = digest
        if latest is None:
            adapter["version"], adapter["previous_digest"] = 1, None
            return 1
        revisit = bool(adapter.get("revisit")) and adapter.get("source") == SITE_SOURCE
        if not revisit or not latest.digest:
            self.stats.inc_value("rfi/duplicates")
            raise DropItem(f"already exported: {url}", log_level="DEBUG")
        if latest.digest == digest:
            crawled_at = _text(adapter.get("crawled_at"))
            if crawled_at:
                etag, last_modified = adapter.get("validators") or (None, None)
                published_at = _text(adapter.get("published_at"))
                self.checked.append(Checked(url, crawled_at, published_at, etag, last_modified))
            self.stats.inc_value("rfi/versions/unchanged")
            raise DropItem(f"unchanged since version {latest.number}: {url}", log_level="DEBUG")
        self.stats.inc_value("rfi/versions/changed")
        logger.info("%s changed: version %d", url, latest.number + 1)
        adapter["version"], adapter["previous_digest"] = latest.number + 1, latest.digest
        return latest.number + 1

    def crash_point(self, step: str) -> None:
        """``RFI_TEST_CRASH_AT`` (crash tests): end the process after ``step``."""
        if CRASH_AT and f"{step}:{self.exports_started}" == CRASH_AT:
            os._exit(CRASH_EXIT_STATUS)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        url = adapter["url"]
        if self.stopped:
            self.stats.inc_value("rfi/dropped/write_error")
            raise ExportStopped(f"not exported (write error): {url}", log_level="DEBUG")
        with self.lock:
            try:
                path = self.export(item, adapter, url)
            except (OSError, sqlite3.Error) as error:
                if not stops_exports(error):
                    raise
                self.stop(error)
                self.stats.inc_value("rfi/dropped/write_error")
                raise ExportStopped(
                    f"not exported (write error): {url}", log_level="DEBUG"
                ) from error
            try:
                if not self.batch:
                    self.batch_started = time.monotonic()
                version = Version(adapter["version"], adapter["content_digest"])
                etag, last_modified = adapter.get("validators") or (None, None)
                self.batch.append(
                    Exported(
                        url,
                        adapter["source"],
                        version.number,
                        version.digest,
                        adapter.get("published_at"),
                        adapter.get("crawled_at"),
                        etag,
                        last_modified,
                    )
                )
                self.batch_urls[url] = version
                if (
                    len(self.batch) >= self.batch_size
                    or time.monotonic() - self.batch_started >= self.batch_seconds
                ):
                    self.commit()
            except sqlite3.Error as error:  # its line landed: exported, recorded next run
                if not stops_exports(error):
                    raise
                self.stop(error)
            self.crash_point("store")
        self.stats.inc_value("rfi/exported")
        self.stats.inc_value(f"rfi/exported/source/{adapter['source']}")
        if self.database is not None:
            self.database.exported_one()
        logger.debug("exported %s to %s", url, path)
        return item

    def export(self, item: Any, adapter: ItemAdapter, url: str) -> Path:
        """Steps 0 to 2 of one export, under the lock; returns the file's path.

        A duplicate raises DropItem. A failed JSON line removes the article's file
        and raises: nothing of the article is then recorded.
        """
        self.catch_up()
        version = self.next_version(item, adapter, url)
        self.exports_started += 1
        published_at = adapter["published_at"]
        name = versioned_name(seed_file_name(url, published_at), version)
        self.intents.record(url, name)
        self.crash_point("intent")
        path = self.files.write_at(name, seed_record(adapter))
        self.crash_point("file")
        line = serialize_line(item)
        if CRASH_AT and f"torn:{self.exports_started}" == CRASH_AT:
            self.jsonl.append(line[: len(line) // 2])
            os._exit(CRASH_EXIT_STATUS)
        try:
            self.known_size = self.jsonl.append(line)
        except OSError:
            path.unlink(missing_ok=True)  # a file without its line is no export
            raise
        self.crash_point("line")
        return path


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
