"""The pending queue on disk: article URLs a run found and has not finished.

Its rows live in the state's database (``seen.sqlite3``, :mod:`rfi_spider.archive.state`),
in the ``pending`` table, written in the store's transactions; a run's ``flock`` on
``runs/<owner>.lock`` tells live runs from gone ones.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import uuid
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from rfi_spider.dates import now_iso

if TYPE_CHECKING:  # state.py names this class for its importers
    from rfi_spider.archive.state import SeenStore


class PendingArticles:
    """Article URLs this run found and has not finished: its queue, on disk.

    A run adds what it finds (:meth:`add`), hands URLs out a few at a time
    (:meth:`take`), and marks each one done once it is exported, dropped or
    failed for good (:meth:`done`, written in batches). What a killed or
    interrupted run left is *adopted* by the next run at start and handed out
    first: an article in flight at a ``kill -9`` is fetched again even if no
    listing shows it any more. A row handed out twice (done but not yet
    written when the run died) is harmless: the spider skips URLs already
    exported.

    Each run owns its rows; a run holds an ``flock`` on ``runs/<owner>.lock``
    in the state folder while it lives, so a run starting next to a live one
    (two Scrapyd jobs) adopts only the rows of runs that are gone.
    """

    DONE_BATCH = 100
    # Rows read ahead by one query of :meth:`take`: the window asks for one URL each time
    # an article ends, and a query per article was a tenth of the main thread's time.
    TAKE_BATCH = 100
    # The owner of rows a run adopted but left to a later run (out of its scope).
    NOBODY = "left-for-a-later-run"

    def __init__(self, store: SeenStore, state_dir: str | os.PathLike[str]) -> None:
        self.db = store.db
        self.store = store
        self.owner = uuid.uuid4().hex
        self.runs = Path(state_dir) / "runs"
        self.runs.mkdir(parents=True, exist_ok=True)
        self._lock_path = self.runs / f"{self.owner}.lock"
        self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        self.cursor = 0  # the last id handed out
        self._ahead: deque[tuple[int, str]] = deque()  # rows read, not handed out yet
        self._read_to = 0  # the last id read into _ahead
        self._done: list[str] = []
        self.adopted = self._adopt()
        row = self.db.execute("SELECT MAX(id) FROM pending WHERE owner = ?", (self.owner,))
        # Rows up to this id were left by an interrupted run (see :meth:`take`).
        self.resumed_until = row.fetchone()[0] or 0

    def _adopt(self) -> int:
        """Take over the rows of runs that are gone; returns how many."""
        owners = [r[0] for r in self.db.execute("SELECT DISTINCT owner FROM pending")]
        adopted = 0
        for owner in owners:
            if owner == self.owner or not self._is_gone(owner):
                continue
            with self.store.transaction() as db:
                cursor = db.execute(
                    "UPDATE OR IGNORE pending SET owner = ? WHERE owner = ?", (self.owner, owner)
                )
                adopted += cursor.rowcount
                db.execute("DELETE FROM pending WHERE owner = ?", (owner,))
        return adopted

    def _is_gone(self, owner: str) -> bool:
        """True when no live run holds ``owner``'s lock (its lock file is then removed)."""
        path = self.runs / f"{owner}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        else:
            path.unlink(missing_ok=True)
            return True
        finally:
            os.close(fd)

    def add(self, urls: Iterable[str]) -> int:
        """Queue URLs (one transaction); returns how many were new to this run's queue."""
        rows = [(self.owner, url, now_iso()) for url in urls]
        if not rows:
            return 0
        with self.store.transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO pending (owner, url, found_at) VALUES (?, ?, ?)", rows
            )
            return db.total_changes - before

    def take(self, limit: int) -> list[tuple[str, bool]]:
        """The next ``limit`` URLs in the order found, each with ``True`` when an
        interrupted run had left it (it may have been in flight at the kill)."""
        if limit <= 0:
            return []
        if len(self._ahead) < limit:  # rows are only ever added after the last one read
            rows = self.db.execute(
                "SELECT id, url FROM pending WHERE owner = ? AND id > ? ORDER BY id LIMIT ?",
                (self.owner, self._read_to, max(limit - len(self._ahead), self.TAKE_BATCH)),
            ).fetchall()
            if rows:
                self._read_to = rows[-1][0]
                self._ahead.extend(rows)
        taken = [self._ahead.popleft() for _ in range(min(limit, len(self._ahead)))]
        if taken:
            self.cursor = taken[-1][0]
        return [(url, row_id <= self.resumed_until) for row_id, url in taken]

    def leave(self, url: str) -> None:
        """Give an adopted URL this run will not fetch back, for a later run to adopt."""
        with self.store.transaction() as db:
            db.execute(
                "UPDATE OR IGNORE pending SET owner = ? WHERE owner = ? AND url = ?",
                (self.NOBODY, self.owner, url),
            )
            db.execute("DELETE FROM pending WHERE owner = ? AND url = ?", (self.owner, url))

    def has_more(self) -> bool:
        """Whether URLs are waiting to be handed out."""
        row = self.db.execute(
            "SELECT 1 FROM pending WHERE owner = ? AND id > ? LIMIT 1", (self.owner, self.cursor)
        ).fetchone()
        return row is not None

    def done(self, url: str) -> None:
        """An article finished (exported, dropped, or failed for good); written in batches."""
        self._done.append(url)
        if len(self._done) >= self.DONE_BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the finished URLs out."""
        if not self._done:
            return
        done, self._done = self._done, []
        with self.store.transaction() as db:
            db.executemany(
                "DELETE FROM pending WHERE owner = ? AND url = ?", ((self.owner, u) for u in done)
            )

    def finish(self) -> int:
        """The crawl ran out of work: write what is done, and return how many URLs handed
        out are not (their requests ended without an answer: the scheduler failed to
        queue them, say). Those stay for the next run, which adopts them."""
        self.flush()
        row = self.db.execute(
            "SELECT COUNT(*) FROM pending WHERE owner = ? AND id <= ?", (self.owner, self.cursor)
        )
        return row.fetchone()[0]

    def unanswered(self) -> list[str]:
        """The URLs handed out and not done (after :meth:`finish`: those never answered)."""
        rows = self.db.execute(
            "SELECT url FROM pending WHERE owner = ? AND id <= ? ORDER BY id",
            (self.owner, self.cursor),
        )
        return [row[0] for row in rows]

    def __len__(self) -> int:
        row = self.db.execute("SELECT COUNT(*) FROM pending WHERE owner = ?", (self.owner,))
        return row.fetchone()[0]

    def close(self) -> None:
        """Write what is done; rows left stay for the next run. Releases the run's lock."""
        with contextlib.suppress(sqlite3.Error):
            self.flush()
        self._lock_path.unlink(missing_ok=True)
        os.close(self._lock_fd)
