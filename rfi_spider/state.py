"""The persistent dedupe store: canonical URLs already exported, across runs.

SQLite in WAL mode: one indexed table (``WITHOUT ROWID``, so a lookup is one
B-tree search at any size), safe for two crawls at once (writers wait on a
busy timeout), and durable through a killed process.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from scrapy.settings import BaseSettings

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS seen ("
    " url TEXT PRIMARY KEY, source TEXT NOT NULL, exported_at TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
)


def output_dirs(settings: BaseSettings) -> tuple[Path, Path]:
    """``(RFI_OUTPUT_DIR, RFI_STATE_DIR)``; the state defaults to ``<output>/.state``."""
    output = Path(settings.get("RFI_OUTPUT_DIR") or "output")
    state = settings.get("RFI_STATE_DIR")
    return output, Path(state) if state else output / ".state"


@contextmanager
def locked(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (a file or a folder) for the block."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def utc_now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class SeenStore:
    """Canonical URLs already exported, with where they came from."""

    def __init__(self, path: str | os.PathLike[str], busy_timeout: float = 60.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Switching a new database to WAL takes a lock SQLite does not wait for: two
        # jobs starting at once got "database is locked". So stores open one at a time.
        with locked(self.path.parent):
            self.db = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            with self.transaction():
                for statement in _SCHEMA:
                    self.db.execute(statement)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``: concurrent writers queue up)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def __contains__(self, url: object) -> bool:
        row = self.db.execute("SELECT 1 FROM seen WHERE url = ?", (url,)).fetchone()
        return row is not None

    def __len__(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM seen").fetchone()[0]

    def add(self, url: str, source: str, *, meta: dict[str, str] | None = None) -> bool:
        """Record one URL (and meta values, in the same transaction); False if known."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO seen (url, source, exported_at) VALUES (?, ?, ?)",
                (url, source, utc_now()),
            )
            for key, value in (meta or {}).items():
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
        return cursor.rowcount == 1

    def add_many(self, rows: Iterable[tuple[str, str]]) -> int:
        """Record many ``(url, source)`` pairs in one transaction; returns how many were new."""
        now = utc_now()
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO seen (url, source, exported_at) VALUES (?, ?, ?)",
                ((url, source, now) for url, source in rows),
            )
            return db.total_changes - before

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def close(self) -> None:
        self.db.close()


class ExportLock:
    """An advisory file lock that serialises exports across processes (two Scrapyd jobs)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)

    def __enter__(self) -> ExportLock:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)
