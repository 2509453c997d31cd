"""The archive database's tables and its article rows: the schema, one ``articles`` and
one ``articles_fts`` row per JSON line, and the copying of ``items.jsonl``'s complete lines
after the size last read (see :mod:`rfi_spider.archive.database` for why lines, not items).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from rfi_spider.archive.database_words import index_text
from rfi_spider.archive.seedfile import seed_file_name
from rfi_spider.item_fields import FIELDS

ITEMS_FILE = "items.jsonl"
TABLE = "articles"
FTS_TABLE = "articles_fts"
META_TABLE = "archive_meta"
WARC_TABLE = "warc_records"
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
    row["file"] = None  # a date the archive could not have exported: no file to link
    if isinstance(published, str):
        with contextlib.suppress(Exception):
            row["file"] = f"articles/{seed_file_name(url, published)}"
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


def create_tables(db: sqlite_utils.Database) -> None:
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


def add_lines(db: sqlite_utils.Database, folder: Path, offset: int, result: SyncResult) -> None:
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


def recorded_size(db: sqlite_utils.Database, items: Path) -> int:
    found = db.execute(
        f"SELECT value FROM {META_TABLE} WHERE key = ?", (_offset_key(items),)
    ).fetchone()
    return int(found[0]) if found else 0
