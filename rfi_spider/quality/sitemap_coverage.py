"""``scrapy qa``'s coverage against the site's sitemaps: listed, archived, missing per month.

A crawl records in its state (``<archive>/.state/seen.sqlite3``) every article URL the
site's sitemaps listed in its scope (:mod:`rfi_spider.archive.sitemap_listing`).
:func:`check_sitemaps` sets those lists against the archive's canonical URLs: per
month, how many were listed and how many the archive holds, and each missing one with
its cause when the state knows it (the ``failures`` table: ``404``, ``not an article:
no_paragraphs``...), else why not (exported by a crawl but not in this archive, or not
fetched yet).

The state is read only (a read-only copy of an archive too: see
:func:`~rfi_spider.archive.state.connect_read_only`), and a hostile one is no crash: a
state another process holds locked is a one-line note, one that is not a database (or is
corrupt) an ``error`` QA reports as a problem.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from rfi_spider.archive.failures import DEFAULT_MAX_ATTEMPTS, FailureRecord, read_failures
from rfi_spider.archive.sitemap_listing import read_listings
from rfi_spider.archive.state import STATE_FILE, connect_read_only
from rfi_spider.canonical import canonical_url

# How long QA waits for a state a crawl is writing before it gives up (seconds).
BUSY_TIMEOUT = 5.0
# SQLite's answers for "another connection holds the lock".
_BUSY = {"SQLITE_BUSY", "SQLITE_LOCKED"}


@dataclass(frozen=True)
class MissingArticle:
    """A listed article the archive lacks: its month, canonical URL, and why."""

    month: str
    url: str
    cause: str


@dataclass(frozen=True)
class MonthCoverage:
    """One month's figure: article URLs the sitemaps listed, and how many are archived."""

    month: str
    listed: int
    archived: int

    @property
    def missing(self) -> int:
        return self.listed - self.archived


@dataclass
class SitemapCoverage:
    """The archive against the sitemaps its state recorded.

    ``note``: one line saying why there is nothing to compare (no state, no sitemap
    read, a state locked); ``error``: the state could not be read (a problem).
    """

    state_dir: Path
    months: list[MonthCoverage] = field(default_factory=list)
    missing: list[MissingArticle] = field(default_factory=list)
    note: str | None = None
    error: str | None = None

    @property
    def checked(self) -> bool:
        return self.note is None and self.error is None

    def totals(self) -> MonthCoverage:
        """All months together (``month``: ``"total"``)."""
        return MonthCoverage(
            "total", sum(m.listed for m in self.months), sum(m.archived for m in self.months)
        )


def check_sitemaps(
    state_dir: str | Path,
    archived: Collection[str],
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    timeout: float = BUSY_TIMEOUT,
) -> SitemapCoverage:
    """The sitemaps' listings in ``state_dir`` against ``archived`` (canonical URLs).

    ``max_attempts`` (``RFI_MAX_ATTEMPTS``) tells a failed article given up from one a
    later run tries again; ``timeout``: how long to wait for a locked state.
    """
    state = Path(state_dir)
    coverage = SitemapCoverage(state)
    path = state / STATE_FILE
    if not path.is_file():
        coverage.note = f"no state at {state}: no sitemap read"
        return coverage
    try:
        db = connect_read_only(path, timeout)
    except sqlite3.Error as error:
        return _unreadable(coverage, path, error)
    with contextlib.closing(db):
        try:
            _compare(coverage, db, archived, max_attempts)
        except sqlite3.Error as error:
            return _unreadable(coverage, path, error)
    return coverage


def _unreadable(coverage: SitemapCoverage, path: Path, error: sqlite3.Error) -> SitemapCoverage:
    coverage.months, coverage.missing = [], []
    if getattr(error, "sqlite_errorname", "") in _BUSY:
        coverage.note = f"{path} is locked by another process (a crawl?): not checked"
    else:
        coverage.error = f"cannot read {path}: {error}"
    return coverage


def _compare(
    coverage: SitemapCoverage, db: sqlite3.Connection, archived: Collection[str], attempts: int
) -> None:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "sitemap_maps" not in tables or not db.execute("SELECT 1 FROM sitemap_maps").fetchone():
        coverage.note = f"no sitemap read yet (state {coverage.state_dir})"
        return
    listings = read_listings(coverage.state_dir)
    if listings is None:  # the tables are there, yet they could not be read
        raise sqlite3.DatabaseError("its sitemap tables cannot be read")
    if not listings:
        coverage.note = f"the sitemaps read listed no article (state {coverage.state_dir})"
        return
    failures = {
        _key(record.url): record for record in read_failures(coverage.state_dir, attempts) or []
    }
    has_seen = "seen" in tables
    for listing in listings:
        month = str(listing.month)
        # A crawl records canonical URLs: one found as it is needs no canonicalisation.
        keys = {url if url in archived else _key(url) for url in listing.urls}
        lacking = sorted(keys.difference(archived))
        coverage.months.append(MonthCoverage(month, len(keys), len(keys) - len(lacking)))
        for key in lacking:
            cause = _cause(failures.get(key))
            if cause is None:
                exported = (
                    has_seen and db.execute("SELECT 1 FROM seen WHERE url = ?", (key,)).fetchone()
                )
                cause = (
                    "exported by a crawl, not in this archive" if exported else "not fetched yet"
                )
            coverage.missing.append(MissingArticle(month, key, cause))


def _key(url: object) -> str:
    """The canonical URL of a listed (or failed) URL; as written when it is off the site."""
    return canonical_url(str(url)) or str(url)


def _cause(failure: FailureRecord | None) -> str | None:
    """The failure's cause, attempts, and whether the crawl gave it up: as it judged with
    its own ``RFI_MAX_ATTEMPTS`` (:func:`read_failures` judges a state from before it
    recorded that by QA's), never QA's setting against a crawl's later judgement."""
    if failure is None:
        return None
    attempts = failure.attempts if isinstance(failure.attempts, int) else 0  # a hostile row
    times = f"{attempts} time{'s' * (attempts != 1)}"
    later = "given up" if failure.given_up else "tried again next run"
    return f"{failure.cause} (failed {times}, {later})"
