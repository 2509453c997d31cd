"""Editions as data: /cn and /tw from one block each, and a third one from a block alone.

Unit tests of the rules derived from an :class:`Edition` (article URLs, listings,
sections, the schema, the publisher filter, the start pages, the output folder),
and crawls of ``rfi_tw`` as a user runs them: the demo, twice.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import scrapy
from conftest import FIXTURES, run_crawl
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from rfi_spider import settings as project_settings
from rfi_spider.canonical import FetchRoot, canonical_url, is_article_url, section_of
from rfi_spider.editions import CN, TW, Edition, edition_of, register, unregister
from rfi_spider.extract.loaders import load_article
from rfi_spider.extract.page import ArticlePage
from rfi_spider.extract.processors import not_publisher
from rfi_spider.item_schema import field_errors, load_schema, url_pattern
from rfi_spider.items import ArticleItem
from rfi_spider.spiders.rfi_cn import RfiCnSpider
from rfi_spider.spiders.rfi_tw import RfiTwSpider

PROJECT = {
    name: getattr(project_settings, name) for name in dir(project_settings) if name.isupper()
}
BASE = "http://127.0.0.1:9"
CN_ARTICLE = "https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/20240307-%E7%8E%8B%E6%AF%85"
TW_ARTICLE = "https://www.rfi.fr/tw/%E4%B8%AD%E5%9C%8B/20240307-%E7%8E%8B%E6%AF%85"
EXPECTED = json.loads((FIXTURES / "sample_site_expected.json").read_text(encoding="utf-8"))


def make_spider(cls: type[RfiCnSpider], tmp_path: Path, **settings: Any) -> RfiCnSpider:
    crawler = get_crawler(cls, {**PROJECT, "RFI_OUTPUT_DIR": str(tmp_path), **settings})
    return cls.from_crawler(crawler, base_url=BASE, mirrors="")


def listing(response: HtmlResponse) -> HtmlResponse:
    """``response`` as the answer to a listing request of the listings source (depth 0)."""
    meta = {"rfi_source": "listings", "rfi_kind": "listing", "rfi_depth": 0}
    return response.replace(request=scrapy.Request(response.url, meta=meta))


@pytest.fixture
def tw_spider(tmp_path: Path) -> Iterator[RfiCnSpider]:
    spider = make_spider(RfiTwSpider, tmp_path)
    yield spider
    spider.on_closed()


# --- URL rules -------------------------------------------------------------------
def test_traditional_host_gives_an_article_of_edition_tw() -> None:
    # trad.cn.rfi.fr was mapped to /tw, and the article pattern then rejected it.
    url = canonical_url("http://trad.cn.rfi.fr/中國/20190101-標題")
    assert url == "https://www.rfi.fr/tw/%E4%B8%AD%E5%9C%8B/20190101-%E6%A8%99%E9%A1%8C"
    assert is_article_url(url)
    assert is_article_url(url, TW) and not is_article_url(url, CN)
    assert edition_of(url) is TW
    assert section_of(url) == "中國"


def test_each_edition_owns_its_articles_only() -> None:
    assert is_article_url(CN_ARTICLE, CN) and not is_article_url(CN_ARTICLE, TW)
    assert edition_of(CN_ARTICLE) is CN
    assert edition_of("https://www.rfi.fr/fr/") is None
    assert not is_article_url("https://www.rfi.fr/fr/monde/20240307-x")
    assert not is_article_url("https://www.rfi.fr/tw/")


def test_listings_of_an_edition() -> None:
    sections = frozenset(TW.listings)
    assert TW.is_listing("https://www.rfi.fr/tw/%E4%B8%AD%E5%9C%8B/", sections)
    assert TW.is_listing("https://www.rfi.fr/tw/專欄檢索/法國報紙摘要/", sections)
    assert not TW.is_listing("https://www.rfi.fr/cn/中国/", frozenset(CN.listings))
    assert not TW.is_listing("https://www.rfi.fr/tw/中国/", sections)  # a /cn slug
    assert not TW.is_listing("https://www.rfi.fr" + TW.tag_url("北約"), sections)
    assert not CN.is_listing("https://www.rfi.fr/tw/中國/", frozenset(CN.listings))


def test_edition_paths() -> None:
    assert (TW.home, TW.feeds, TW.sitemap_index, TW.news_sitemap) == (
        "/tw/",
        ("/tw/rss",),
        "/sitemaps/tw/index.xml",
        "/sitemaps/tw/news.xml",
    )
    assert CN.archive_url.format(year=2024, month=3, day=7) == "/cn/档案资料库/2024/03/07"
    assert (CN.published_label, TW.published_label) == ("发表时间", "發表時間")


def test_publishers_of_every_edition_are_not_authors() -> None:
    for name in ("RFI", "rfi 中文", "法国国际广播电台", "法國國際廣播電台"):
        assert not_publisher(name) is None, name
    assert not_publisher("蘇安") == "蘇安"


# --- the schema --------------------------------------------------------------------
def good_item(**changes: Any) -> dict[str, Any]:
    item = dict(EXPECTED["articles"][0], crawled_at="2026-11-27T12:00:00+00:00")
    item["body_html"] = "<p>body</p>"
    return {**item, **changes}


def test_schema_accepts_each_edition_and_checks_the_url_is_of_it() -> None:
    assert field_errors(good_item()) == []
    assert field_errors(good_item(url=TW_ARTICLE, edition="tw")) == []
    assert field_errors(good_item(url=TW_ARTICLE, edition="cn"))[0].field == "url"
    assert field_errors(good_item(edition="tw"))[0].field == "url"
    assert field_errors(good_item(edition="fr"))[0].field == "edition"


def test_shipped_schema_file_matches_the_editions() -> None:
    """The JSON file is readable alone: its edition rules are the ones editions.py gives."""
    from importlib import resources

    text = resources.files("rfi_spider.schemas").joinpath("article.schema.json").read_text()
    assert json.loads(text) == load_schema()
    assert load_schema()["properties"]["url"]["pattern"] == url_pattern(["cn", "tw"])


# --- a third edition: one block of data --------------------------------------------
XX = Edition(
    key="xx",
    spider="rfi_xx",
    locale="xx_XX",
    sections=("世界",),
    columns_path="专栏",
    columns=("一栏",),
    tag_path="标签",
    archive_path="档案",
    published_label="发布",
    modified_label="修改",
    publishers=("某台",),
    old_hosts=("xx.rfi.fr",),
    output_dir="output-xx",
)


@pytest.fixture
def third_edition() -> Iterator[Edition]:
    register(XX)
    yield XX
    unregister("xx")


class RfiXxSpider(RfiCnSpider):
    name = "rfi_xx"
    edition = XX


def test_a_third_edition_takes_one_block(third_edition: Edition, tmp_path: Path) -> None:
    url = canonical_url("http://xx.rfi.fr/世界/20240307-标题")
    assert url == "https://www.rfi.fr/xx/%E4%B8%96%E7%95%8C/20240307-%E6%A0%87%E9%A2%98"
    assert is_article_url(url, third_edition) and edition_of(url) is third_edition
    assert section_of(url) == "世界"
    assert field_errors(good_item(url=url, edition="xx")) == []
    assert not_publisher("某台") is None
    spider = make_spider(RfiXxSpider, tmp_path)
    try:
        requests = asyncio.run(collect(spider))
        assert [r.url for r in requests] == [
            BASE + "/xx/",
            BASE + "/xx/%E4%B8%96%E7%95%8C/",
            BASE + "/xx/%E4%B8%93%E6%A0%8F/%E4%B8%80%E6%A0%8F/",
            BASE + "/xx/rss",
            BASE + "/robots.txt",  # it names the edition's sitemaps
        ]
        assert spider.sources["listings"].is_listing("https://www.rfi.fr/xx/世界/")  # type: ignore[attr-defined]
    finally:
        spider.on_closed()
    unregister("xx")
    assert not is_article_url(url)
    assert field_errors(good_item(url=url))[0].field == "url"


# --- the spider of an edition --------------------------------------------------------
async def collect(spider: RfiCnSpider) -> list[Any]:
    return [r async for r in spider.start()]


def test_rfi_tw_starts_from_its_own_pages(tw_spider: RfiCnSpider) -> None:
    requests = asyncio.run(collect(tw_spider))
    urls = [r.url for r in requests]
    assert urls[0] == BASE + "/tw/"
    assert urls[-2:] == [BASE + "/tw/rss", BASE + "/robots.txt"]
    assert BASE + "/tw/%E4%B8%AD%E5%9C%8B/" in urls
    assert BASE + quote("/tw/專欄檢索/環保天地/") in urls
    assert not [u for u in urls if "/cn/" in u]
    assert tw_spider.mirrors == []  # no /tw mirror is known


def test_start_settings_override_the_edition(tmp_path: Path) -> None:
    spider = make_spider(
        RfiTwSpider,
        tmp_path,
        RFI_HOME="",
        RFI_SECTIONS="國際",
        RFI_FEEDS="/tw/國際/rss",
        RFI_SITEMAPS=False,
    )
    try:
        urls = [r.url for r in asyncio.run(collect(spider))]
        assert urls == [BASE + "/tw/%E5%9C%8B%E9%9A%9B/", BASE + "/tw/%E5%9C%8B%E9%9A%9B/rss"]
    finally:
        spider.on_closed()


def test_mirrors_default_to_the_editions(tmp_path: Path) -> None:
    for cls, expected in ((RfiCnSpider, list(CN.mirrors)), (RfiTwSpider, [])):
        crawler = get_crawler(cls, {**PROJECT, "RFI_OUTPUT_DIR": str(tmp_path / cls.name)})
        spider = cls.from_crawler(crawler, base_url=BASE)
        assert spider.mirrors == expected
        spider.on_closed()


def test_links_to_the_other_edition_are_never_followed(tw_spider: RfiCnSpider) -> None:
    page = (
        f'<a href="{TW_ARTICLE}">tw</a><a href="{CN_ARTICLE}" hreflang="zh-Hans">cn twin</a>'
        '<a href="/cn/">简</a><a href="/tw/國際/">國際</a><a href="/cn/国际/">国际</a>'
        '<a href="http://cn.rfi.fr/中国/20190102-x">old cn host</a>'
    )
    response = HtmlResponse(url=BASE + "/tw/", body=page.encode(), encoding="utf-8")
    outputs = list(tw_spider.parse_source(listing(response)))
    listings = [r.url for r in outputs if r.meta["rfi_kind"] == "listing"]
    assert listings == [BASE + "/tw/%E5%9C%8B%E9%9A%9B/"]
    articles = [r.cb_kwargs["site_url"] for r in outputs if r.meta["rfi_kind"] == "article"]
    assert articles == [TW_ARTICLE]
    stats = tw_spider.crawler.stats
    assert stats.get_value("rfi/skipped/other_edition") == 2
    assert stats.get_value("rfi/articles/found") == 1
    assert not tw_spider.frontier.scope.in_run(CN_ARTICLE)  # a resumed /cn URL is left for rfi_cn


def test_a_mirror_entry_of_the_other_edition_is_not_used(tw_spider: RfiCnSpider) -> None:
    item = ArticleItem(url=CN_ARTICLE, title="t", source="feedx.net")
    mirrors = tw_spider.sources["mirrors"]
    assert list(mirrors.use_entry(item)) == []  # type: ignore[attr-defined]
    assert mirrors.fallbacks.entries == {}  # type: ignore[attr-defined]
    assert tw_spider.crawler.stats.get_value("rfi/mirror/skipped/other_edition") == 1


def test_a_page_that_turns_out_to_be_the_other_editions_is_dropped(tw_spider: RfiCnSpider) -> None:
    # A /tw URL the site redirects to the /cn twin: the page fetched is /cn's.
    body = (FIXTURES / "pages" / "image_standard.html").read_bytes()
    response = HtmlResponse(url=BASE + "/cn/%E4%B8%AD%E5%9B%BD/20240307-x", body=body)
    assert list(tw_spider.articles.judged(response, TW_ARTICLE)) == []
    assert tw_spider.crawler.stats.get_value("rfi/dropped/other_edition") == 1


def test_a_canonical_link_to_the_other_edition_takes_no_place(tw_spider: RfiCnSpider) -> None:
    # A /tw page whose canonical link and og:url name the /cn twin: kept under its own URL.
    body = (FIXTURES / "pages" / "image_standard.html").read_bytes()
    fetched = "/tw/%E4%B8%AD%E5%9C%8B/20240307-x"
    response = HtmlResponse(url=BASE + fetched, body=body)
    (item,) = tw_spider.articles.judged(response, "https://www.rfi.fr" + fetched)
    assert item["url"] == "https://www.rfi.fr" + fetched
    assert tw_spider.crawler.stats.get_value("rfi/page/canonical_mismatch") == 2
    assert tw_spider.crawler.stats.get_value("rfi/dropped/other_edition") is None


def test_url_argument_must_be_of_the_edition(tmp_path: Path) -> None:
    crawler = get_crawler(RfiTwSpider, {**PROJECT, "RFI_OUTPUT_DIR": str(tmp_path)})
    with pytest.raises(ValueError, match=r"not an RFI /tw article URL.*rfi_tw crawls"):
        RfiTwSpider.from_crawler(crawler, base_url=BASE, url=CN_ARTICLE)


def test_each_edition_exports_to_its_own_folder_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RFI_OUTPUT_DIR", raising=False)

    def output_dir(cls: type[RfiCnSpider], given: str | None = None) -> str:
        settings = Settings({**PROJECT, "RFI_OUTPUT_DIR": "output"}, priority="project")
        if given is not None:
            settings.set("RFI_OUTPUT_DIR", given, priority="cmdline")
        cls.update_settings(settings)
        return settings["RFI_OUTPUT_DIR"]

    assert output_dir(RfiCnSpider) == "output"
    assert output_dir(RfiTwSpider) == "output-tw"
    assert output_dir(RfiTwSpider, "output") == "output"  # -s RFI_OUTPUT_DIR=output
    assert output_dir(RfiTwSpider, "/srv/tw") == "/srv/tw"
    monkeypatch.setenv("RFI_OUTPUT_DIR", "output")
    assert output_dir(RfiTwSpider) == "output"  # the environment's choice


def test_the_tw_parser_fixture_is_a_tw_item() -> None:
    spec = json.loads((FIXTURES / "pages" / "tw_traditional_unsigned.json").read_text())
    body = (FIXTURES / "pages" / "tw_traditional_unsigned.html").read_bytes()
    response = HtmlResponse(url=canonical_url(spec["fetched_url"]) or "", body=body)
    page = ArticlePage.from_response(response, FetchRoot().to_site(response.url))
    item = load_article(page, crawled_at=None)
    assert item["edition"] == "tw" and item["authors"] == []
    assert item["date_text"] == "07/03/2024 - 07:48"


# --- crawls as a user runs them ------------------------------------------------------
def test_rfi_tw_demo_exports_tw_articles_once(tmp_path: Path) -> None:
    output = tmp_path / "out"
    first = run_crawl(output, "demo=1", spider="rfi_tw")
    assert first.returncode == 0, first.log[-3000:]
    urls = sorted(item["url"] for item in first.items)
    assert len(urls) == 4
    assert all(url.startswith("https://www.rfi.fr/tw/") for url in urls)
    assert {item["edition"] for item in first.items} == {"tw"}
    assert all(field_errors(item) == [] for item in first.items)
    assert "港澳台" in {item["section"] for item in first.items}  # the feed-only article
    assert len(first.article_files) == 4
    assert first.stat("rfi/skipped/other_edition") >= 1  # the /cn twins on its pages
    assert "rfi_tw crawl summary" in first.log
    second = run_crawl(output, "demo=1", spider="rfi_tw")
    assert second.returncode == 0, second.log[-3000:]
    assert second.stat("rfi/exported") == 0
    assert len(second.items) == 4
