"""The archive as a database: ``<RFI_OUTPUT_DIR>/archive.db`` (SQLite), for reading and
searching (``scrapy browse``), built from ``items.jsonl``, which stays the source of truth.

One row per article version in ``articles``: every field of the JSON line (lists and
objects as JSON text; a field this code does not know yet becomes a column of its own),
``version`` (1 when the line has none: issue 28 adds it), and what browsing needs: the
``month`` of publication, the seed-style ``file`` and the ``folder`` it came from. The
key is ``(url, version)``; ``id`` is the line's rank in the files read, so a rebuild from
the same files gives the same ids. ``articles_fts`` (FTS5, contentless) indexes title,
summary and text as words in simplified characters (:mod:`rfi_spider.search.chinese`).

Kept current by copying lines, never items: :func:`sync` reads each ``items.jsonl``
after the size it last read (kept in ``archive_meta``) up to its last complete line, and
writes those rows and the new size in one transaction. So a crash between a JSON line
and its row is caught up by the next sync, a torn last line waits to be completed or
moved aside, and the database never holds an article that ``items.jsonl`` lacks. A file
shorter than the size recorded was replaced: the database is rebuilt.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from rfi_spider.archive.exporters import seed_file_name
from rfi_spider.archive.outputs import DB_FILE
from rfi_spider.archive.state import ExportLock
from rfi_spider.items import FIELDS
from rfi_spider.search.chinese import index_text

logger = logging.getLogger(__name__)

# In the state folder: held while the database is written (a crawl's sync, a rebuild).
LOCK_FILE = "archive-db.lock"
ITEMS_FILE = "items.jsonl"
TABLE = "articles"
FTS_TABLE = "articles_fts"
META_TABLE = "archive_meta"
# The columns that are not item fields: the rank, and what browsing derives from a line.
DERIVED = ("month", "file", "folder")
# Rows written per transaction when building from scratch (memory stays bounded).
CHUNK = 500


@dataclass
class SyncResult:
    """What a sync did: rows added, lines skipped (not an article, or a version already
    held), and whether it started over (a replaced ``items.jsonl``)."""

    added: int = 0
    skipped: int = 0
    rebuilt: bool = False


def _cell(value: Any) -> Any:
    """A JSON value as a SQLite cell: lists and objects as JSON text."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


def _version(line: dict[str, Any]) -> int | None:
    version = line.get("version", 1)
    if version is None:
        return 1
    if isinstance(version, int) and not isinstance(version, bool) and version >= 1:
        return version
    return None


def article_row(line: dict[str, Any], folder: Path) -> dict[str, Any] | None:
    """The ``articles`` row of one JSON line (without ``id``); None when it is no article
    (no URL, a version that is not a whole number from 1)."""
    url = line.get("url")
    version = _version(line)
    if not isinstance(url, str) or not url or version is None:
        return None
    row: dict[str, Any] = {"url": url, "version": version}
    for key, value in line.items():
        if key not in row and key != "id" and key not in DERIVED:
            row[key] = _cell(value)
    published = line.get("published_at")
    row["month"] = published[:7] if isinstance(published, str) else None
    try:
        row["file"] = f"articles/{seed_file_name(url, published)}"
    except Exception:  # a date the archive could not have exported: no file to link
        row["file"] = None
    row["folder"] = str(folder.resolve())
    return row


def fts_row(line: dict[str, Any]) -> dict[str, str]:
    """The ``articles_fts`` row of one JSON line: its searchable text as words."""
    paragraphs = line.get("paragraphs")
    text = (
        "\n".join(p for p in paragraphs if isinstance(p, str))
        if isinstance(paragraphs, list)
        else ""
    )
    return {
        "title": index_text(line.get("title") if isinstance(line.get("title"), str) else ""),
        "summary": index_text(line.get("summary") if isinstance(line.get("summary"), str) else ""),
        "text": index_text(text),
    }


