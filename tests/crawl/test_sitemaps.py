"""The sitemap rules: which maps robots.txt names for an edition, which children of an
index are read, which entries become articles, and which sitemaps are refused."""

from __future__ import annotations

import gzip
import re
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scrapy.utils import gz as scrapy_gz
from scrapy.utils.test import get_crawler

from rfi_spider import settings as project_settings
from rfi_spider.canonical import FetchRoot
from rfi_spider.crawl.sitemaps import (
    BadSitemapError,
    ChildMap,
    Entry,
    edition_maps,
    entries,
    is_news_map,
    parse_lastmod,
    read_entry,
    read_sitemap,
)
from rfi_spider.editions import CN, TW
from rfi_spider.settings import RFI_SITEMAP_CONTENTS, RFI_SITEMAP_SKIP
from rfi_spider.spiders.rfi_cn import RfiCnSpider

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
A1 = "https://www.rfi.fr/cn/%E5%9B%BD%E9%99%85/20240307-%E7%91%9E%E5%85%B8"
CONTENTS = re.compile(RFI_SITEMAP_CONTENTS)
SITE = FetchRoot()
LOOPBACK = FetchRoot("http://127.0.0.1:8080")


def urlset(*locs: str) -> bytes:
    body = "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>{body}</urlset>'.encode()


ROBOTS = b"""User-agent: *
Allow: /
Sitemap: https://www.rfi.fr/sitemaps/fr/index.xml
Sitemap: https://www.rfi.fr/sitemaps/cn/index.xml
sitemap: https://www.rfi.fr/sitemaps/cn/news.xml
Sitemap: https://www.rfi.fr/sitemaps/tw/news.xml
Sitemap: https://elsewhere.example/sitemaps/cn/index.xml
Sitemap: /sitemaps/cn/extra.xml
"""


# --- which maps -----------------------------------------------------------------------
def test_robots_gives_only_the_editions_own_maps() -> None:
    assert edition_maps(ROBOTS, CN, SITE) == [
        "https://www.rfi.fr/sitemaps/cn/index.xml",
        "https://www.rfi.fr/sitemaps/cn/news.xml",
        "https://www.rfi.fr/sitemaps/cn/extra.xml",
    ]
    assert edition_maps(ROBOTS, TW, SITE) == ["https://www.rfi.fr/sitemaps/tw/news.xml"]


def test_robots_read_from_base_url_gives_site_urls_fetched_through_it() -> None:
    maps = edition_maps(ROBOTS, CN, LOOPBACK)
    assert maps[0] == "https://www.rfi.fr/sitemaps/cn/index.xml"
    assert maps[-1] == "https://www.rfi.fr/sitemaps/cn/extra.xml"  # relative: the fetch root
    assert LOOPBACK.to_fetch(maps[0]) == "http://127.0.0.1:8080/sitemaps/cn/index.xml"


def test_news_maps_are_told_by_their_file_name() -> None:
    assert is_news_map("https://www.rfi.fr/sitemaps/cn/news.xml", ["news.xml"])
    assert not is_news_map("https://www.rfi.fr/sitemaps/cn/index.xml", ["news.xml"])


@pytest.mark.parametrize(
    ("name", "lastmod", "articles", "month"),
    [
        ("contents_202402.xml", None, True, date(2024, 2, 1)),
        ("contents_202402.xml.gz", None, True, date(2024, 2, 1)),
        ("contents_202402.xml", datetime(2025, 1, 1, tzinfo=UTC), True, date(2024, 2, 1)),
        ("articles-older.xml", datetime(2019, 12, 31, tzinfo=UTC), True, date(2019, 12, 1)),
        ("articles-older.xml", None, True, None),
        ("contents_202413.xml", None, True, None),  # no such month: undated
        ("tags.xml", None, False, None),
        ("page-builder.xml", None, False, None),
        ("shows_202402.xml", None, False, None),
    ],
)
def test_children_of_an_index_by_name_then_lastmod(
    name: str, lastmod: datetime | None, articles: bool, month: date | None
) -> None:
    child = ChildMap.classify(
        f"https://www.rfi.fr/sitemaps/cn/{name}", lastmod, CONTENTS, RFI_SITEMAP_SKIP
    )
    assert (child.articles, child.month) == (articles, month)


