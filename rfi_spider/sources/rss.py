"""RSS feeds: the edition's feed (``/cn/rss``), and any other its block declares; their
items' links are articles. ``RFI_FEEDS`` replaces the edition's feeds."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse

from rfi_spider.canonical import SITE_ROOT
from rfi_spider.extract import selectors as sel
from rfi_spider.sources.base import Found, Source

logger = logging.getLogger(__name__)


class RssFeeds(Source):
    """The feeds of the edition (one request each, in a plain run)."""

    kind = "rss"

    def paths(self) -> list[str]:
        """The feeds' paths: ``RFI_FEEDS``, or the ones the edition's block declares."""
        declared = [self.context.edition.path_of(spec) for spec in self.specs]
        return self.context.config.feeds_of(declared)

    def start(self) -> Iterator[scrapy.Request]:
        if self.context.scope.backfill:  # a feed lists the last days only
            return
        for path in self.paths():
            url = self.context.site.to_fetch(SITE_ROOT + path)
            yield self.context.request(url, self, "feed", priority=10)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Found]:
        if not isinstance(response, TextResponse):
            self.stats.inc_value("rfi/feed/not_text")
            logger.warning("feed %s is not text", response.url)
            return
        root = scrapy.Selector(response, type="xml").root
        links = sel.FEED_LINKS(root) if root is not None else []
        if not links:
            self.stats.inc_value("rfi/feed/empty")
            logger.warning("feed %s has no item links", response.url)
        hrefs = (str(link) for link in links)
        articles, _ = self.context.article_links(response, hrefs, lambda url: False)
        yield from articles