def _create(db: sqlite_utils.Database) -> None:
    """The tables and indexes, if missing."""
    if not db[TABLE].exists():
        columns: dict[str, Any] = {"id": int, "url": str, "version": int}
        for name in FIELDS:
            columns.setdefault(name, str)
        for name in DERIVED:
            columns[name] = str
        db[TABLE].create(columns, pk="id", not_null={"url", "version"})  # type: ignore[union-attr]
        db[TABLE].create_index(["url", "version"], unique=True)  # type: ignore[union-attr]
        for column in ("edition", "section", "month", "source", "published_at"):
            db[TABLE].create_index([column])  # type: ignore[union-attr]
    if not db[FTS_TABLE].exists():
        db.execute(
            f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
            "title, summary, text, content='', tokenize='unicode61')"
        )
    if not db[META_TABLE].exists():
        db[META_TABLE].create({"key": str, "value": str}, pk="key")  # type: ignore[union-attr]


def is_database(path: Path) -> bool:
    """``path`` is an archive database (SQLite, with the articles table)."""
    try:
        with path.open("rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                return False
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
            found = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)
            )
            return found.fetchone() is not None
    except (OSError, sqlite3.Error):
        return False


def _offset_key(items: Path) -> str:
    return f"jsonl_size:{items.resolve()}"


def complete_lines(items: Path, offset: int) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """``(end offset, parsed line or None)`` of each complete line after ``offset``: a last
    line without its newline (being written, or torn) is left for a later sync."""
    with items.open("rb") as handle:
        handle.seek(offset)
        position = offset
        for raw in handle:
            if not raw.endswith(b"\n"):
                return
            position += len(raw)
            try:
                value = json.loads(raw)
            except (ValueError, RecursionError):
                value = None
            yield position, value if isinstance(value, dict) else None


def _add(db: sqlite_utils.Database, folder: Path, offset: int, result: SyncResult) -> None:
    """Rows of ``folder``'s lines after ``offset``, in transactions of :data:`CHUNK`, each
    with the size read so far (a crash loses no more than the transaction under way)."""
    items = folder / ITEMS_FILE
    key = _offset_key(items)
    next_id = (db.execute(f"SELECT max(id) FROM {TABLE}").fetchone()[0] or 0) + 1
    rows: list[dict[str, Any]] = []
    texts: list[dict[str, Any]] = []
    keys: set[tuple[str, int]] = set()  # (url, version) of the rows not yet written

    def write(end: int) -> None:
        with db.conn:
            if rows:
                db[TABLE].insert_all(rows, alter=True)  # type: ignore[union-attr]
                db[FTS_TABLE].insert_all(texts)  # type: ignore[union-attr]
            db[META_TABLE].upsert({"key": key, "value": str(end)}, pk="key")  # type: ignore[union-attr]
        rows.clear()
        texts.clear()
        keys.clear()

    end = offset
    for end, line in complete_lines(items, offset):
        row = article_row(line, folder) if line is not None else None
        if row is None or _held(db, row, keys):
            result.skipped += 1
            continue
        keys.add((row["url"], row["version"]))
        rows.append({"id": next_id, **row})
        texts.append({"rowid": next_id, **fts_row(line)})  # type: ignore[arg-type]
        next_id += 1
        result.added += 1
        if len(rows) >= CHUNK:
            write(end)
    write(end)


def _held(db: sqlite_utils.Database, row: dict[str, Any], keys: set[tuple[str, int]]) -> bool:
    """The row's (url, version) is in the database or in the rows about to be written."""
    key = (row["url"], row["version"])
    if key in keys:
        return True
    query = f"SELECT 1 FROM {TABLE} WHERE url = ? AND version = ?"
    return db.conn.execute(query, key).fetchone() is not None


def _recorded(db: sqlite_utils.Database, items: Path) -> int:
    found = db.execute(
        f"SELECT value FROM {META_TABLE} WHERE key = ?", (_offset_key(items),)
    ).fetchone()
    return int(found[0]) if found else 0


