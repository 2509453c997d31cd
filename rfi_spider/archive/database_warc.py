"""The archive database's index of WARC records: ``warc_records`` holds the pages the
folder's WARC files hold (each 2xx ``response`` and browser ``resource`` record: its file,
offset, URL and date), read member by member up to the last complete gzip member (a file
being written, or one a killed crawl tore), each file's offset kept with its rows;
:func:`warc_record` picks the one that holds an article version's page.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from rfi_spider.archive.database_rows import CHUNK, META_TABLE, WARC_TABLE, SyncResult
from rfi_spider.archive.wacz_pages import path_key
from rfi_spider.archive.warc_files import OPEN_SUFFIX, SUFFIX, Damage, gzip_members
from rfi_spider.archive.warc_index import page_of
from rfi_spider.archive.warc_records import RecordError, RecordReader, record_date

WARC_DIR = "warc"
# crawled_at is written to the second (truncated): a page fetched within the second
# after it is still the one its item was extracted from.
CRAWLED_AT_SLACK = timedelta(seconds=1)


def warc_dir_of(folder: Path, warc_dirs: Mapping[Path, Path] | None) -> Path:
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


def index_warc(db: sqlite_utils.Database, folder: Path, warc_dir: Path, result: SyncResult) -> None:
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
    folder_name = str(folder.resolve())  # once: resolving costs a system call a part
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
                rows.append({"folder": folder_name, "warc_file": name, **row})
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
