"""Sitemaps cost bounded work whatever the site sends (issue 24): one bad entry costs
that entry only; indexes are followed one level deep, and a run takes a bounded number
of child maps; a map's entries are recorded a batch at a time, never all held."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from itertools import islice
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import scrapy
from scrapy.http import XmlResponse
from scrapy.utils.test import get_crawler

from rfi_spider import settings as project_settings
from rfi_spider.canonical import FetchRoot
from rfi_spider.crawl.sitemaps import (
    INDEX_DEPTH,
    Entry,
    MapBudget,
    parse_lastmod,
    read_entry,
)
from rfi_spider.dates import parse_feed_date
from rfi_spider.sources import Sitemaps
from rfi_spider.spiders.rfi_cn import RfiCnSpider

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
BASE = "http://127.0.0.1:9"
SITE = "https://www.rfi.fr"
PROJECT = {
    name: getattr(project_settings, name) for name in dir(project_settings) if name.isupper()
}
# Times that datetime cannot move to UTC: OverflowError, not ValueError.
BEYOND_UTC = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00"]


def article(n: int, day: str = "20240307") -> str:
    return f"{SITE}/cn/%E5%9B%BD%E9%99%85/{day}-a{n}"


def urlset(*entries: tuple[str, str | None]) -> bytes:
    body = "".join(
        f"<url><loc>{loc}</loc>{f'<lastmod>{mod}</lastmod>' if mod else ''}</url>"
        for loc, mod in entries
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>{body}</urlset>'.encode()


def index(*children: tuple[str, str | None]) -> bytes:
    body = "".join(
        f"<sitemap><loc>{loc}</loc>{f'<lastmod>{mod}</lastmod>' if mod else ''}</sitemap>"
        for loc, mod in children
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex {NS}>{body}</sitemapindex>'.encode()
    )


@pytest.fixture
def make_spider(tmp_path: Path) -> Iterator:
    made: list[RfiCnSpider] = []

    def make(settings: dict[str, object] | None = None, **args: str) -> RfiCnSpider:
        crawler = get_crawler(
            RfiCnSpider,
            {**PROJECT, "RFI_OUTPUT_DIR": str(tmp_path / str(len(made))), **(settings or {})},
        )
        spider = RfiCnSpider.from_crawler(crawler, base_url=BASE, mirrors="", **args)
        made.append(spider)
        return spider

    yield make
    for spider in made:
        spider.on_closed()


def read(spider: RfiCnSpider, request: scrapy.Request, body: bytes) -> list[scrapy.Request]:
    """What the spider asks for once ``request`` (a sitemap's) is answered with ``body``."""
    response = XmlResponse(request.url, body=body, request=request)
    return list(request.callback(response, **request.cb_kwargs))


def sitemaps(spider: RfiCnSpider) -> Sitemaps:
    """The run's sitemap source (the edition's block declares it)."""
    source = spider.sources["sitemaps"]
    assert isinstance(source, Sitemaps)
    return source


def stat(spider: RfiCnSpider, key: str) -> int:
    return spider.crawler.stats.get_value(key, 0)


def listed_urls(spider: RfiCnSpider) -> set[str]:
    rows = (
        sitemaps(spider)
        .context.listings.store.db.execute("SELECT url FROM sitemap_urls")
        .fetchall()
    )
    return {url for (url,) in rows}


# --- one bad lastmod costs its entry only -----------------------------------------------------
@pytest.mark.parametrize("text", BEYOND_UTC)
def test_a_lastmod_beyond_utc_is_a_bad_lastmod_not_an_overflow(text: str) -> None:
    with pytest.raises(ValueError):
        parse_lastmod(text)
    assert read_entry({"loc": article(1), "lastmod": text}, FetchRoot()) == "bad_lastmod"


@pytest.mark.parametrize("text", BEYOND_UTC)
def test_one_bad_lastmod_in_a_news_map_loses_that_entry_only(make_spider, text: str) -> None:
    spider = make_spider()
    news = sitemaps(spider).sitemap_request(f"{SITE}/sitemaps/cn/news.xml", None)
    body = urlset((article(1), "2024-03-07"), (article(2), text), (article(3), None))
    asked = [r.cb_kwargs["site_url"] for r in read(spider, news, body)]
    assert asked == [article(1), article(3)]
    assert listed_urls(spider) == {article(1), article(3)}
    assert stat(spider, "rfi/sitemap/entry/bad_lastmod") == 1


@pytest.mark.parametrize("text", BEYOND_UTC)
def test_one_bad_lastmod_in_an_index_loses_that_child_only(make_spider, text: str) -> None:
    spider = make_spider(since="2024-01-01", until="2024-03-31")
    root = sitemaps(spider).sitemap_request(f"{SITE}/sitemaps/cn/index.xml", None)
    maps = f"{SITE}/sitemaps/cn/contents_2024"
    body = index((maps + "01.xml", None), (maps + "02.xml", text), (maps + "03.xml", "2024-03-31"))
    asked = [urlsplit(r.url).path for r in read(spider, root, body)]
    assert asked == ["/sitemaps/cn/contents_202401.xml", "/sitemaps/cn/contents_202403.xml"]
    assert stat(spider, "rfi/sitemap/child/bad_lastmod") == 1


@pytest.mark.parametrize(
    "text",
    [
        "Mon, 01 Jan 99999999999999999999 00:00:00 +0000",  # a year of 20 digits
        "Mon, 01 Jan 2024 00:00:00 +99999999999999999999",
        "01 Jan 2024 99999999999999999999:00:00 +0000",
    ],
)
def test_a_feed_date_of_twenty_digits_is_no_date(text: str) -> None:
    assert parse_feed_date(text) is None  # not an OverflowError that loses the whole feed


# --- the backfill's last day ------------------------------------------------------------------
@pytest.mark.parametrize("day", [date(2024, 3, 1), date(2024, 3, 7)])
def test_an_entry_on_the_first_or_last_day_without_lastmod_is_fetched(
    make_spider, day: date
) -> None:
    spider = make_spider(since="2024-03-01", until="2024-03-07")
    entry = Entry(article(1, day.strftime("%Y%m%d")), day, None, None)
    assert sitemaps(spider).may_be_in_range(entry)
    monthly = sitemaps(spider).sitemap_request(
        f"{SITE}/sitemaps/cn/contents_202403.xml", date(2024, 3, 1)
    )
    asked = read(spider, monthly, urlset((entry.url, None)))
    assert [r.cb_kwargs["site_url"] for r in asked] == [entry.url]


def test_an_entry_the_day_after_the_range_without_lastmod_is_not(make_spider) -> None:
    spider = make_spider(since="2024-03-01", until="2024-03-07")
    assert not sitemaps(spider).may_be_in_range(
        Entry(article(1, "20240308"), date(2024, 3, 8), None, None)
    )


# --- indexes: one level deep, a bounded number of children --------------------------------------
def test_a_chain_of_indexes_stops_at_the_first_index_an_index_lists(make_spider) -> None:
    spider = make_spider(since="all")
    levels = 50
    bodies = {
        f"/sitemaps/cn/index_{n}.xml": index((f"{SITE}/sitemaps/cn/index_{n + 1}.xml", None))
        for n in range(levels)
    }
    queue = [sitemaps(spider).sitemap_request(f"{SITE}/sitemaps/cn/index_0.xml", None)]
    fetched: list[str] = []
    while queue:
        request = queue.pop()
        fetched.append(urlsplit(request.url).path)
        queue += read(spider, request, bodies[fetched[-1]])
    assert INDEX_DEPTH == 1
    assert fetched == ["/sitemaps/cn/index_0.xml", "/sitemaps/cn/index_1.xml"]
    assert stat(spider, "rfi/sitemap/read") == 1
    assert stat(spider, "rfi/sitemap/bad/too_deep") == 1


def test_an_index_that_lists_itself_is_read_once(make_spider) -> None:
    spider = make_spider(since="all")
    url = f"{SITE}/sitemaps/cn/index.xml"
    body = index((url, None), (f"{SITE}/sitemaps/cn/contents_202403.xml", None))
    children = read(spider, sitemaps(spider).sitemap_request(url, None), body)
    assert [urlsplit(c.url).path for c in children] == [
        "/sitemaps/cn/index.xml",
        "/sitemaps/cn/contents_202403.xml",
    ]
    assert read(spider, children[0], body) == []  # itself, one level down: refused
    assert stat(spider, "rfi/sitemap/read") == 1
    assert stat(spider, "rfi/sitemap/bad/too_deep") == 1


def test_a_huge_index_queues_at_most_the_runs_budget_of_maps(make_spider) -> None:
    spider = make_spider({"RFI_SITEMAP_MAX_CHILDREN": 100}, since="all")
    url = f"{SITE}/sitemaps/cn/index.xml"
    children = [(f"{SITE}/sitemaps/cn/map_{n}.xml", None) for n in range(5000)]
    asked = read(spider, sitemaps(spider).sitemap_request(url, None), index(*children))
    assert len(asked) == 100
    assert [urlsplit(r.url).path for r in asked[:2]] == [
        "/sitemaps/cn/map_0.xml",
        "/sitemaps/cn/map_1.xml",
    ]
    assert stat(spider, "rfi/sitemap/child/over_limit") == 4900
    # The budget is the run's, not the index's: a second index gets nothing more.
    again = read(
        spider,
        sitemaps(spider).sitemap_request(url.replace("index", "more"), None),
        index(*children),
    )
    assert again == [] and stat(spider, "rfi/sitemap/child/over_limit") == 9900


def test_the_default_budget_takes_every_real_month_and_is_bounded(make_spider) -> None:
    spider = make_spider(since="all")
    limit = sitemaps(spider).map_budget.limit
    assert 300 < limit <= 10_000  # some 300 monthly maps on the live site
    children = [(f"{SITE}/sitemaps/cn/map_{n}.xml", None) for n in range(limit + 7)]
    asked = read(
        spider,
        sitemaps(spider).sitemap_request(f"{SITE}/sitemaps/cn/index.xml", None),
        index(*children),
    )
    assert len(asked) == limit


def test_no_limit_is_0() -> None:
    budget = MapBudget(0)
    assert all(budget.take() for _ in range(10_000))


# --- a map's entries: a batch at a time --------------------------------------------------------
def test_a_maps_entries_are_recorded_a_batch_at_a_time(make_spider) -> None:
    spider = make_spider()
    pulled = 0

    def raw_entries() -> Iterator[dict[str, str]]:
        nonlocal pulled
        for n in range(1200):
            pulled += 1
            yield {"loc": article(n), "lastmod": "2024-03-07"}

    url = f"{SITE}/sitemaps/cn/news.xml"
    found = sitemaps(spider).articles(url, url, None, raw_entries())
    assert len(list(islice(found, 500))) == 500
    assert pulled == 500  # read as the map is parsed, not all first
    assert len(listed_urls(spider)) == 500  # recorded before the rest is even read
    list(found)
    assert pulled == 1200 and len(listed_urls(spider)) == 1200
    maps = (
        sitemaps(spider)
        .context.listings.store.db.execute("SELECT url, entries FROM sitemap_maps")
        .fetchall()
    )
    assert maps == [(url, 1200)]