def sync(path: Path, folders: Iterable[Path]) -> SyncResult:
    """Bring the database at ``path`` up to date with each folder's ``items.jsonl``;
    rebuild it when one of them is shorter than what it holds (the file was replaced)."""
    folders = list(folders)
    result = SyncResult()
    db = sqlite_utils.Database(path)
    with contextlib.closing(db.conn):
        _create(db)
        states = []
        for folder in folders:
            items = folder / ITEMS_FILE
            size = items.stat().st_size if items.is_file() else 0
            states.append((folder, _recorded(db, items), size))
        if any(recorded > size for _, recorded, size in states):
            result.rebuilt = True
    if result.rebuilt:
        logger.warning(
            "an items.jsonl is shorter than %s remembers (replaced?): rebuilding the database",
            path,
        )
        rebuilt = rebuild(path, folders)
        rebuilt.rebuilt = True
        return rebuilt
    db = sqlite_utils.Database(path)
    with contextlib.closing(db.conn):
        for folder, recorded, size in states:
            if recorded < size:
                _add(db, folder, recorded, result)
    return result


def rebuild(path: Path, folders: Iterable[Path]) -> SyncResult:
    """A new database at ``path`` from the folders' ``items.jsonl`` (lines in file order,
    folders in the order given), built beside it and renamed over it when complete."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    try:
        db = sqlite_utils.Database(temporary)
        with contextlib.closing(db.conn):
            db.execute("PRAGMA journal_mode = OFF")
            _create(db)
            result = SyncResult()
            for folder in folders:
                if (folder / ITEMS_FILE).is_file():
                    _add(db, folder, 0, result)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return result


@contextlib.contextmanager
def locked(state_dir: Path) -> Iterator[None]:
    """The database lock of an archive (``<state>/archive-db.lock``), held in the block."""
    lock = ExportLock(state_dir / LOCK_FILE)
    try:
        with lock:
            yield
    finally:
        lock.close()


class CrawlDatabase:
    """The crawl's side (``ArchivePipeline``): sync ``archive.db`` after every ``batch``
    exports and when the spider closes.

    Segmenting Chinese costs tens of milliseconds an article, so syncs run in one
    background thread, off the reactor and outside the export lock: a sync reads only
    complete lines, and ``<state>/archive-db.lock`` keeps two jobs on one folder from
    syncing at once. The database is a copy: a failure to write it (a full disk, a
    corrupt file) is logged once and counted (``rfi/archive_db/error``), never stops
    the crawl, and the next run catches up from ``items.jsonl``.
    """

    def __init__(self, output_dir: Path, state_dir: Path, stats: Any, batch: int = 100) -> None:
        self.output_dir = output_dir
        self.path = output_dir / DB_FILE
        self.state_dir = state_dir
        self.stats = stats
        self.batch = max(1, batch)
        self.exported = 0
        self.failed = False
        self.wanted = threading.Event()
        self.closing = False
        self.thread = threading.Thread(target=self._run, name="archive-db", daemon=True)
        self.thread.start()
        self.wanted.set()  # catch up at start: what a killed run left

    def _run(self) -> None:
        while True:
            self.wanted.wait()
            self.wanted.clear()
            closing = self.closing
            self.sync()
            if closing:
                return

    def sync(self) -> None:
        """Copy the lines ``archive.db`` lacks (all of them at a first run)."""
        if self.failed:
            return
        try:
            with locked(self.state_dir):
                result = sync(self.path, [self.output_dir])
        except (OSError, sqlite3.Error) as error:
            self.failed = True
            self.stats.inc_value("rfi/archive_db/error")
            logger.warning(
                "could not update %s (%s): the crawl goes on; the next run (or scrapy "
                "archive-db) brings it up to date from items.jsonl",
                self.path,
                error,
            )
            return
        if result.added:
            self.stats.inc_value("rfi/archive_db/rows", result.added)
        if result.rebuilt:
            self.stats.inc_value("rfi/archive_db/rebuilt")

    def exported_one(self) -> None:
        """One more export: a sync when a batch is complete."""
        self.exported += 1
        if self.exported >= self.batch:
            self.exported = 0
            self.wanted.set()

    def close(self) -> None:
        """A last sync (every line written by then), waited for."""
        self.closing = True
        self.wanted.set()
        self.thread.join()
