"""The mirror source's fallback bookkeeping, in both orders of arrival, without a network."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import scrapy
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from rfi_spider import settings as project_settings
from rfi_spider.editions import EDITIONS
from rfi_spider.items import ArticleItem
from rfi_spider.mirrors.entrypage import mirror_item
from rfi_spider.mirrors.feeds import MirrorEntry
from rfi_spider.sources import Mirrors
from rfi_spider.spiders.rfi_cn import RfiCnSpider

BASE = "http://127.0.0.1:9"
SAMPLE = resources.files("rfi_spider.demo.sample_site")
ROUTES = json.loads(SAMPLE.joinpath("routes.json").read_text())
PATHS = {name.split("_")[1]: path for path, name in ROUTES.items() if name.startswith("article_")}
A1 = "https://www.rfi.fr" + PATHS["a1"]
(ERROR_PATH,) = [p for p, name in ROUTES.items() if name.startswith("error_page")]
NOTRE_DAME = "https://www.rfi.fr" + ERROR_PATH


PROJECT = {
    name: getattr(project_settings, name) for name in dir(project_settings) if name.isupper()
}


def make_spider(tmp_path: Path, **kwargs: str) -> RfiCnSpider:
    crawler = get_crawler(RfiCnSpider, {**PROJECT, "RFI_OUTPUT_DIR": str(tmp_path)})
    return RfiCnSpider.from_crawler(crawler, **{"base_url": BASE, "mirrors": "", **kwargs})


@pytest.fixture
def spider(tmp_path: Path) -> Iterator[RfiCnSpider]:
    made = make_spider(tmp_path)
    yield made
    made.on_closed()


def entry_item(url: str = A1, host: str = "feedx.net") -> ArticleItem:
    html = (
        "<div>07/03/2024 - 18:02</div><p><strong>镜像摘要</strong></p><div><p>镜像正文。</p></div>"
    )
    entry = MirrorEntry("镜像标题", url, html, 1709830920000, host)
    return mirror_item(entry, crawled_at="2026-11-27T12:00:00+00:00")


def page(url: str, name: str) -> HtmlResponse:
    fetched = BASE + url.removeprefix("https://www.rfi.fr")
    return HtmlResponse(url=fetched, body=SAMPLE.joinpath(name).read_bytes())


def stat(spider: RfiCnSpider, name: str) -> int:
    return spider.crawler.stats.get_value(name, 0)


async def article(spider: RfiCnSpider, response: HtmlResponse, site_url: str) -> list[Any]:
    """What the spider's article callback gives for a page (items only)."""
    outputs = [output async for output in spider.on_article(response, site_url)]
    return [output for output in outputs if isinstance(output, ArticleItem)]


def mirrors_of(spider: RfiCnSpider) -> Mirrors:
    """The run's mirror source (the edition's block declares it)."""
    source = spider.sources["mirrors"]
    assert isinstance(source, Mirrors)
    return source


def use(spider: RfiCnSpider, item: ArticleItem) -> list[Any]:
    """A mirror's entry: the article URL to ask the site for, or the item at once."""
    return list(mirrors_of(spider).use_entry(item))


def refused(spider: RfiCnSpider, url: str, cause: str) -> list[ArticleItem]:
    return list(mirrors_of(spider).site_refused(url, cause))


def test_entry_first_then_the_site_refuses(spider: RfiCnSpider) -> None:
    item = entry_item()
    assert use(spider, item) == [A1]  # the site is asked first
    assert refused(spider, A1, "403") == [item]
    assert stat(spider, "rfi/mirror/fallback/403") == 1
    assert refused(spider, A1, "403") == []  # never twice
    assert use(spider, entry_item(host="rsshub.app")) == []
    assert stat(spider, "rfi/mirror/skipped/already_exported") == 1


def test_the_site_refuses_first_then_the_entry_arrives(spider: RfiCnSpider) -> None:
    assert refused(spider, A1, "TimeoutError") == []  # no mirror has it (yet)
    item = entry_item()
    assert use(spider, item) == [item]  # exported as soon as it arrives
    assert stat(spider, "rfi/mirror/fallback/TimeoutError") == 1
    assert mirrors_of(spider).fallbacks.site_failed == {}