@pytest.mark.parametrize(
    ("month", "since", "until", "overlaps"),
    [
        (date(2024, 2, 1), date(2024, 2, 29), date(2024, 2, 29), True),
        (date(2024, 2, 1), date(2024, 1, 31), date(2024, 2, 1), True),
        (date(2024, 2, 1), date(2024, 3, 1), date(2024, 3, 31), False),
        (date(2024, 2, 1), date(2024, 1, 1), date(2024, 1, 31), False),
        (date(2023, 12, 1), date(2023, 12, 31), date(2024, 1, 2), True),  # December's end
        (date(2023, 12, 1), date(2024, 1, 1), date(2024, 1, 2), False),
        (None, date(2024, 3, 1), date(2024, 3, 2), True),  # undated: read
        (date(2024, 2, 1), None, None, True),  # no range
    ],
)
def test_a_child_is_read_when_its_month_meets_the_range(
    month: date | None, since: date | None, until: date | None, overlaps: bool
) -> None:
    child = ChildMap("https://www.rfi.fr/sitemaps/cn/x.xml", True, month)
    assert child.overlaps(since, until) is overlaps


# --- which entries -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "loc",
    [
        A1,
        "https://www.rfi.fr/cn/国际/20240307-瑞典",  # raw path
        "http://www.rfi.fr/cn/%e5%9b%bd%e9%99%85/20240307-%e7%91%9e%e5%85%b8",  # http, lower hex
        "http://cn.rfi.fr/国际/20240307-瑞典",  # the old host
        "https://rfi.fr/cn/国际/20240307-瑞典/?xtor=RSS#top",
        "http://127.0.0.1:8080/cn/国际/20240307-瑞典",  # under base_url
    ],
)
def test_every_spelling_of_an_article_is_one_canonical_entry(loc: str) -> None:
    entry = read_entry({"loc": f"  {loc}\n", "lastmod": "2024-03-07"}, LOOPBACK)
    assert entry == Entry(A1, date(2024, 3, 7), "2024-03-07", datetime(2024, 3, 7, tzinfo=UTC))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"loc": ""}, "bad_loc"),
        ({}, "bad_loc"),
        ({"loc": "not a url"}, "bad_loc"),
        ({"loc": "javascript:alert(1)"}, "bad_loc"),
        ({"loc": "https://www.rfi.fr/cn/国际/20240307-\x00x"}, "bad_loc"),
        ({"loc": "http://[::1/cn/x"}, "bad_loc"),
        ({"loc": A1, "lastmod": "yesterday"}, "bad_lastmod"),
        ({"loc": A1, "lastmod": "2024-13-45"}, "bad_lastmod"),
        ({"loc": "https://elsewhere.example/cn/国际/20240307-x"}, "offsite"),
        ({"loc": "https://www.rfi.fr/cn/关键词/台湾/"}, "not_article"),
        ({"loc": "https://www.rfi.fr/cn/国际/"}, "not_article"),
        ({"loc": "https://www.rfi.fr/fr/monde/20240307-x"}, "not_article"),
    ],
)
def test_entries_that_are_not_articles_say_why(raw: dict[str, str], reason: str) -> None:
    assert read_entry(raw, SITE) == reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-03", datetime(2024, 3, 1, tzinfo=UTC)),
        ("2024-03-07", datetime(2024, 3, 7, tzinfo=UTC)),
        ("2024-03-07T23:30:00Z", datetime(2024, 3, 7, 23, 30, tzinfo=UTC)),
        ("2024-03-08T00:30:00+01:00", datetime(2024, 3, 7, 23, 30, tzinfo=UTC)),
        (None, None),
        ("", None),
    ],
)
def test_lastmod_is_a_w3c_datetime(text: str | None, expected: datetime | None) -> None:
    assert parse_lastmod(text) == expected


