"""Sitemaps, found through ``robots.txt``: the news map in every run; in a backfill, the
sitemap index and its monthly maps that meet the range. What the maps list in scope is
recorded (``SitemapListings``) for the run's coverage figure. The reading of robots.txt,
maps and entries is ``crawl/sitemaps.py``'s."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from rfi_spider import meta_keys
from rfi_spider.archive.sitemap_listing import ListedUrl
from rfi_spider.canonical import SITE_ROOT
from rfi_spider.crawl.sitemaps import (
    INDEX_DEPTH,
    BadSitemapError,
    ChildMap,
    Entry,
    MapBudget,
    edition_maps,
    entries,
    is_news_map,
    month_key,
    parse_lastmod,
    read_entry,
    read_sitemap,
)
from rfi_spider.dates import paris_day, today_in_paris
from rfi_spider.editions import SourceSpec
from rfi_spider.sources.base import Context, Found, Source

logger = logging.getLogger(__name__)
# How many days back a Google News sitemap lists articles (two, by Google's rules).
NEWS_DAYS = 3
# A map's article URLs go to the frontier this many at a time (memory stays flat).
BATCH = 500


class Sitemaps(Source):
    """robots.txt, then the edition's maps it names (or its usual ones)."""

    kind = "sitemaps"

    def __init__(self, context: Context, specs: Iterable[SourceSpec]) -> None:
        super().__init__(context, specs)
        # The child maps the run may still take from indexes (RFI_SITEMAP_MAX_CHILDREN).
        self.map_budget = MapBudget(context.config.sitemap_max_children)

    def start(self) -> Iterator[scrapy.Request]:
        if not self.context.config.sitemaps:
            return
        # robots.txt names the edition's sitemaps (read again when a job resumes).
        url = self.context.site.to_fetch(SITE_ROOT + "/robots.txt")
        yield self.context.request(url, self, "robots", priority=15)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Found]:
        if response.meta.get(meta_keys.KIND) == "robots":
            yield from self.parse_robots(response)
        else:
            yield from self.parse_sitemap(response, **kwargs)

    def failed(self, failure: Failure) -> Iterator[Found]:
        """No ``robots.txt``: the edition's declared sitemaps."""
        if failure.request.meta.get(meta_keys.KIND) == "robots":  # type: ignore[attr-defined]
            yield from self.sitemap_requests([])

    def parse_robots(self, response: Response) -> Iterator[Found]:
        """The edition's maps that ``robots.txt`` names; its declared ones if it names none."""
        edition = self.context.edition
        maps = edition_maps(response.body, edition, self.context.site)
        if not maps:
            self.stats.inc_value("rfi/sitemap/not_in_robots")
            logger.info("robots.txt names no sitemap of %s: reading its usual ones", edition.home)
        yield from self.sitemap_requests(maps)

    def sitemap_requests(self, maps: list[str]) -> Iterator[scrapy.Request]:
        """A plain run reads the news sitemap(s); a backfill, the index(es)."""
        edition, scope = self.context.edition, self.context.scope
        if not maps:
            maps = [SITE_ROOT + edition.news_sitemap, SITE_ROOT + edition.sitemap_index]
        news = self.context.config.sitemap_news
        if scope.since and scope.until:
            # The news map lists the last days, which a month's map may not list yet: a
            # backfill reaching them reads it too.
            recent = scope.until >= today_in_paris() - timedelta(days=NEWS_DAYS)
            wanted = [url for url in maps if recent or not is_news_map(url, news)]
        else:
            wanted = [url for url in maps if is_news_map(url, news)]
        for url in wanted:
            yield self.sitemap_request(url, month=None)

    def sitemap_request(self, site_url: str, month: date | None, depth: int = 0) -> scrapy.Request:
        """A map to read; ``depth``: how many indexes led to it (0: robots.txt named it)."""
        return self.context.request(
            self.context.site.to_fetch(site_url),
            self,
            "sitemap",
            priority=3,
            meta={"download_maxsize": self.context.config.sitemap_max_bytes},
            cb_kwargs={"site_url": site_url, "month": month, "depth": depth},
        )

    def parse_sitemap(
        self, response: Response, site_url: str, month: date | None, depth: int = 0
    ) -> Iterator[Found]:
        """A sitemap index (its children) or an URL set (its articles); a map that is not
        a sitemap, declares entities or is too large is refused (``rfi/sitemap/bad/...``),
        and so is an index listed by an index (``too_deep``: ``INDEX_DEPTH``)."""
        limit = self.context.config.sitemap_max_bytes
        try:
            sitemap = read_sitemap(response.body, limit)
        except BadSitemapError as error:
            self.stats.inc_value(f"rfi/sitemap/bad/{error.reason}")
            logger.warning("sitemap %s refused: %s", response.url, error)
            return
        if sitemap.type == "sitemapindex" and depth >= INDEX_DEPTH:
            self.stats.inc_value("rfi/sitemap/bad/too_deep")
            logger.warning(
                "sitemap %s refused: an index %d level(s) below robots.txt (at most %d)",
                response.url,
                depth,
                INDEX_DEPTH,
            )
            return
        self.stats.inc_value("rfi/sitemap/read")
        if sitemap.type == "sitemapindex":
            yield from self.children(response.url, entries(sitemap), depth + 1)
        else:
            yield from self.articles(response.url, site_url, month, entries(sitemap))

    def children(
        self, map_url: str, children: Iterable[dict[str, str]], depth: int = 1
    ) -> Iterator[Found]:
        """Request the index's article maps of the edition whose month meets the range,
        as many as the run's budget of maps allows (``RFI_SITEMAP_MAX_CHILDREN``)."""
        budget = self.map_budget
        refused = budget.refused
        for child in children:
            found = self.child(map_url, child)
            if found is not None:
                yield self.sitemap_request(found.url, found.month, depth)
        if budget.refused > refused:
            logger.warning(
                "sitemap index %s: %d article map(s) not read: a run reads at most %d"
                " (RFI_SITEMAP_MAX_CHILDREN)",
                map_url,
                budget.refused - refused,
                budget.limit,
            )

    def child(self, map_url: str, child: dict[str, str]) -> ChildMap | None:
        """An index's child worth reading, or None (counted: why not)."""
        stats = self.stats
        loc = (child.get("loc") or "").strip()
        site_url = self.context.site.to_site(loc) if loc else None
        if site_url is None:  # not an URL, or another host's: never fetched
            stats.inc_value("rfi/sitemap/child/bad_loc")
            logger.warning(
                "sitemap index %s: child %r is not a map of the site: skipped", map_url, loc[:200]
            )
            return None
        if not urlsplit(site_url).path.startswith(self.context.edition.sitemap_folder):
            stats.inc_value("rfi/sitemap/child/other_edition")  # another language's map
            return None
        try:
            lastmod = parse_lastmod(child.get("lastmod"))
        except ValueError:
            stats.inc_value("rfi/sitemap/child/bad_lastmod")
            logger.warning("sitemap index %s: child %s has a bad lastmod", map_url, site_url)
            return None
        config = self.context.config
        contents = re.compile(config.sitemap_contents)
        found = ChildMap.classify(site_url, lastmod, contents, config.sitemap_skip)
        if not found.articles:
            stats.inc_value("rfi/sitemap/child/not_articles")
            return None
        if not found.overlaps(self.context.scope.since, self.context.scope.until):
            stats.inc_value("rfi/sitemap/child/out_of_range")
            return None
        if not self.map_budget.take():
            stats.inc_value("rfi/sitemap/child/over_limit")
            return None
        if found.month is None:
            stats.inc_value("rfi/sitemap/child/undated")
        return found

    def articles(
        self, map_url: str, site_url: str, month: date | None, items: Iterable[dict[str, str]]
    ) -> Iterator[Found]:
        """An URL set's articles in scope (edition, range), recorded as listed (a batch at
        a time: a map's entries are never all held)."""
        listings = self.context.listings
        recorded = 0
        listed: list[ListedUrl] = []
        edited: list[tuple[str, Any]] = []  # (url, lastmod): revisited if archived before it
        skipped: dict[str, int] = {}
        for raw in items:
            entry = read_entry(raw, self.context.site)
            if isinstance(entry, str):
                skipped[entry] = skipped.get(entry, 0) + 1
                self.stats.inc_value(f"rfi/sitemap/entry/{entry}")
                continue
            if not self.context.edition.owns(entry.url):
                self.stats.inc_value("rfi/sitemap/entry/other_edition")
                continue
            if not self.may_be_in_range(entry):
                self.stats.inc_value("rfi/sitemap/entry/out_of_range")
                continue
            self.stats.inc_value("rfi/sitemap/entries")
            listed.append(ListedUrl(entry.url, month_key(entry.day), entry.lastmod))
            edited.append((entry.url, entry.modified))
            if len(listed) >= BATCH:
                recorded += listings.add(site_url, listed)
                listed = []
                yield from self.revisits(edited)
                edited = []
            yield entry.url
        if skipped:
            logger.warning(
                "sitemap %s: entries skipped: %s",
                map_url,
                ", ".join(f"{reason} {count}" for reason, count in sorted(skipped.items())),
            )
        recorded += listings.add(site_url, listed)
        listings.map_read(site_url, month_key(month) if month else None, recorded)
        yield from self.revisits(edited)

    def revisits(self, edited: list[tuple[str, Any]]) -> Iterator[scrapy.Request]:
        """Revisits of the archived articles among ``edited`` whose lastmod is later than
        their last settled fetch (``crawl/revisits.py``)."""
        if self.context.revisits is not None:
            yield from self.context.revisits.from_sitemap(edited)

    def may_be_in_range(self, entry: Entry) -> bool:
        """Whether a listed article may have been published (Paris time) in the backfill
        range, so that it is fetched (and then judged on its page's date).

        An article is published on its URL's day or later (the URL's day is its creation
        day, in Paris or in UTC, never after the Paris day of publication): one dated after
        the range is out of it. One dated before it is fetched only when its ``lastmod``
        (never before publication) falls in or after the range: modified since, it may have
        been published since.
        """
        since, until = self.context.scope.since, self.context.scope.until
        if not (since and until) or since <= entry.day <= until:
            return True
        if entry.day > until or entry.modified is None:
            return False
        return paris_day(entry.modified) >= since

    def close(self) -> None:
        """The run's figure (stats, log): articles its sitemaps listed, archived, missing.

        Not in a distributed crawl: the other nodes export part of what this one listed,
        and ``scrapy qa`` over every node's folder gives the figure of the union.
        """
        if self.context.distributed:
            logger.info(
                "sitemap coverage of a distributed crawl: scrapy qa over every node's folder"
            )
            return
        coverage = self.context.listings.run_coverage()
        if not coverage.listed:
            return
        stats = self.stats
        stats.set_value("rfi/sitemap/listed", coverage.listed)
        stats.set_value("rfi/sitemap/archived", coverage.archived)
        stats.set_value("rfi/sitemap/missing", coverage.missing_count)
        if coverage.missing_count:
            logger.warning(
                "sitemaps listed %d article(s) in scope; %d not in the archive: %s%s",
                coverage.listed,
                coverage.missing_count,
                ", ".join(coverage.missing),
                " ..." if coverage.missing_count > len(coverage.missing) else "",
            )
