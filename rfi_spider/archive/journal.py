"""The crash-safe journal of exports: the order of one article's writes (intent, seed-style
file, JSON line, the store in batches) and the repairs at start that make any kill safe.

The Scrapy side (opening at the spider's start, items in, write errors closing the
spider) is ``archive/pipelines.py``'s :class:`~rfi_spider.archive.pipelines.ArchivePipeline`.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from rfi_spider.archive import seedfile
from rfi_spider.archive.exporters import (
    IntentLog,
    JsonLinesFile,
    LastLine,
    SeedFiles,
    is_write_error,
    iter_lines_from,
    repair_torn_tail,
    seed_file_name,
)
from rfi_spider.archive.state import STATE_FILE, ExportLock, SeenStore
from rfi_spider.dates import to_ms

logger = logging.getLogger(__name__)

# The JSON line of the item in the pipelines: validated (pipelines.ArticleSchemaValidator),
# then exported here (one serialisation).
LINES = LastLine()

# SQLite's primary result codes that mean the same for the store: full, I/O error, read-only.
_SQLITE_WRITE_ERRORS = frozenset(
    {sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY}
)


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


class ExportJournal:
    """The crash-safe journal of exports: which articles are exported, and the writes of one.

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
    """

    store: SeenStore
    lock: ExportLock
    files: SeedFiles
    intents: IntentLog
    jsonl: JsonLinesFile

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
        # Exported lines (url, source) the store does not know yet, and their URLs.
        self.batch: list[tuple[str, str]] = []
        self.batch_urls: set[str] = set()
        self.batch_started = 0.0
        self.known_size = 0  # items.jsonl's bytes whose URLs are in the store or the batch
        self.state_dir = state_dir
        self.stats = stats
        self.fsync = fsync
        self.jsonl_path = output_dir / "items.jsonl"
        self.offset_key = f"jsonl_size:{self.jsonl_path.resolve()}"
        self.exports_started = 0
        # The write error that stopped the exports, and whether the store raised it.
        self.stopped: BaseException | None = None
        self.store_failed = False

    def open(self) -> None:
        """Open the store, the lock, the seed-style files and the intent log."""
        self.store = SeenStore(
            self.state_dir / STATE_FILE, cache_kib=self.cache_kib, mmap_mib=self.mmap_mib
        )
        self.lock = ExportLock(self.state_dir / "export.lock")
        self.files = SeedFiles(self.output_dir / "articles", fsync=self.fsync)
        self.intents = IntentLog(self.state_dir / "intents.log", fsync=self.fsync)

    def read_back(self) -> None:
        """At start, under the lock: a torn last line aside, then the JSON lines the store
        missed recorded (a write error here is raised: the exports cannot start)."""
        self.move_torn_line_aside()
        self.jsonl = JsonLinesFile(self.jsonl_path, fsync=self.fsync)
        self.reconcile()

    def clean_up(self) -> None:
        """At start, under the lock, after :meth:`read_back`: the files of unfinished
        exports and the temporary files a killed run left are deleted."""
        self.settle_intents()
        removed = self.files.remove_leftovers()
        if removed:
            logger.warning("removed %d temporary file(s) left by a killed run", removed)
            self.stats.inc_value("rfi/repaired/temporary_files", removed)

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
        if recorded < size:
            added = self.store.add_many(self.exported_rows(recorded))
            if added:
                logger.warning("recorded %d exported article(s) the state had missed", added)
                self.stats.inc_value("rfi/repaired/state_entries", added)
        self.store.set_meta(self.offset_key, str(size))
        self.known_size = size

    def catch_up(self) -> None:
        """Put into the batch the lines another job appended since this one last wrote."""
        size = self.jsonl.size()
        if size == self.known_size:
            return
        if size > self.known_size:
            rows = self.exported_rows(self.known_size)
            self.batch.extend(rows)
            self.batch_urls.update(url for url, _ in rows)
            self.stats.inc_value("rfi/state/lines_of_other_jobs", len(rows))
        self.move_torn_line_aside()  # another job, killed mid-write
        self.known_size = self.jsonl.size()

    def exported_rows(self, offset: int) -> list[tuple[str, str]]:
        """``(url, source)`` of the JSON lines after byte ``offset`` of ``items.jsonl``."""
        return [
            (line["url"], line.get("source") or "")
            for line in iter_lines_from(self.jsonl_path, offset)
            if isinstance(line.get("url"), str)
        ]

    def move_torn_line_aside(self) -> None:
        """A last JSON line a killed run or job left half-written goes aside, with a warning."""
        aside = repair_torn_tail(self.jsonl_path)
        if aside:
            logger.warning("items.jsonl ended in a torn line (a killed run): moved it to %s", aside)
            self.stats.inc_value("rfi/repaired/torn_jsonl_line")

    def commit(self) -> None:
        """Record the batch in the store, with the JSON Lines size it covers."""
        self.store.add_many(self.batch, at_least={self.offset_key: self.known_size})
        self.batch.clear()
        self.batch_urls.clear()

    def settle_intents(self) -> None:
        """Delete the files of exports a killed run left before their JSON line."""
        root = self.files.root.resolve()
        for url, relative in self.intents.entries():
            if url in self.store:  # its JSON line is in items.jsonl: the file is its own
                continue
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

    def export(self, item: Any, adapter: ItemAdapter, url: str) -> Path:
        """Steps 0 to 2 of one export, under the lock; returns the file's path.

        A duplicate raises DropItem. A failed JSON line removes the article's file
        and raises: nothing of the article is then recorded.
        """
        self.catch_up()
        if url in self.batch_urls or url in self.store:
            self.stats.inc_value("rfi/duplicates")
            raise DropItem(f"already exported: {url}", log_level="DEBUG")
        self.exports_started += 1
        published_at = adapter["published_at"]
        self.intents.record(url, seed_file_name(url, published_at))
        path = self.files.write(url, published_at, seed_record(adapter))
        line = LINES.of(item)
        LINES.forget()
        try:
            self.known_size = self.jsonl.append(line)
        except OSError:
            path.unlink(missing_ok=True)  # a file without its line is no export
            raise
        return path
