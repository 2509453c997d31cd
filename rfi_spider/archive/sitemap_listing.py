"""What the site's sitemaps listed: the article URLs a crawl was asked to hold, per month.

As a crawl reads a sitemap (``crawl/sitemaps.py``), it records here each article entry
in its scope (its edition; in a backfill, its range) with the entry's ``lastmod``, and
each map it read. ``scrapy qa`` compares these lists with the archive on disk
("Coverage against the site's sitemaps"), and the crawl summary gives the same figure
for the run: listed, archived, missing.

Two tables of the state's SQLite database (``seen.sqlite3``): ``sitemap_urls`` (one
row per URL, its month ``YYYY-MM`` from the URL's date, the map that listed it and
the run that last saw it) and ``sitemap_maps`` (one row per map read). A map's rows
are written a batch at a time as it is read (:meth:`SitemapListings.add`), its
``sitemap_maps`` row once it is read whole (:meth:`SitemapListings.map_read`): nothing
is held in memory beyond one batch of entries, whatever the size of the map.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rfi_spider.archive.state import SeenStore, read_only
from rfi_spider.dates import now_iso

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS sitemap_urls (url TEXT PRIMARY KEY, month TEXT NOT NULL,"
    " lastmod TEXT, sitemap TEXT NOT NULL, run TEXT NOT NULL, listed_at TEXT NOT NULL)"
    " WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS sitemap_urls_run ON sitemap_urls (run)",
    "CREATE TABLE IF NOT EXISTS sitemap_maps (url TEXT PRIMARY KEY, month TEXT,"
    " entries INTEGER NOT NULL, run TEXT NOT NULL, read_at TEXT NOT NULL) WITHOUT ROWID",
)


@dataclass(frozen=True)
class ListedUrl:
    """One article entry of a sitemap: its canonical URL, month (``YYYY-MM``), lastmod."""

    url: str
    month: str
    lastmod: str | None = None


@dataclass
class RunCoverage:
    """One run's figure: entries listed in its scope, how many are archived, the missing."""

    listed: int = 0
    archived: int = 0
    missing: list[str] = field(default_factory=list)  # at most ``limit`` URLs

    @property
    def missing_count(self) -> int:
        return self.listed - self.archived


class SitemapListings:
    """The sitemap tables of a state store, written by one run (``run``: its id)."""

    def __init__(self, store: SeenStore, run: str) -> None:
        self.store = store
        self.run = run
        with store.transaction() as db:
            for statement in _SCHEMA:
                db.execute(statement)

    def record(self, sitemap: str, month: str | None, entries: Iterable[ListedUrl]) -> int:
        """Record one map read and its article entries in scope; returns how many entries."""
        count = self.add(sitemap, entries)
        self.map_read(sitemap, month, count)
        return count

    def add(self, sitemap: str, entries: Iterable[ListedUrl]) -> int:
        """Record a batch of article entries of ``sitemap`` (one transaction); returns how
        many. A URL listed again (by another map, or another run) keeps one row: the
        latest map, lastmod and run."""
        now = now_iso()
        rows = [(e.url, e.month, e.lastmod, sitemap, self.run, now) for e in entries]
        if not rows:
            return 0
        with self.store.transaction() as db:
            db.executemany(
                "INSERT INTO sitemap_urls (url, month, lastmod, sitemap, run, listed_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET"
                " month = excluded.month, lastmod = excluded.lastmod,"
                " sitemap = excluded.sitemap, run = excluded.run, listed_at = excluded.listed_at",
                rows,
            )
        return len(rows)

    def map_read(self, sitemap: str, month: str | None, entries: int) -> None:
        """``sitemap`` was read whole: ``entries`` article entries in scope."""
        with self.store.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO sitemap_maps (url, month, entries, run, read_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (sitemap, month, entries, self.run, now_iso()),
            )

    def unlist(self, url: str) -> None:
        """``url`` is not this run's to archive after all (published outside its range,
        though its URL's day is in it): its row of this run goes."""
        with self.store.transaction() as db:
            db.execute("DELETE FROM sitemap_urls WHERE url = ? AND run = ?", (url, self.run))

    def run_coverage(self, limit: int = 20) -> RunCoverage:
        """This run's listed entries against the URLs exported (this run or before)."""
        db = self.store.db
        listed = db.execute(
            "SELECT COUNT(*) FROM sitemap_urls WHERE run = ?", (self.run,)
        ).fetchone()[0]
        missing_query = (
            " FROM sitemap_urls l WHERE l.run = ?"
            " AND NOT EXISTS (SELECT 1 FROM seen s WHERE s.url = l.url)"
        )
        missing_count = db.execute("SELECT COUNT(*)" + missing_query, (self.run,)).fetchone()[0]
        missing = [
            row[0]
            for row in db.execute(
                "SELECT l.url" + missing_query + " ORDER BY l.month, l.url LIMIT ?",
                (self.run, limit),
            )
        ]
        return RunCoverage(listed=listed, archived=listed - missing_count, missing=missing)


@dataclass
class MonthListing:
    """The article URLs the sitemaps listed for one month (``YYYY-MM``), with lastmod."""

    month: str
    urls: dict[str, str | None] = field(default_factory=dict)  # url -> lastmod


def read_listings(state_dir: str | Path) -> list[MonthListing] | None:
    """Every listed URL of a state folder, by month (oldest first), read only; None when
    the folder has no state or no sitemap was ever read."""
    months: dict[str, MonthListing] = {}
    with read_only(state_dir) as db:
        if db is None:
            return None
        try:
            rows = db.execute("SELECT url, month, lastmod FROM sitemap_urls ORDER BY month, url")
            for url, month, lastmod in rows:
                months.setdefault(month, MonthListing(month)).urls[url] = lastmod
            maps = db.execute("SELECT COUNT(*) FROM sitemap_maps").fetchone()[0]
        except sqlite3.Error:  # no such table: no sitemap read with this state
            return None
    if not maps:
        return None
    return list(months.values())
