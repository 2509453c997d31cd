"""The archive as a database: ``<RFI_OUTPUT_DIR>/archive.db`` (SQLite), for reading and
searching (``scrapy browse``), built from ``items.jsonl``, which stays the source of truth.

One row per article version in ``articles``: every field of the JSON line (lists and
objects as JSON text; a field this code does not know yet becomes a column of its own),
``version`` (1 when the line has none: issue 28 adds it), and what browsing needs: the
``month`` of publication, the seed-style ``file`` and the ``folder`` it came from. The
key is ``(url, version)``; ``id`` is the line's rank in the files read, so a rebuild from
the same files gives the same ids. ``articles_fts`` (FTS5, contentless) indexes title,
summary and text as words in simplified characters (:mod:`rfi_spider.search.chinese`).
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
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from rfi_spider.archive.exporters import seed_file_name
from rfi_spider.archive.outputs import DB_FILE as DB_FILE  # the commands' name for it
from rfi_spider.archive.state import ExportLock
from rfi_spider.archive.wacz_pages import path_key
from rfi_spider.archive.warc_files import OPEN_SUFFIX, SUFFIX, Damage, gzip_members
from rfi_spider.archive.warc_records import RecordError, RecordReader, record_date
from rfi_spider.fetch.warc_replay import page_of
from rfi_spider.items import FIELDS
from rfi_spider.search.chinese import index_text

logger = logging.getLogger(__name__)

# In the state folder: held while the database is written (a crawl's sync, a rebuild).
LOCK_FILE = "archive-db.lock"
ITEMS_FILE = "items.jsonl"
TABLE = "articles"
FTS_TABLE = "articles_fts"
META_TABLE = "archive_meta"
WARC_TABLE = "warc_records"
WARC_DIR = "warc"
# crawled_at is written to the second (truncated): a page fetched within the second
# after it is still the one its item was extracted from.
CRAWLED_AT_SLACK = timedelta(seconds=1)
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
    records: int = 0  # WARC records indexed
    damaged: int = 0  # WARC files read up to damage (a corrupt member)


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
    if not db[WARC_TABLE].exists():
        db[WARC_TABLE].create(  # type: ignore[union-attr]
            {
                "folder": str,
                "warc_file": str,
                "offset": int,
                "length": int,
                "url": str,
                "page": str,
                "fetched_at": str,
                "status": int,
                "browser": int,
            },
            pk=("folder", "warc_file", "offset"),
        )
        db[WARC_TABLE].create_index(["page", "fetched_at"])  # type: ignore[union-attr]


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


def _warc_dir(folder: Path, warc_dirs: Mapping[Path, Path] | None) -> Path:
    """A folder's WARC folder: as given (``RFI_WARC_DIR``), else ``<folder>/warc``."""
    return (warc_dirs or {}).get(folder) or folder / WARC_DIR


def warc_paths(warc_dir: Path) -> list[Path]:
    """The WARC files of a folder, closed or being written, by name."""
    if not warc_dir.is_dir():
        return []
    found = [*warc_dir.glob(f"*{SUFFIX}"), *warc_dir.glob(f"*{OPEN_SUFFIX}")]
    return sorted(p for p in found if p.is_file())


def _warc_name(path: Path, folder: Path) -> str:
    """How a row names a WARC file: its name once closed (a ``.open`` file is renamed
    when the crawl closes it), under the folder when it is there, else absolute."""
    final = path.resolve()
    if final.name.endswith(OPEN_SUFFIX):
        final = final.with_name(final.name[: -len(".open")])
    root = folder.resolve()
    return str(final.relative_to(root)) if final.is_relative_to(root) else str(final)


