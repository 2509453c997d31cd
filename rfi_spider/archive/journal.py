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
from rfi_spider.archive.state import STATE_FILE, Checked, Exported, ExportLock, SeenStore
from rfi_spider.archive.versions import (
    Version,
    content_digest,
    line_version,
    version_of_name,
    versioned_name,
)
from rfi_spider.dates import to_ms
from rfi_spider.extract.loaders import SITE_SOURCE

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


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def exported_row(adapter: ItemAdapter) -> Exported:
    """What the store records of an exported item: its version, digest and validators."""
    etag, last_modified = adapter.get("validators") or (None, None)
    return Exported(
        adapter["url"],
        adapter["source"],
        adapter["version"],
        adapter["content_digest"],
        _text(adapter.get("published_at")),
        _text(adapter.get("crawled_at")),
        etag,
        last_modified,
    )


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
        # The adapter itself: site_html reads four text fields, and asdict() deep-copied
        # the whole item for them (about 0.08 ms an article, issue 26).
        html=seedfile.site_html(adapter),
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

    Versions (``archive/versions.py``): the batch and the store hold each line's
    ``(url, version, digest)``; an intent's file is its article's version (``.vN.txt``),
    kept when the store knows that version. So a kill at any moment leaves each version
    of an article in ``items.jsonl`` once.
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

    def export(self, item: Any, adapter: ItemAdapter, url: str) -> Path:
        """Steps 0 to 2 of one export, under the lock; returns the file's path.

        A duplicate raises DropItem. A failed JSON line removes the article's file
        and raises: nothing of the article is then recorded.
        """
        self.catch_up()
        version = self.next_version(adapter, url)
        self.exports_started += 1
        # The file's name made once, for its intent and its write.
        name = versioned_name(seed_file_name(url, adapter["published_at"]), version)
        self.intents.record(url, name)
        path = self.files.write_at(name, seed_record(adapter))
        line = LINES.with_export_fields(item)  # validated without them: spliced in
        try:
            self.known_size = self.jsonl.append(line)
        except OSError:
            path.unlink(missing_ok=True)  # a file without its line is no export
            raise
        return path

    def latest(self, url: str) -> Version | None:
        """The latest version of ``url``: this job's batch, else the store's."""
        return self.batch_urls.get(url) or self.store.latest(url)

    def next_version(self, adapter: ItemAdapter, url: str) -> int:
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
