"""The callbacks of requests queued by a run from before sources were objects.

A resumable crawl keeps its requests with their callbacks by name: under ``JOBDIR``
(Scrapy's disk queues) and in Redis (``crawl/redis_codec.py``). A run before issue 25
named one callback per kind of page (``parse_listing``, ``parse_feed``, ``parse_robots``,
``parse_sitemap`` with its ``site_url`` and ``month``, ``parse_mirror``) and their
errbacks (``on_error``, ``on_robots_error``, ``on_mirror_error``); its article requests'
``on_article`` and ``on_article_error`` are still the spider's. So that an operator who
upgrades between two runs of a crawl loses none of its queue, the spider keeps these
names, each handing the request to the source of its kind (``meta_keys.KIND``, as those
requests carry no ``meta_keys.SOURCE``): the same work as a request of today.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from scrapy.http import Response
from twisted.python.failure import Failure

from rfi_spider.sources import Listings, Mirrors, RssFeeds, Sitemaps

# The source of a request queued by such a run, by its kind (meta_keys.KIND).
SOURCE_OF_KIND = {
    "listing": Listings.kind,
    "feed": RssFeeds.kind,
    "robots": Sitemaps.kind,
    "sitemap": Sitemaps.kind,
    "mirror": Mirrors.kind,
}


class OldCallbacks:
    """The old callback names, as spider methods (``Request.to_dict`` and
    ``request_from_dict`` find a callback by its name on the spider)."""

    def parse_source(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        raise NotImplementedError

    def on_source_error(self, failure: Failure) -> Iterator[Any]:
        raise NotImplementedError

    def parse_listing(self, response: Response) -> Iterator[Any]:
        return self.parse_source(response)

    def parse_feed(self, response: Response) -> Iterator[Any]:
        return self.parse_source(response)

    def parse_robots(self, response: Response) -> Iterator[Any]:
        return self.parse_source(response)

    def parse_sitemap(self, response: Response, site_url: str, month: date | None) -> Iterator[Any]:
        return self.parse_source(response, site_url=site_url, month=month)

    def parse_mirror(self, response: Response) -> Iterator[Any]:
        return self.parse_source(response)

    def on_error(self, failure: Failure) -> Iterator[Any]:
        return self.on_source_error(failure)

    def on_robots_error(self, failure: Failure) -> Iterator[Any]:
        return self.on_source_error(failure)

    def on_mirror_error(self, failure: Failure) -> Iterator[Any]:
        return self.on_source_error(failure)
