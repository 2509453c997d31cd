"""Requests queued by a run from before sources were objects still resume (issue 25).

Such a run wrote its requests under JOBDIR (Scrapy's disk queue: ``Request.to_dict``,
then ``request_from_dict`` at resume) and in Redis (``crawl/redis_codec.py``) with its
callbacks by name: ``parse_listing``, ``parse_feed``, ``parse_robots``, ``parse_sitemap``
(``site_url``, ``month``), ``parse_mirror`` and the errbacks ``on_error``,
``on_robots_error``, ``on_mirror_error`` (``git show 3c21b60:rfi_spider/spiders/rfi_cn.py``).
Here the dicts are written as that code wrote them, read back by today's spider, and
answered: the work is its source's. Responses are built by hand: no network.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import scrapy
from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse
from scrapy.utils.request import request_from_dict
from scrapy.utils.test import get_crawler
from twisted.internet import error as neterror
from twisted.python.failure import Failure

from rfi_spider import meta_keys
from rfi_spider import settings as project_settings
from rfi_spider.crawl.redis_codec import decode_request, dumps
from rfi_spider.spiders.rfi_cn import RfiCnSpider

BASE = "http://127.0.0.1:9"
SITE = "https://www.rfi.fr"
A1 = "/cn/%E5%9B%BD%E9%99%85/20240307-a1"
SECTION = "/cn/%E5%9B%BD%E9%99%85/"
PROJECT = {
    name: getattr(project_settings, name) for name in dir(project_settings) if name.isupper()
}


@pytest.fixture
def spider(tmp_path: Path) -> Iterator[RfiCnSpider]:
    crawler = get_crawler(RfiCnSpider, {**PROJECT, "RFI_OUTPUT_DIR": str(tmp_path)})
    made = RfiCnSpider.from_crawler(crawler, base_url=BASE, mirrors="")
    yield made
    made.on_closed()


def old_request(
    path: str,
    callback: str,
    errback: str,
    kind: str,
    priority: int,
    cb_kwargs: dict[str, Any] | None = None,
    **meta: Any,
) -> dict[str, Any]:
    """A request's dict as the old spider's ``Request.to_dict`` wrote it: its kind and
    REFETCH in the meta, no ``meta_keys.SOURCE``."""
    return {
        "url": BASE + path,
        "callback": callback,
        "errback": errback,
        "headers": {},
        "method": "GET",
        "body": b"",
        "cookies": {},
        "meta": {meta_keys.KIND: kind, meta_keys.REFETCH: True, **meta},
        "encoding": "utf-8",
        "priority": priority,
        "dont_filter": False,
        "flags": [],
        "cb_kwargs": cb_kwargs or {},
    }


LISTING = old_request("/cn/", "parse_listing", "on_error", "listing", 5, **{meta_keys.DEPTH: 0})
FEED = old_request("/cn/rss", "parse_feed", "on_error", "feed", 10)
ROBOTS = old_request("/robots.txt", "parse_robots", "on_robots_error", "robots", 15)
SITEMAP = old_request(
    "/sitemaps/cn/2024-03.xml",
    "parse_sitemap",
    "on_error",
    "sitemap",
    3,
    {"site_url": SITE + "/sitemaps/cn/2024-03.xml", "month": date(2024, 3, 1)},
)
MIRROR = old_request("/mirror/rfi.xml", "parse_mirror", "on_mirror_error", "mirror", 20)
ARTICLE = old_request(A1, "on_article", "on_article_error", "article", 0, {"site_url": SITE + A1})


def read_back(spider: RfiCnSpider, old: dict[str, Any], how: str) -> scrapy.Request:
    """The request as a resumed run gets it: from JOBDIR's disk queue, or from Redis."""
    if how == "jobdir":
        return request_from_dict(old, spider=spider)
    return decode_request(dumps(old), spider)


def answer(request: scrapy.Request, body: str, cls: type[TextResponse] = HtmlResponse) -> Response:
    return cls(url=request.url, body=body.encode(), encoding="utf-8", request=request)


def article_urls(outputs: Any) -> list[str]:
    return [r.cb_kwargs["site_url"] for r in outputs if r.meta.get(meta_keys.KIND) == "article"]


HOW = pytest.mark.parametrize("how", ["jobdir", "redis"])