def _fetched_at(moment: datetime) -> str:
    """A record's date as the rows keep it: UTC, to the microsecond, always the same
    length (so that text order is time order)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _index_warc(
    db: sqlite_utils.Database, folder: Path, warc_dir: Path, result: SyncResult
) -> None:
    """Rows of the pages in ``warc_dir``'s files after the offset each was read to, in
    transactions of :data:`CHUNK` rows, each with the offset read so far."""
    for path in warc_paths(warc_dir):
        name = _warc_name(path, folder)
        key = f"warc_size:{folder.resolve()}:{name}"
        found = db.execute(f"SELECT value FROM {META_TABLE} WHERE key = ?", (key,)).fetchone()
        recorded = int(found[0]) if found else 0
        size = path.stat().st_size
        if recorded > size:  # not the file read before: read it again
            with db.conn:
                db.execute(
                    f"DELETE FROM {WARC_TABLE} WHERE folder = ? AND warc_file = ?",
                    (str(folder.resolve()), name),
                )
            recorded = 0
        if recorded < size:
            _index_file(db, path, recorded, (folder, name, key), result)


def _index_file(
    db: sqlite_utils.Database,
    path: Path,
    offset: int,
    where: tuple[Path, str, str],
    result: SyncResult,
) -> None:
    folder, name, key = where
    rows: list[dict[str, Any]] = []

    def write(end: int) -> None:
        with db.conn:
            if rows:
                db[WARC_TABLE].insert_all(rows, replace=True)  # type: ignore[union-attr]
            db[META_TABLE].upsert({"key": key, "value": str(end)}, pk="key")  # type: ignore[union-attr]
        result.records += len(rows)
        rows.clear()

    end = offset
    with path.open("rb") as stream:
        stream.seek(offset)
        for part in gzip_members(stream, feed=RecordReader):
            if isinstance(part, Damage):  # truncated: being written; corrupt: no further
                result.damaged += part.reason == "corrupt"
                break
            end = offset + part.offset + part.length
            row = _record_row(part.fed, offset + part.offset, part.length)
            if row is not None:
                rows.append({"folder": str(folder.resolve()), "warc_file": name, **row})
            if len(rows) >= CHUNK:
                write(end)
    write(end)


def _record_row(reader: RecordReader, offset: int, length: int) -> dict[str, Any] | None:
    """The row of a record that holds a page (a 2xx response, a browser page), else None."""
    try:
        answer = page_of(reader.close())
    except RecordError:  # unreadable, or its digest fails: no page to point to
        return None
    if answer is None:
        return None
    url, date, status, browser = answer
    if not (browser or 200 <= status < 300):
        return None
    return {
        "offset": offset,
        "length": length,
        "url": url,
        "page": path_key(url),
        "fetched_at": _fetched_at(date),
        "status": status,
        "browser": int(browser),
    }


def warc_record(
    conn: sqlite3.Connection, url: str, folder: str, crawled_at: str | None
) -> dict[str, Any] | None:
    """The WARC record that holds an article version's page: of the pages its folder's
    WARC files hold at its URL's path (through ``base_url`` the host differs), the last
    fetched by the time it was extracted (``crawled_at``); None when there is none (an
    article a mirror feed gave, a WARC file not read yet, capture off)."""
    if not crawled_at or not _has_table(conn, WARC_TABLE):
        return None
    extracted = record_date(crawled_at)
    if extracted is None:
        return None
    latest = _fetched_at(extracted + CRAWLED_AT_SLACK)
    found = conn.execute(
        f"SELECT warc_file, offset, length, url, fetched_at, status FROM {WARC_TABLE}"
        " WHERE page = ? AND folder = ? AND fetched_at <= ?"
        " ORDER BY fetched_at DESC, warc_file DESC, offset DESC LIMIT 1",
        (path_key(url), folder, latest),
    ).fetchone()
    if found is None:
        return None
    names = ("warc_file", "offset", "length", "url", "fetched_at", "status")
    return dict(zip(names, found, strict=True))


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return conn.execute(query, (name,)).fetchone() is not None


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
        rebuilt = rebuild(path, folders, warc_dirs)
        rebuilt.rebuilt = True
        return rebuilt
    db = sqlite_utils.Database(path)
    with contextlib.closing(db.conn):
        for folder, recorded, size in states:
            if recorded < size:
                _add(db, folder, recorded, result)
            _index_warc(db, folder, _warc_dir(folder, warc_dirs), result)
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
            _create(db)
            result = SyncResult()
            for folder in folders:
                if (folder / ITEMS_FILE).is_file():
                    _add(db, folder, 0, result)
                _index_warc(db, folder, _warc_dir(folder, warc_dirs), result)
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
