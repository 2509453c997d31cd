"""Listings: the edition's home, sections and columns (and any listing page its block
declares, a tag page say), walked ``RFI_LISTING_DEPTH`` listings deep; in a backfill with
``RFI_BACKFILL_ARCHIVE``, the daily archive's pages of the range instead."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import cached_property, lru_cache
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse

from rfi_spider import meta_keys
from rfi_spider.canonical import SITE_ROOT
from rfi_spider.extract.listing import read_links
from rfi_spider.sources.base import Found, Source

logger = logging.getLogger(__name__)

# How many links' is_listing answers a Listings source keeps (a few menus' worth).
_REMEMBERED_LINKS = 4096


class Listings(Source):
    """Listing pages: their article links, and the listings they link to."""

    kind = "listings"

    @property
    def max_depth(self) -> int:
        return self.context.config.listing_depth

    @cached_property
    def sections(self) -> frozenset[str]:
        """The section and column slugs walked (``RFI_SECTIONS``, or the edition's)."""
        listings = self.context.config.sections_of(self.context.edition)
        return frozenset(s.strip("/") for s in listings)

    def is_listing(self, site_url: str) -> bool:
        """The edition's section and column listings (never tag, author, video or podcast
        hubs, never another edition's). Remembered: every listing page repeats the menus'
        hundreds of links (a URL split and decoded each time otherwise, issue 26)."""
        return self._is_listing(site_url)

    @cached_property
    def _is_listing(self) -> Callable[[str], bool]:
        """:meth:`Edition.is_listing` for this source's edition and sections, its answers
        for the last :data:`_REMEMBERED_LINKS` links kept (bounded: a long crawl's links
        do not pile up)."""
        edition, sections = self.context.edition, self.sections

        @lru_cache(maxsize=_REMEMBERED_LINKS)
        def is_listing(site_url: str) -> bool:
            return edition.is_listing(site_url, sections)

        return is_listing

    def start(self) -> Iterator[scrapy.Request]:
        context, edition = self.context, self.context.edition
        if context.scope.backfill:
            if context.config.backfill_archive:
                yield from self.archive_days()
            return
        if any(not spec.path for spec in self.specs):  # the walk from home and sections
            home = context.config.home_of(edition)
            if home:
                yield self.request(SITE_ROOT + home, depth=0)
            for section in context.config.sections_of(edition):
                yield self.request(f"{SITE_ROOT}{edition.prefix}/{section.strip('/')}/", depth=0)
        for spec in self.specs:
            if spec.path:  # one more listing page the block declares
                yield self.request(SITE_ROOT + edition.path_of(spec), depth=0)

    def archive_days(self) -> Iterator[scrapy.Request]:
        """The daily archive's page of each day of the backfill range."""
        context = self.context
        since, until = context.scope.since, context.scope.until
        assert since is not None and until is not None
        archive = context.config.archive_url_of(context.edition)
        day = since
        while day <= until:
            path = archive.format(year=day.year, month=day.month, day=day.day)
            yield self.request(SITE_ROOT + path, depth=self.max_depth)
            day += timedelta(days=1)

    def request(self, site_url: str, depth: int) -> scrapy.Request:
        return self.context.request(
            self.context.site.to_fetch(site_url),
            self,
            "listing",
            priority=5,
            meta={meta_keys.DEPTH: depth},
        )

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Found]:
        if not isinstance(response, TextResponse):
            self.stats.inc_value("rfi/dropped/not_html")
            logger.warning(
                "listing %s is not HTML (%s)", response.url, response.headers.get("Content-Type")
            )
            return
        depth = response.meta.get(meta_keys.DEPTH, 0)
        hrefs = read_links(response.body, response.encoding)  # minus sponsored asides
        articles, listings = self.context.article_links(response, hrefs, self.is_listing)
        yield from articles
        if depth < self.max_depth:
            for listing in listings:
                yield self.request(listing, depth=depth + 1)
