"""The archive as a database: ``<RFI_OUTPUT_DIR>/archive.db`` (SQLite), for reading and
searching (``scrapy browse``), built from ``items.jsonl``, which stays the source of truth.

One row per article version in ``articles``: every field of the JSON line (lists and
objects as JSON text; a field this code does not know yet becomes a column of its own),
``version`` (1 when the line has none: issue 28 adds it), and what browsing needs: the
``month`` of publication, the seed-style ``file`` and the ``folder`` it came from. The
key is ``(url, version)``; ``id`` is the line's rank in the files read, so a rebuild from
the same files gives the same ids. ``articles_fts`` (FTS5, contentless) indexes title,
summary and text as words in simplified characters (:mod:`rfi_spider.archive.database_words`).
``warc_records`` indexes the pages the folder's WARC files hold (each 2xx ``response``
and browser ``resource`` record: its file, offset, URL and date), read member by member
within the bounds of :mod:`~rfi_spider.archive.warc_records`; :func:`warc_record` picks
the one that holds an article version's page.

Kept current by copying lines, never items: :func:`sync` reads each ``items.jsonl``
after the size it last read (kept in ``archive_meta``) up to its last complete line, and
writes those rows and the new size in one transaction. So a crash between a JSON line
and its row is caught up by the next sync, a torn last line waits to be completed or
moved aside, and the database never holds an article that ``items.jsonl`` lacks. A file
shorter than the size recorded was replaced: the database is rebuilt. WARC files are
read the same way: up to their last complete gzip member (a file being written, or one
a killed crawl tore), each file's offset kept with its rows.

The crawl keeps it current from a child process: :mod:`rfi_spider.archive.database_sync`.
The tables and rows are in :mod:`~rfi_spider.archive.database_rows`, the WARC record index
in :mod:`~rfi_spider.archive.database_warc`: this module syncs, rebuilds and locks, and
keeps their names importable from here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import sqlite_utils

from rfi_spider.archive.database_rows import (
    CHUNK,
    DERIVED,
    FTS_TABLE,
    ITEMS_FILE,
    META_TABLE,
    TABLE,
    WARC_TABLE,
    SyncResult,
    add_lines,
    article_row,
    complete_lines,
    create_tables,
    fts_row,
    recorded_size,
)
from rfi_spider.archive.database_warc import (
    CRAWLED_AT_SLACK,
    WARC_DIR,
    index_warc,
    warc_dir_of,
    warc_paths,
    warc_record,
)
from rfi_spider.archive.outputs import DB_FILE as DB_FILE  # the commands' name for it
from rfi_spider.archive.state import ExportLock

__all__ = [
    "CHUNK",
    "CRAWLED_AT_SLACK",
    "DB_FILE",
    "DERIVED",
    "FTS_TABLE",
    "ITEMS_FILE",
    "LOCK_FILE",
    "META_TABLE",
    "TABLE",
    "WARC_DIR",
    "WARC_TABLE",
    "SyncResult",
    "article_row",
    "complete_lines",
    "fts_row",
    "is_database",
    "locked",
    "rebuild",
    "sync",
    "warc_paths",
    "warc_record",
]

logger = logging.getLogger(__name__)

# In the state folder: held while the database is written (a crawl's sync, a rebuild).
LOCK_FILE = "archive-db.lock"


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


def sync(
    path: Path, folders: Iterable[Path], warc_dirs: Mapping[Path, Path] | None = None
) -> SyncResult:
    """Bring the database at ``path`` up to date with each folder's ``items.jsonl`` and
    WARC files; rebuild it when an ``items.jsonl`` is shorter than what it holds (the
    file was replaced)."""
    folders = list(folders)
    result = SyncResult()
    db = sqlite_utils.Database(path)
    with contextlib.closing(db.conn):
        create_tables(db)
        states = []
        for folder in folders:
            items = folder / ITEMS_FILE
            size = items.stat().st_size if items.is_file() else 0
            states.append((folder, recorded_size(db, items), size))
        if any(recorded > size for _, recorded, size in states):
            result.rebuilt = True
    if result.rebuilt:
        logger.warning(
            "an items.jsonl is shorter than %s remembers (replaced?): rebuilding the database",
            path,
        )
        rebuilt = rebuild(path, folders, warc_dirs)
        rebuilt.rebuilt = True
        return rebuilt
    db = sqlite_utils.Database(path)
    with contextlib.closing(db.conn):
        for folder, recorded, size in states:
            if recorded < size:
                add_lines(db, folder, recorded, result)
            index_warc(db, folder, warc_dir_of(folder, warc_dirs), result)
    return result


def rebuild(
    path: Path, folders: Iterable[Path], warc_dirs: Mapping[Path, Path] | None = None
) -> SyncResult:
    """A new database at ``path`` from the folders' ``items.jsonl`` (lines in file order,
    folders in the order given) and WARC files, built beside it and renamed over it when
    complete."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    try:
        db = sqlite_utils.Database(temporary)
        with contextlib.closing(db.conn):
            db.execute("PRAGMA journal_mode = OFF")
            create_tables(db)
            result = SyncResult()
            for folder in folders:
                if (folder / ITEMS_FILE).is_file():
                    add_lines(db, folder, 0, result)
                index_warc(db, folder, warc_dir_of(folder, warc_dirs), result)
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
