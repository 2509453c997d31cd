"""Articles that failed: how often, and why, across runs.

An article whose page could not be turned into an item (an exception in the
extraction, a page that is not the article), whose item a pipeline refused or
broke on, whose request never got an answer, or that the site answered with an
HTTP error (a 404, not a block: see ``attempt_cause`` in the spider), is recorded
here with its cause. Each run that fails it again adds one attempt; once an article has
failed ``RFI_MAX_ATTEMPTS`` times, it is *given up*: never requested again, and
listed by the end-of-crawl summary and by ``scrapy qa``. An export clears its
record. Raising ``RFI_MAX_ATTEMPTS`` gives the articles given up more tries.

The table lives in the state's SQLite database (``seen.sqlite3``), next to the
exported URLs and the pending queue.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from rfi_spider import settings as project_settings
from rfi_spider.archive.state import SeenStore, read_only
from rfi_spider.dates import now_iso

# given_up: attempts reached RFI_MAX_ATTEMPTS as the last crawl set it (what QA reports).
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS failures (url TEXT PRIMARY KEY, attempts INTEGER NOT NULL,"
    " cause TEXT NOT NULL, failed_at TEXT NOT NULL, given_up INTEGER NOT NULL DEFAULT 0)"
    " WITHOUT ROWID"
)
# RFI_MAX_ATTEMPTS's default: for readers of a state without the crawl's settings.
DEFAULT_MAX_ATTEMPTS: int = project_settings.RFI_MAX_ATTEMPTS
# A cause is one line of at most this many characters (an exception's message may be long).
MAX_CAUSE = 300


def short_cause(text: str) -> str:
    """One line, at most :data:`MAX_CAUSE` characters, no lone surrogates."""
    line = " ".join(text.split())
    line = line.encode("utf-8", "replace").decode("utf-8")
    return line if len(line) <= MAX_CAUSE else line[: MAX_CAUSE - 1] + "…"


@dataclass(frozen=True)
class FailureRecord:
    """One article's record: attempts failed so far, the last cause and when."""

    url: str
    attempts: int
    cause: str
    failed_at: str
    given_up: bool = False  # as the last crawl judged it (its RFI_MAX_ATTEMPTS)


def _record(row: tuple[str, int, str, str, object]) -> FailureRecord:
    """A record from its row (url, attempts, cause, failed_at, given_up)."""
    url, attempts, cause, failed_at, given_up = row
    return FailureRecord(url, attempts, cause, failed_at, bool(given_up))


class FailedArticles:
    """The ``failures`` table of a state store; ``max_attempts``: when to give up.

    It also keeps this run's account, for the summary and the end of the run: the
    articles that failed (``failed_now``, their record after this run), those given up
    (``given_up_now``: in this run, or found again after an earlier one; URL -> last
    cause), and those a write error kept from being exported (``kept_pending``: pending
    for the next run, not failed).
    """

    def __init__(self, store: SeenStore, max_attempts: int) -> None:
        self.store = store
        self.max_attempts = max(1, max_attempts)
        self.failed_now: dict[str, FailureRecord] = {}
        self.given_up_now: dict[str, str] = {}
        self.kept_pending: set[str] = set()
        with store.transaction() as db:
            db.execute(_SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(failures)")}
            if "given_up" not in columns:  # a state from before the column
                db.execute("ALTER TABLE failures ADD COLUMN given_up INTEGER NOT NULL DEFAULT 0")
            # This crawl's RFI_MAX_ATTEMPTS decides: raising it gives articles more tries.
            db.execute(
                "UPDATE failures SET given_up = (attempts >= ?) WHERE given_up != (attempts >= ?)",
                (self.max_attempts, self.max_attempts),
            )
        # Read once: the articles given up (a few), checked before every article request.
        self._given_up = {
            row[0]
            for row in store.db.execute(
                "SELECT url FROM failures WHERE attempts >= ?", (self.max_attempts,)
            )
        }

    def gave_up(self, url: str) -> bool:
        """True when ``url`` has failed ``max_attempts`` times: it is not requested again."""
        return url in self._given_up

    def record(self, url: str, cause: str) -> FailureRecord:
        """One more failed attempt of ``url`` for ``cause``; returns its record."""
        cause = short_cause(cause)
        now = now_iso()
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO failures (url, attempts, cause, failed_at, given_up)"
                " VALUES (?, 1, ?, ?, 1 >= ?)"
                " ON CONFLICT (url) DO UPDATE SET attempts = attempts + 1,"
                " cause = excluded.cause, failed_at = excluded.failed_at,"
                " given_up = (attempts + 1 >= ?)",
                (url, cause, now, self.max_attempts, self.max_attempts),
            )
            row = db.execute("SELECT attempts FROM failures WHERE url = ?", (url,)).fetchone()
        failure = FailureRecord(url, row[0], cause, now, row[0] >= self.max_attempts)
        self.failed_now[url] = failure
        if failure.given_up:
            self._given_up.add(url)
            self.given_up_now[url] = failure.cause
        return failure

    def skipped(self, url: str) -> str:
        """A given-up article found again in this run (not requested): its last cause."""
        failure = self.get(url)
        cause = failure.cause if failure else "?"
        self.given_up_now[url] = cause
        return cause

    def cleared(self, url: str) -> None:
        """``url`` was exported: its failures are history. Nearly every exported article
        has none: looked for first, the write transaction (its locks, a commit) taken only
        for a record to delete (it cost every export about 12 µs of the reactor's CPU,
        three times that on a loaded machine; issue 26)."""
        found = "SELECT 1 FROM failures WHERE url = ?"
        if self.store.db.execute(found, (url,)).fetchone() is not None:
            with self.store.transaction() as db:
                db.execute("DELETE FROM failures WHERE url = ?", (url,))
        self._given_up.discard(url)
        self.failed_now.pop(url, None)
        self.given_up_now.pop(url, None)  # e.g. a mirror's copy came after all

    def keep_pending(self, *urls: str | None) -> None:
        """A write error kept these articles from being exported: pending, not failed."""
        self.kept_pending.update(url for url in urls if url)

    def accounted_for(self, url: str) -> bool:
        """True when this run already failed ``url`` or kept it pending."""
        return url in self.failed_now or url in self.kept_pending

    def get(self, url: str) -> FailureRecord | None:
        row = self.store.db.execute(
            "SELECT url, attempts, cause, failed_at, given_up FROM failures WHERE url = ?",
            (url,),
        ).fetchone()
        return _record(row) if row else None


def read_failures(
    state_dir: str | Path, max_attempts: int = DEFAULT_MAX_ATTEMPTS
) -> list[FailureRecord] | None:
    """Every record of a state folder, most attempts first, read only; None when the
    folder has no state (or it cannot be read). Whether an article is given up is what
    the last crawl judged; ``max_attempts`` judges for a state from before that."""
    with read_only(state_dir) as db:
        if db is None:
            return None
        try:
            columns = {row[1] for row in db.execute("PRAGMA table_info(failures)")}
            judged = "given_up" if "given_up" in columns else "attempts >= ?"
            rows = db.execute(
                f"SELECT url, attempts, cause, failed_at, {judged} FROM failures"
                " ORDER BY attempts DESC, failed_at, url",
                () if "given_up" in columns else (max(1, max_attempts),),
            ).fetchall()
        except sqlite3.Error:  # no such table: a state from before this one
            return []
    return [_record(row) for row in rows]