@HOW
def test_an_old_listing_request_is_read_by_the_listings(spider: RfiCnSpider, how: str) -> None:
    request = read_back(spider, LISTING, how)
    outputs = list(
        request.callback(answer(request, f'<a href="{A1}">a</a><a href="{SECTION}">s</a>'))
    )
    assert article_urls(outputs) == [SITE + A1]
    (section,) = [r for r in outputs if r.meta.get(meta_keys.KIND) == "listing"]
    assert section.url == BASE + SECTION and section.meta[meta_keys.DEPTH] == 1
    assert section.meta[meta_keys.SOURCE] == "listings"  # the next one is of today


@HOW
def test_an_old_feed_request_is_read_by_the_rss_source(spider: RfiCnSpider, how: str) -> None:
    request = read_back(spider, FEED, how)
    body = (
        f'<?xml version="1.0"?><rss><channel><item><link>{SITE}{A1}</link></item></channel></rss>'
    )
    assert article_urls(request.callback(answer(request, body, XmlResponse))) == [SITE + A1]


@HOW
def test_an_old_robots_request_leads_to_the_sitemaps(spider: RfiCnSpider, how: str) -> None:
    request = read_back(spider, ROBOTS, how)
    maps = list(request.callback(answer(request, "User-agent: *\n", TextResponse)))
    assert [m.url for m in maps] == [BASE + spider.edition.news_sitemap]
    assert spider.crawler.stats.get_value("rfi/sitemap/not_in_robots") == 1


@HOW
def test_an_old_sitemap_request_keeps_its_month(spider: RfiCnSpider, how: str) -> None:
    request = read_back(spider, SITEMAP, how)
    assert request.cb_kwargs["month"] == date(2024, 3, 1)
    body = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{SITE}{A1}</loc></url></urlset>"
    )
    outputs = request.callback(answer(request, body, XmlResponse), **request.cb_kwargs)
    assert article_urls(outputs) == [SITE + A1]
    assert spider.crawler.stats.get_value("rfi/sitemap/read") == 1


@HOW
def test_an_old_mirror_request_is_read_by_the_mirrors(spider: RfiCnSpider, how: str) -> None:
    request = read_back(spider, MIRROR, how)
    assert list(request.callback(answer(request, "not a feed", XmlResponse))) == []
    assert spider.crawler.stats.get_value("rfi/mirror/bad_feed") == 1


def fail(request: scrapy.Request) -> Failure:
    failure = Failure(neterror.ConnectionRefusedError())
    failure.request = request  # type: ignore[attr-defined]  # as Scrapy's errbacks get it
    return failure


@HOW
def test_old_errbacks_are_their_sources(spider: RfiCnSpider, how: str) -> None:
    stats = spider.crawler.stats
    robots = read_back(spider, ROBOTS, how)
    maps = list(robots.errback(fail(robots)))  # no robots.txt: the edition's usual maps
    assert [m.url for m in maps] == [BASE + spider.edition.news_sitemap]
    mirror = read_back(spider, MIRROR, how)
    assert list(mirror.errback(fail(mirror))) == []
    assert stats.get_value("rfi/mirror/unreachable") == 1
    listing = read_back(spider, LISTING, how)
    assert list(listing.errback(fail(listing))) == []
    failed = {k: v for k, v in stats.get_stats().items() if k.startswith("rfi/failed/")}
    assert sorted(failed) == [
        "rfi/failed/listing/ConnectionRefusedError",
        "rfi/failed/mirror/ConnectionRefusedError",
        "rfi/failed/robots/ConnectionRefusedError",
    ]


@HOW
def test_an_old_article_request_keeps_its_callbacks(spider: RfiCnSpider, how: str) -> None:
    request = read_back(spider, ARTICLE, how)
    assert request.callback == spider.on_article
    assert request.errback == spider.on_article_error
    assert request.cb_kwargs == {"site_url": SITE + A1}


def test_a_request_of_a_source_the_run_lacks_is_dropped_and_counted(
    spider: RfiCnSpider,
) -> None:
    request = read_back(spider, FEED, "jobdir")
    request.meta[meta_keys.KIND] = "podcast"  # no source of that kind, then or now
    assert list(request.callback(answer(request, "<rss/>", XmlResponse))) == []
    assert spider.crawler.stats.get_value("rfi/dropped/unknown_source") == 1
