"""The null spider: the framework's ceiling on this machine.

``scrapy runspider benchmarks/null_spider.py -a base_url=http://127.0.0.1:PORT``
with its own minimal settings (``SCRAPY_SETTINGS_MODULE=benchmarks.null_settings``:
no WARC, no project component) and the crawl's concurrency. It starts from the same
requests as ``rfi_cn`` (``RFI_HOME``, ``RFI_SECTIONS``, ``RFI_FEEDS``), takes the
article links of those listings and of the feed (a few pages: their cost is
noise), and fetches every article page with a callback that does nothing: no
decoding, no parsing, no item.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import unquote

import scrapy
from scrapy.http import Response

_ARTICLE = re.compile(r"^/cn/(?:[^/]+/){1,2}\d{8}-[^/]+$")
_HREF = re.compile(rb'href="(/cn/[^"]+)"')
_FEED_LINK = re.compile(rb"<link>https?://[^/<]+(/cn/[^<]+)</link>")


class NullSpider(scrapy.Spider):
    """Fetches what ``rfi_cn`` fetches and parses nothing."""

    name = "null"

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    async def start(self) -> AsyncIterator[scrapy.Request]:
        settings = self.settings
        yield scrapy.Request(
            self.base_url + (settings.get("RFI_HOME") or "/cn/"), self.parse_listing, priority=5
        )
        for section in settings.getlist("RFI_SECTIONS") if settings.get("RFI_SECTIONS") else []:
            path = "/cn/" + section.strip("/") + "/"
            yield scrapy.Request(self.base_url + path, self.parse_listing, priority=5)
        for feed in settings.getlist("RFI_FEEDS") if settings.get("RFI_FEEDS") else []:
            yield scrapy.Request(self.base_url + feed, self.parse_feed, priority=10)

    def articles(self, paths: list[bytes]) -> Iterator[scrapy.Request]:
        for raw in paths:
            path = raw.decode("utf-8")
            if _ARTICLE.match(unquote(path)):
                yield scrapy.Request(self.base_url + path, self.parse_article)

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        yield from self.articles(_HREF.findall(response.body))

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        yield from self.articles(_FEED_LINK.findall(response.body))

    def parse_article(self, response: Response) -> None:
        self.crawler.stats.inc_value("null/articles")
