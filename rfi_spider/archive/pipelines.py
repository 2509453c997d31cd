"""Item pipelines: validate against the schema (Spidermon's pipeline), then dedupe and
export in one step (the Scrapy side of ``archive/journal.py``'s crash-safe journal).

Dedupe and export are one pipeline on purpose: under one file lock, an item
is checked against the store, written to both exports, then recorded. The
order of those writes is what makes a crash safe (see ``archive/journal.py``).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DropItem
from scrapy.item import Item
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import deferred_from_coro
from spidermon.contrib.scrapy.pipelines import ItemValidationPipeline
from spidermon.contrib.scrapy.stats import ValidationStatsManager
from spidermon.contrib.validation.messages import MISSING_REQUIRED_FIELD, UNEXPECTED_FIELD
from spidermon.contrib.validation.validator import Validator

from rfi_spider.archive.database_sync import CrawlDatabase
from rfi_spider.archive.journal import (
    LINES,
    ExportJournal,
    describe,
    exported_row,
    stops_exports,
)
from rfi_spider.archive.versions import Version
from rfi_spider.config import RfiSettings
from rfi_spider.item_schema import field_errors, is_valid
from rfi_spider.runtime import from_egg

logger = logging.getLogger(__name__)

# Spidermon's message for a field present but wrong (its own are per kind of check).
INVALID_VALUE = "Invalid value"
# The finish reason of a crawl stopped by a write error (a full, broken or read-only disk).
WRITE_ERROR = "write_error"


class InvalidItem(DropItem):
    """An item that breaks the article schema; ``details`` says how (one line)."""

    def __init__(self, message: str, details: str) -> None:
        super().__init__(message, log_level="DEBUG")
        self.details = details


class ExportStopped(DropItem):
    """An item not exported because a write error stopped the exports (it stays pending)."""


class ArticleSchemaValidator(Validator):
    """Spidermon's validator interface over the project's schema checks
    (:func:`~rfi_spider.item_schema.field_errors`, the rules ``scrapy qa`` applies).

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
        # ``data`` is the item itself (ValidationPipeline makes no copy): its line, kept in
        # LINES, is the one the export writes.
        parsed = LINES.parsed(data)  # the line's JSON, parsed back only when it must be
        if is_valid(parsed):  # the compiled schema: the messages only for an invalid item
            self.details = ""
            return
        errors = field_errors(parsed)
        self.details = "; ".join(str(error) for error in errors)
        for error in errors:
            if error.message == "missing":
                message = MISSING_REQUIRED_FIELD
            elif error.message == "not a field of the item":
                message = UNEXPECTED_FIELD
            else:
                message = INVALID_VALUE
            self._add_errors({error.field: message})


class ValidationStats(ValidationStatsManager):
    """Spidermon's validation stats, each stat's name made once: Spidermon slugifies every
    part of a name at every count (python-slugify, two names an item: about 0.1 ms a page
    in the crawl, issue 26). The names are the same: a few fixed parts, the fixed error
    messages among them (the field of an error is added outside), so the cache stays small.
    """

    def __init__(self, stats: StatsCollector) -> None:
        super().__init__(stats)
        self._names: dict[tuple[str, ...], str] = {}

    def _get_stats_name(self, *names: str) -> str:
        name = self._names.get(names)
        if name is None:
            name = self._names[names] = super()._get_stats_name(*names)
        return name


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
        self.stats = ValidationStats(stats)
        self.crawl_stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidationPipeline:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        """Spidermon's steps (``ItemValidationPipeline.process_item``: the item and its
        fields counted, the errors' stats, the drop) without its deep copy of the item
        (``ItemAdapter.asdict``, about 0.1 ms a page, issue 26): the validator reads the
        item's JSON line, never the copy."""
        self.stats.add_item()
        self.stats.add_fields(len(ItemAdapter(item)))
        ok, errors = self.schema.validate(item)
        if not ok:
            self._add_error_stats(errors)
            self._drop_item(item, errors)
        return item

    def _drop_item(self, item: Any, errors: dict[str, Any]) -> None:
        self.stats.add_dropped_item()
        self.crawl_stats.inc_value("rfi/dropped/invalid")
        url = ItemAdapter(item).get("url")
        logger.warning("invalid item %s not exported: %s", url, self.schema.details)
        raise InvalidItem(f"invalid item {url!r}", self.schema.details)


class ArchivePipeline(ExportJournal):
    """Drops articles already exported (this run or any earlier one) and exports the rest,
    through the crash-safe journal (:class:`~rfi_spider.archive.journal.ExportJournal`:
    the order of writes, and the repairs at start).

    A write error (a full, broken or read-only disk: :func:`stops_exports`) stops
    the exports at once: the JSON line is cut back (``JsonLinesFile.append``), the
    article's file removed, its URL never batched; the error is logged once,
    ``rfi/write_error`` counted, and the spider closed with the finish reason
    ``write_error``. Every later item is dropped untouched (:class:`ExportStopped`,
    left pending for the next run), and nothing more is written but the store's
    record of the lines that did land.
    """

    crawler: Crawler | None = None
    database: CrawlDatabase | None = None  # archive.db (RFI_ARCHIVE_DB)
    database_batch = 0
    database_wait = 60.0
    warc_dir: Path | None = None  # RFI_WARC_DIR, when not <output>/warc

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        config = RfiSettings.of(crawler)
        pipeline = cls(
            config.output_dir,
            config.state_dir,
            crawler.stats,
            config.fsync,
            cache_kib=config.state_cache_kib or None,
            mmap_mib=config.state_mmap_mib,
            batch_size=config.state_batch,
            batch_seconds=config.state_batch_seconds,
        )
        pipeline.crawler = crawler
        if config.archive_db:
            pipeline.database_batch = config.archive_db_batch
            pipeline.database_wait = config.archive_db_wait
            pipeline.warc_dir = config.warc_dir
            crawler.signals.connect(pipeline.close_database, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        self.log_where()
        self.open()
        with self.lock:
            try:
                self.read_back()
            except (OSError, sqlite3.Error) as error:
                if not stops_exports(error):
                    raise
                self.stop(error, close=False)  # the engine is not open yet: CloseSpider
                raise CloseSpider(WRITE_ERROR) from error
            self.clean_up()
        if self.database_batch:  # after items.jsonl's repairs: catches up what it lacks
            self.database = CrawlDatabase(
                self.output_dir,
                self.state_dir,
                self.stats,
                self.database_batch,
                wait=self.database_wait,
                warc_dir=self.warc_dir,
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

    def close_database(self) -> None:
        """The last sync of ``archive.db``, waited for (bounded). On ``spider_closed``,
        after the WARC capture (an extension, connected first) has written its last
        records, so that they are indexed too; at ``close_spider`` without a crawl."""
        if self.database is not None:
            database, self.database = self.database, None
            database.close()

    def close_spider(self) -> None:
        if self.crawler is None:  # the pipeline used on its own: no spider_closed
            self.close_database()
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
                self.batch.append(exported_row(adapter))
                self.batch_urls[url] = Version(adapter["version"], adapter["content_digest"])
                if (
                    len(self.batch) >= self.batch_size
                    or time.monotonic() - self.batch_started >= self.batch_seconds
                ):
                    self.commit()
            except sqlite3.Error as error:  # its line landed: exported, recorded next run
                if not stops_exports(error):
                    raise
                self.stop(error)
        self.stats.inc_value("rfi/exported")
        self.stats.inc_value(f"rfi/exported/source/{adapter['source']}")
        if self.database is not None:
            self.database.exported_one()
        logger.debug("exported %s to %s", url, path)
        return item