def test_the_sites_page_wins(spider: RfiCnSpider) -> None:
    use(spider, entry_item())
    items = asyncio.run(article(spider, page(A1, ROUTES[PATHS["a1"]]), A1))
    assert [(i["url"], i["source"]) for i in items] == [(A1, "rfi.fr")]
    assert mirrors_of(spider).fallbacks.entries == {}
    assert use(spider, entry_item(host="rsshub.app")) == []  # a later copy


def test_a_200_page_that_is_not_the_article_falls_back(spider: RfiCnSpider) -> None:
    item = entry_item(NOTRE_DAME)
    use(spider, item)
    response = page(NOTRE_DAME, ROUTES[ERROR_PATH])
    assert asyncio.run(article(spider, response, NOTRE_DAME)) == [item]
    assert stat(spider, "rfi/dropped/no_title") == 1
    assert stat(spider, "rfi/mirror/fallback/no_title") == 1


def test_an_exported_article_is_neither_requested_nor_used(spider: RfiCnSpider) -> None:
    spider.seen.add(A1, "rfi.fr")
    assert use(spider, entry_item()) == []
    assert stat(spider, "rfi/mirror/skipped/already_exported") == 1
    assert mirrors_of(spider).fallbacks.entries == {}


def test_two_mirrors_with_one_article_keep_one_fallback(spider: RfiCnSpider) -> None:
    first = entry_item()
    assert use(spider, first) == [A1]
    assert use(spider, entry_item(host="rsshub.app")) == []
    assert stat(spider, "rfi/mirror/skipped/duplicate") == 1
    assert refused(spider, A1, "404") == [first]


def test_backfill_range_applies_to_mirror_items(tmp_path: Path) -> None:
    spider = make_spider(tmp_path, since="2024-03-08", until="2024-03-08")
    try:
        item = entry_item()  # published 2024-03-07, inside the URL's slack of one day
        assert use(spider, item) == [A1]
        assert refused(spider, A1, "403") == []
        assert stat(spider, "rfi/skipped/out_of_range") == 1
    finally:
        spider.on_closed()


def test_single_url_reads_mirrors_only_for_that_article(tmp_path: Path) -> None:
    spider = make_spider(tmp_path, url=A1)
    try:
        assert use(spider, entry_item(NOTRE_DAME)) == []
        assert stat(spider, "rfi/mirror/skipped/out_of_scope") == 1
        item = entry_item()
        assert use(spider, item) == [A1]
        assert refused(spider, A1, "403") == [item]
    finally:
        spider.on_closed()


def test_mirror_hosts_are_allowed_domains_and_fetched_first(tmp_path: Path) -> None:
    mirrors = "https://feedx.net/rss/rfi.xml, https://rsshub.app/rfi/cn"
    spider = make_spider(tmp_path, mirrors=mirrors)
    try:
        assert spider.allowed_domains == ["127.0.0.1", "feedx.net", "rsshub.app"]
        requests = list(mirrors_of(spider).start())
        assert [r.url for r in requests] == mirrors.replace(" ", "").split(",")
        assert all(not r.dont_filter for r in requests)
        assert min(r.priority for r in requests) > 10  # ahead of feeds (10) and listings
    finally:
        spider.on_closed()


def test_mirror_defaults(tmp_path: Path) -> None:
    assert project_settings.RFI_MIRRORS is None  # unset: the edition's
    assert list(EDITIONS["cn"].mirrors) == [
        "https://feedx.net/rss/rfi.xml",
        "https://rsshub.app/rfi/cn",
    ]
    assert EDITIONS["tw"].mirrors == ()
    crawler = get_crawler(
        RfiCnSpider,
        {**PROJECT, "RFI_OUTPUT_DIR": str(tmp_path), "RFI_MIRRORS": "https://m.example/f"},
    )
    spider = RfiCnSpider.from_crawler(crawler, base_url=BASE)
    assert spider.mirrors == ["https://m.example/f"]  # the setting, without -a mirrors=
    spider.on_closed()
    # The demo reads its own loopback feed: test_crawl's demo test exports its entry.


def test_start_requests_mirrors_first(tmp_path: Path) -> None:
    spider = make_spider(tmp_path, mirrors="https://feedx.net/rss/rfi.xml")

    async def collect() -> list[scrapy.Request]:
        return [r async for r in spider.start()]

    try:
        requests = asyncio.run(collect())
        assert requests[0].url == "https://feedx.net/rss/rfi.xml"
        assert requests[0].meta["rfi_kind"] == "mirror"
        assert len(requests) > 1
    finally:
        spider.on_closed()
