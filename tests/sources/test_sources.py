"""The sources on their own, and what declaring one more on an edition takes: one line in
its block (a second feed, a tag page as a listing), or one small class and one line (a
new kind). Responses are built by hand: no network."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import scrapy
from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

from rfi_spider import meta_keys
from rfi_spider import settings as project_settings
from rfi_spider.editions import CN, Edition, SourceSpec
from rfi_spider.sources import KINDS, Listings, RssFeeds, Source
from rfi_spider.sources.base import Found
from rfi_spider.spiders.rfi_cn import RfiCnSpider

BASE = "http://127.0.0.1:9"
SITE = "https://www.rfi.fr"
PROJECT = {
    name: getattr(project_settings, name) for name in dir(project_settings) if name.isupper()
}
A1 = "/cn/%E5%9B%BD%E9%99%85/20240307-a1"
A2 = "/cn/%E4%B8%AD%E5%9B%BD/20240308-a2"
TAG = "/cn/%E5%85%B3%E9%94%AE%E8%AF%8D/%E6%B3%95%E5%9B%BD/"  # /cn/关键词/法国/


def spider_of(edition: Edition, tmp_path: Path, **settings: Any) -> RfiCnSpider:
    """A spider of ``edition`` (its class names it, as ``RfiTwSpider`` does)."""
    cls = type("TestSpider", (RfiCnSpider,), {"edition": edition})
    crawler = get_crawler(cls, {**PROJECT, "RFI_OUTPUT_DIR": str(tmp_path), **settings})
    return cls.from_crawler(crawler, base_url=BASE, mirrors="")


@pytest.fixture
def spiders(tmp_path: Path) -> Iterator[list[RfiCnSpider]]:
    made: list[RfiCnSpider] = []
    yield made
    for spider in made:
        spider.on_closed()


def start_urls(spider: RfiCnSpider) -> list[str]:
    async def collect() -> list[scrapy.Request]:
        return [request async for request in spider.start()]

    return [request.url for request in asyncio.run(collect())]


def answer(request: scrapy.Request, body: str, cls: type[TextResponse] = HtmlResponse) -> Response:
    return cls(url=request.url, body=body.encode(), encoding="utf-8", request=request)


def feed(*paths: str) -> str:
    items = "".join(f"<item><link>{SITE}{path}</link></item>" for path in paths)
    return f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'


def listing(*paths: str) -> str:
    links = "".join(f'<a href="{path}">x</a>' for path in paths)
    return f"<html><body>{links}</body></html>"


def articles_requested(outputs: Iterator[Any]) -> list[str]:
    return [r.cb_kwargs["site_url"] for r in outputs if r.meta.get(meta_keys.KIND) == "article"]


def source_request(spider: RfiCnSpider, kind: str, url: str) -> scrapy.Request:
    (request,) = [r for r in spider.sources[kind].start() if r.url == url]
    return request


# --- one more of a kind: one line in the edition's block ------------------------------
def test_a_second_feed_is_one_line_in_the_block(tmp_path: Path, spiders: list[RfiCnSpider]) -> None:
    edition = replace(CN, sources=(*CN.sources, SourceSpec("rss", "rss/second")))
    spider = spider_of(edition, tmp_path)
    spiders.append(spider)
    urls = start_urls(spider)
    assert BASE + "/cn/rss" in urls and BASE + "/cn/rss/second" in urls
    second = source_request(spider, "rss", BASE + "/cn/rss/second")
    outputs = spider.parse_source(answer(second, feed(A1, A2), XmlResponse))
    assert articles_requested(outputs) == [SITE + A1, SITE + A2]  # crawled


def test_a_tag_page_as_a_listing_is_one_line_in_the_block(
    tmp_path: Path, spiders: list[RfiCnSpider]
) -> None:
    edition = replace(CN, sources=(*CN.sources, SourceSpec("listings", "关键词/法国/")))
    spider = spider_of(edition, tmp_path, RFI_SECTIONS=[])
    spiders.append(spider)
    assert BASE + TAG in start_urls(spider)
    tag = source_request(spider, "listings", BASE + TAG)
    assert articles_requested(spider.parse_source(answer(tag, listing(A1)))) == [SITE + A1]


# --- a new kind: one small class, and one line ----------------------------------------
class OneArticle(Source):
    """A made-up kind: a page whose only job is to name one article."""

    kind = "test-one-article"

    def start(self) -> Iterator[scrapy.Request]:
        for spec in self.specs:
            url = self.context.site.to_fetch(SITE + self.context.edition.path_of(spec))
            yield self.context.request(url, self, "listing", priority=5)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Found]:
        yield SITE + response.text.strip()


@pytest.fixture
def new_kind() -> Iterator[None]:
    yield
    KINDS.pop(OneArticle.kind, None)


def test_a_new_kind_is_one_class_and_one_line(
    tmp_path: Path, spiders: list[RfiCnSpider], new_kind: None
) -> None:
    edition = replace(CN, sources=(SourceSpec("test-one-article", "pick"),))
    spider = spider_of(edition, tmp_path)
    spiders.append(spider)
    assert start_urls(spider) == [BASE + "/cn/pick"]
    request = source_request(spider, "test-one-article", BASE + "/cn/pick")
    assert articles_requested(spider.parse_source(answer(request, A2))) == [SITE + A2]


# --- each source alone ---------------------------------------------------------------
def test_a_listing_follows_listings_only_so_deep(
    tmp_path: Path, spiders: list[RfiCnSpider]
) -> None:
    spider = spider_of(CN, tmp_path, RFI_LISTING_DEPTH=1)
    spiders.append(spider)
    listings = spider.sources["listings"]
    assert isinstance(listings, Listings)
    home = listings.request(SITE + "/cn/", depth=0)
    section = "/cn/%E5%9B%BD%E9%99%85/"
    found = list(listings.parse(answer(home, listing(A1, section, TAG))))
    assert found[0] == SITE + A1
    assert [r.url for r in found[1:]] == [BASE + section]  # tags are not walked
    assert found[1].meta[meta_keys.DEPTH] == 1
    deeper = list(listings.parse(answer(found[1], listing(A2, section))))
    assert deeper == [SITE + A2]  # at RFI_LISTING_DEPTH: no further listing


def test_a_listing_that_is_not_html_is_counted(tmp_path: Path, spiders: list[RfiCnSpider]) -> None:
    spider = spider_of(CN, tmp_path)
    spiders.append(spider)
    listings = spider.sources["listings"]
    request = listings.start().__next__()
    response = Response(url=request.url, body=b"\x00", request=request)
    assert list(listings.parse(response)) == []
    assert spider.crawler.stats.get_value("rfi/dropped/not_html") == 1


def test_a_feed_without_items_is_counted(tmp_path: Path, spiders: list[RfiCnSpider]) -> None:
    spider = spider_of(CN, tmp_path, RFI_FEEDS=["/cn/other-rss"])
    spiders.append(spider)
    feeds = spider.sources["rss"]
    assert isinstance(feeds, RssFeeds)
    (request,) = feeds.start()  # RFI_FEEDS replaces the block's feeds
    assert request.url == BASE + "/cn/other-rss"
    assert list(feeds.parse(answer(request, feed(), XmlResponse))) == []
    assert spider.crawler.stats.get_value("rfi/feed/empty") == 1


def test_a_backfill_reads_no_feed(tmp_path: Path) -> None:
    crawler = get_crawler(RfiCnSpider, {**PROJECT, "RFI_OUTPUT_DIR": str(tmp_path)})
    spider = RfiCnSpider.from_crawler(
        crawler, base_url=BASE, mirrors="", since="2024-03-01", until="2024-03-02"
    )
    try:
        assert list(spider.sources["rss"].start()) == []
        assert [r.url for r in spider.sources["sitemaps"].start()] == [BASE + "/robots.txt"]
    finally:
        spider.on_closed()
