"""The persistent state: canonical URLs already exported, and articles still pending.

SQLite in WAL mode: one indexed table (``WITHOUT ROWID``, so a lookup is one
B-tree search at any size), safe for two crawls at once (writers wait on a
busy timeout), and durable through a killed process. The same database holds
:class:`PendingArticles`, the article URLs a run found and has not finished
(``archive/pending.py``); the folder's locks are ``archive/locks.py``'s. Their names
import from here too: this module is the state's front.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rfi_spider.archive.locks import ExportLock as ExportLock
from rfi_spider.archive.locks import locked
from rfi_spider.archive.pending import PendingArticles as PendingArticles
from rfi_spider.archive.versions import Version
from rfi_spider.dates import now_iso
from rfi_spider.runtime import STATE_DIR as STATE_DIR
from rfi_spider.urlset import UrlSet

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS seen ("
    " url TEXT PRIMARY KEY, source TEXT NOT NULL, exported_at TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    # Article URLs found and not finished, per run (owner); ids only grow (AUTOINCREMENT),
    # so a run hands them out in the order found, those of an interrupted run first.
    "CREATE TABLE IF NOT EXISTS pending (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " owner TEXT NOT NULL, url TEXT NOT NULL, found_at TEXT NOT NULL, UNIQUE (owner, url))",
    # Each version exported (archive/versions.py): its content digest and fetch time.
    "CREATE TABLE IF NOT EXISTS versions (url TEXT NOT NULL, version INTEGER NOT NULL,"
    " digest TEXT NOT NULL, fetched_at TEXT NOT NULL, exported_at TEXT NOT NULL,"
    " PRIMARY KEY (url, version)) WITHOUT ROWID",
    # When each article was last fetched to a settled end (exported, found unchanged, or
    # answered 304), with the validators of its last page: the revisits' bookkeeping.
    "CREATE TABLE IF NOT EXISTS checks (url TEXT PRIMARY KEY, published_at TEXT,"
    " checked_at TEXT NOT NULL, etag TEXT, last_modified TEXT) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS checks_published ON checks (published_at)",
)


@dataclass(frozen=True)
class Exported:
    """One exported version as the store records it (a line of ``items.jsonl``)."""

    url: str
    source: str
    version: int = 1
    digest: str = ""
    published_at: str | None = None
    fetched_at: str | None = None
    etag: str | None = None  # the page's validators, for the next revisit
    last_modified: str | None = None


@dataclass(frozen=True)
class Checked:
    """One settled fetch of an article: when, and the validators its page came with."""

    url: str
    checked_at: str
    published_at: str | None = None
    etag: str | None = None
    last_modified: str | None = None


# The state's database; its folder's name (STATE_DIR) is the core's (runtime.py: the
# settings read it too), named here as well for the code that reads the state.
STATE_FILE = "seen.sqlite3"


@contextmanager
def read_only(state_dir: str | os.PathLike[str]) -> Iterator[sqlite3.Connection | None]:
    """The state database of a folder opened read only, closed after the block; None when
    the folder has none or it cannot be opened (for tools: QA, the failure list)."""
    path = Path(state_dir) / STATE_FILE
    if not path.is_file():
        yield None
        return
    try:
        db = connect_read_only(path)
    except sqlite3.Error:
        yield None
        return
    with contextlib.closing(db):
        yield db


def connect_read_only(path: Path, timeout: float = 5.0) -> sqlite3.Connection:
    """The state database at ``path`` opened read only; :class:`sqlite3.Error` when it
    cannot be read (not a database, locked past ``timeout``...).

    Even a reader of a WAL database needs its ``-shm`` file, which SQLite creates beside
    it: in a read-only copy of an archive (a read-only mount, a folder not writable)
    that fails, "unable to open database file". Such a database is opened
    ``immutable`` instead: no crawl can be writing where that file cannot be created.
    Not when a ``-wal`` file holds changes not yet merged (a copy of a killed crawl's
    state): ``immutable`` would read the database without them.
    """
    uri = path.resolve().as_uri()
    db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=timeout)
    try:
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # opens it for real
        return db
    except sqlite3.OperationalError as error:
        db.close()
        if getattr(error, "sqlite_errorname", "") != "SQLITE_CANTOPEN":
            raise
        wal = path.with_name(f"{path.name}-wal")
        if wal.is_file() and wal.stat().st_size:
            raise sqlite3.OperationalError(
                f"{error}: it is read only and its {wal.name} holds changes not merged yet"
            ) from error
    except BaseException:
        db.close()
        raise
    return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, timeout=timeout)


class SeenStore:
    """Canonical URLs already exported, with where they came from."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        busy_timeout: float = 60.0,
        cache_kib: int | None = None,
        mmap_mib: int = 0,
    ) -> None:
        """``cache_kib``: the connection's page cache (None: SQLite's default, 2,000 KiB);
        ``mmap_mib``: read the database through a memory map of up to that size (0: no)."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._keys: UrlSet | None = None  # see known()
        # Switching a new database to WAL takes a lock SQLite does not wait for: two
        # jobs starting at once got "database is locked". So stores open one at a time.
        with locked(self.path.parent):
            self.db = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            if cache_kib:
                self.db.execute(f"PRAGMA cache_size=-{int(cache_kib)}")
            if mmap_mib:  # a lookup reads mapped pages, no read() per page: as fast at 1M
                self.db.execute(f"PRAGMA mmap_size={int(mmap_mib) << 20}")
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
        """Exact: the URL is in the table (a B-tree search: a little slower as it grows)."""
        row = self.db.execute("SELECT 1 FROM seen WHERE url = ?", (url,)).fetchone()
        return row is not None

    def probably_known(self, url: str) -> bool:
        """The spider's check before it requests an article: one lookup in memory, the
        same at a million URLs as at ten thousand.

        The 64-bit digests of the URLs in the table (:class:`~rfi_spider.urlset.UrlSet`,
        about 16 bytes a URL) are read at the first call, and this connection's own adds
        join them. A URL another connection records later (the pipeline, another job)
        reads as not known: the article is fetched again and the pipeline's exact check
        (``url in store``) drops it. A URL whose digest another URL shares reads as
        known: odds of about n/2⁶⁴ a lookup (5·10⁻¹⁴ at a million URLs).
        """
        if self._keys is None:
            self._keys = UrlSet(row[0] for row in self.db.execute("SELECT url FROM seen"))
        return url in self._keys

    def __len__(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM seen").fetchone()[0]

    def add(self, url: str, source: str, *, meta: dict[str, str] | None = None) -> bool:
        """Record one URL (and meta values, in the same transaction); False if known."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO seen (url, source, exported_at) VALUES (?, ?, ?)",
                (url, source, now_iso()),
            )
            for key, value in (meta or {}).items():
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
        if self._keys is not None:
            self._keys.add(url)
        return cursor.rowcount == 1

    def add_many(
        self,
        rows: Iterable[tuple[str, str] | Exported],
        *,
        at_least: dict[str, int] | None = None,
        checked: Iterable[Checked] = (),
    ) -> int:
        """Record many exports (``(url, source)`` pairs, or :class:`Exported` versions) in
        one transaction; returns how many URLs were new.

        A version is recorded once: ``(url, version)`` is the key, so recording the same
        lines again (a rerun reading back ``items.jsonl``) changes nothing. ``checked``:
        settled fetches (:meth:`record_checks`), in the same transaction.
        ``at_least``: integer meta values raised to at least the given ones, in the same
        transaction (a JSON Lines size only grows, whichever job records it).
        """
        now = now_iso()
        exports = [row if isinstance(row, Exported) else Exported(*row) for row in rows]
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO seen (url, source, exported_at) VALUES (?, ?, ?)",
                [(e.url, e.source, now) for e in exports],
            )
            added = db.total_changes - before
            versions = [e for e in exports if e.digest]
            db.executemany(
                "INSERT OR IGNORE INTO versions (url, version, digest, fetched_at, exported_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(e.url, e.version, e.digest, e.fetched_at or now, now) for e in versions],
            )
            self._checks(
                db,
                [
                    Checked(e.url, e.fetched_at, e.published_at, e.etag, e.last_modified)
                    for e in versions
                    if e.fetched_at
                ],
            )
            self._checks(db, checked)
            for key, value in (at_least or {}).items():
                db.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                    " SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                    (key, str(value)),
                )
        if self._keys is not None:
            self._keys.update(e.url for e in exports)
        return added

    @staticmethod
    def _checks(db: sqlite3.Connection, checks: Iterable[Checked]) -> None:
        """Record settled fetches: the latest time wins; validators kept when not given."""
        db.executemany(
            "INSERT INTO checks (url, published_at, checked_at, etag, last_modified)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET"
            " published_at = coalesce(excluded.published_at, published_at),"
            " checked_at = max(checked_at, excluded.checked_at),"
            " etag = coalesce(excluded.etag, etag),"
            " last_modified = coalesce(excluded.last_modified, last_modified)",
            [(c.url, c.published_at, c.checked_at, c.etag, c.last_modified) for c in checks],
        )

    def record_checks(self, checks: Iterable[Checked]) -> None:
        """Record settled fetches (an unchanged page, a 304) in one transaction."""
        checks = list(checks)
        if checks:
            with self.transaction() as db:
                self._checks(db, checks)

    def latest(self, url: str) -> Version | None:
        """The latest version of ``url`` the store knows, or None.

        An URL exported before versions existed and not read back yet from
        ``items.jsonl`` is version 1 of unknown content (an empty digest)."""
        row = self.db.execute(
            "SELECT version, digest FROM versions WHERE url = ? ORDER BY version DESC LIMIT 1",
            (url,),
        ).fetchone()
        if row is not None:
            return Version(row[0], row[1])
        return Version(1, "") if url in self else None

    def has_version(self, url: str, version: int) -> bool:
        """Whether version ``version`` of ``url`` is recorded (version 1: the URL is)."""
        if version <= 1:
            return url in self
        row = self.db.execute(
            "SELECT 1 FROM versions WHERE url = ? AND version = ?", (url, version)
        ).fetchone()
        return row is not None

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def close(self) -> None:
        self.db.close()