# --- which sitemaps are refused -------------------------------------------------------
def test_an_url_set_and_its_gzipped_copy_read_the_same() -> None:
    body = urlset(A1, "https://www.rfi.fr/cn/x/20240101-y")
    plain = [e["loc"] for e in entries(read_sitemap(body, 1 << 20))]
    zipped = [e["loc"] for e in entries(read_sitemap(gzip.compress(body), 1 << 20))]
    assert plain == zipped == [A1, "https://www.rfi.fr/cn/x/20240101-y"]
    assert read_sitemap(body, 0).type == "urlset"


def test_xml_that_breaks_half_way_keeps_the_entries_before() -> None:
    body = urlset(A1, "https://www.rfi.fr/cn/x/20240101-y")[:-40]
    assert [e["loc"] for e in entries(read_sitemap(body, 0))][:1] == [A1]


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b"<urlset><url><loc>&lol2;</loc></url></urlset>"
)
EXTERNAL = (
    b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b"<urlset><url><loc>&xxe;</loc></url></urlset>"
)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (BILLION_LAUGHS, "entities"),
        (EXTERNAL, "entities"),
        (b"", "not_xml"),
        (b"just some text, no markup", "not_xml"),
        (b"<html><body><p>Not found</p></body></html>", "not_sitemap"),
        (b'<?xml version="1.0"?><rss><channel></channel></rss>', "not_sitemap"),
        (gzip.compress(b"\0" * (2 << 20)), "too_large"),  # a small gzip bomb
        (b"\x1f\x8b\x08\x00garbage", "bad_gzip"),
        (urlset(*[A1] * 20_000), "too_large"),
    ],
)
def test_hostile_sitemaps_are_refused_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(BadSitemapError) as refused:
        read_sitemap(body, 1 << 20)
    assert refused.value.reason == reason


def test_a_gzip_bomb_is_inflated_no_further_than_the_size_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The refusal's reason alone would not tell a bomb inflated whole (32 MB here, gigabytes
    on purpose) and then measured: count what the decompression produced."""
    produced = 0

    class CountingGzipFile(scrapy_gz.GzipFile):
        def read1(self, size: int = -1) -> bytes:
            nonlocal produced
            chunk = super().read1(size)
            produced += len(chunk)
            return chunk

    monkeypatch.setattr(scrapy_gz, "GzipFile", CountingGzipFile)
    limit = 1 << 20
    with pytest.raises(BadSitemapError) as refused:
        read_sitemap(gzip.compress(b"\0" * (32 << 20)), limit)
    assert refused.value.reason == "too_large"
    assert limit < produced <= limit + (256 << 10)  # stopped one chunk past the limit


# --- which maps a run reads ----------------------------------------------------------------
MAPS = ["https://www.rfi.fr/sitemaps/cn/index.xml", "https://www.rfi.fr/sitemaps/cn/news.xml"]


def spider_for(tmp_path: Path, **args: str) -> RfiCnSpider:
    settings = {
        **{k: v for k, v in vars(project_settings).items() if k.isupper()},
        "RFI_OUTPUT_DIR": str(tmp_path),
    }
    crawler = get_crawler(RfiCnSpider, settings)
    return RfiCnSpider.from_crawler(crawler, base_url="http://127.0.0.1:9", mirrors="", **args)


@pytest.mark.parametrize(
    ("args", "read"),
    [
        ({}, ["/sitemaps/cn/news.xml"]),  # a plain run: the last days
        ({"since": "2024-01-01", "until": "2024-03-31"}, ["/sitemaps/cn/index.xml"]),
        ({"since": "all"}, ["/sitemaps/cn/index.xml", "/sitemaps/cn/news.xml"]),  # to today
    ],
)
def test_a_run_reads_the_news_map_the_index_or_both(
    tmp_path: Path, args: dict[str, str], read: list[str]
) -> None:
    spider = spider_for(tmp_path, **args)
    try:
        sitemaps = spider.sources["sitemaps"]
        paths = [urlsplit(r.url).path for r in sitemaps.sitemap_requests(MAPS)]  # type: ignore[attr-defined]
        assert paths == read
        fallback = [urlsplit(r.url).path for r in sitemaps.sitemap_requests([])]  # type: ignore[attr-defined]
        assert sorted(fallback) == read  # robots.txt named none: the edition's own paths
    finally:
        spider.on_closed()
