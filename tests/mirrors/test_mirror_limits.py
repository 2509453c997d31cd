"""A huge or hostile mirror feed costs bounded work: entries and bytes are capped (issue 14)."""

from __future__ import annotations

from pathlib import Path

import scrapy
from feeds import Entry, rss
from scrapy.http import XmlResponse
from scrapy.utils.test import get_crawler
from test_mirror_fallback import PROJECT

from rfi_spider.mirrors.feeds import read_feed
from rfi_spider.spiders.rfi_cn import RfiCnSpider

FEED_URL = "https://feedx.net/rss/rfi.xml"


def feed(count: int) -> bytes:
    entries = [
        Entry(
            title=f"标题 {i}",
            link=f"https://www.rfi.fr/cn/中国/20240307-article-{i}",
            html=f"<p>第 {i} 段</p>",
            date="Thu, 07 Mar 2024 17:34:12 GMT",
        )
        for i in range(count)
    ]
    return rss(entries).encode("utf-8")


def test_only_the_first_entries_are_read() -> None:
    read = read_feed(feed(5), FEED_URL, max_entries=2)
    assert [e.title for e in read.entries] == ["标题 0", "标题 1"]
    assert read.capped == 3
    assert read_feed(feed(5), FEED_URL).capped == 0


def test_a_huge_feed_queues_at_most_the_cap_and_says_how_many_it_left(tmp_path: Path) -> None:
    settings = {
        **PROJECT,
        "RFI_OUTPUT_DIR": str(tmp_path),
        "RFI_MIRROR_MAX_ENTRIES": 3,
        "RFI_MIRROR_MAX_BYTES": 12345,
    }
    crawler = get_crawler(RfiCnSpider, settings)
    spider = RfiCnSpider.from_crawler(crawler, base_url="http://127.0.0.1:9", mirrors=FEED_URL)
    try:
        (mirror,) = list(spider.sources["mirrors"].start())
        assert mirror.meta["download_maxsize"] == 12345
        response = XmlResponse(url=FEED_URL, body=feed(2000), request=mirror)
        requests = [r for r in spider.parse_source(response) if isinstance(r, scrapy.Request)]
        assert len(requests) <= 3
        assert crawler.stats.get_value("rfi/mirror/entries_capped") == 1997
        assert crawler.stats.get_value("rfi/mirror/entries") == 3
    finally:
        spider.on_closed()
