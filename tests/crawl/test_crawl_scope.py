"""End-to-end: what a crawl walks and keeps, on small loopback sites built here.

- Backfill judges an article's day in Paris time, for the site's items and
  the mirror's alike: published 2024-03-06T23:30Z is 00:30 on the 7th in Paris.
- ``RFI_LISTING_DEPTH``: listings found on listings are followed that many
  levels deep and no deeper; the articles of a deeper listing are never requested.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import CrawlResult, run_crawl
from feeds import Entry, feedx_html, rss
from minisite import (
    ROBOTS_ALLOW_ALL,
    article_page,
    key,
    listing_page,
    requested,
    sitemap_index,
    url,
)

from rfi_spider.dates import PARIS
from rfi_spider.demo.localsite import LocalSite

# --- backfill on the Paris day ------------------------------------------------------
MIDNIGHT = datetime(2024, 3, 6, 23, 30, tzinfo=UTC)  # 2024-03-07 00:30 in Paris
NOON_6TH = datetime(2024, 3, 6, 12, 0, tzinfo=UTC)  # 2024-03-06 13:00 in Paris: both days agree
SITE_MIDNIGHT = "/cn/国际/20240307-巴黎午夜发表的文章"
SITE_NOON = "/cn/国际/20240306-六日中午的文章"
SITE_5TH = "/cn/国际/20240305-五日的文章"  # never fetched by a backfill of the 6th or 7th
FIFTH = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
MIRROR_MIDNIGHT = "/cn/中国/20240307-只在镜像里的午夜文章"  # the site answers 404
MIRROR_NOON = "/cn/中国/20240306-只在镜像里的六日文章"  # the site answers 404


# The March map: each article's lastmod is its publication, except the noon article of the
# 6th, modified the next morning (so a backfill of the 7th must look at it).
MARCH_MAP = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    f"<url><loc>{url(SITE_MIDNIGHT)}</loc><lastmod>2024-03-06T23:30:00Z</lastmod></url>"
    f"<url><loc>{url(SITE_NOON)}</loc><lastmod>2024-03-07T09:00:00+00:00</lastmod></url>"
    f"<url><loc>{url(SITE_5TH)}</loc><lastmod>2024-03-05T09:00:00Z</lastmod></url>"
    "</urlset>"
)


def mirror_entry(path: str, published: datetime) -> Entry:
    date_text = published.astimezone(PARIS).strftime("%d/%m/%Y - %H:%M")
    html = feedx_html(date_text, None, "镜像摘要。", "<p>镜像正文第一段。</p>", url(path))
    pub_date = published.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return Entry(f"镜像文章 {path[-8:]}", url(path), html, pub_date)


@pytest.fixture(scope="module")
def backfill_site() -> Iterator[LocalSite]:
    site = LocalSite()
    robots = ROBOTS_ALLOW_ALL + "Sitemap: https://www.rfi.fr/sitemaps/cn/index.xml\n"
    site.add("/robots.txt", robots, content_type="text/plain")
    site.add("/sitemaps/cn/index.xml", sitemap_index("/sitemaps/cn/contents_202403.xml"))
    site.add("/sitemaps/cn/contents_202403.xml", MARCH_MAP)
    site.add(SITE_5TH, article_page(url(SITE_5TH), FIFTH))
    site.add(SITE_MIDNIGHT, article_page(url(SITE_MIDNIGHT), MIDNIGHT))
    site.add(SITE_NOON, article_page(url(SITE_NOON), NOON_6TH))
    feed = rss([mirror_entry(MIRROR_MIDNIGHT, MIDNIGHT), mirror_entry(MIRROR_NOON, NOON_6TH)])
    site.add("/mirror/feedx.xml", feed, content_type="application/rss+xml; charset=utf-8")
    with site:
        yield site


def backfill(site: LocalSite, output: Path, since: str, until: str) -> CrawlResult:
    result = run_crawl(
        output,
        f"base_url={site.url}",
        f"mirrors={site.url}/mirror/feedx.xml",
        f"since={since}",
        f"until={until}",
        settings={"RFI_BROWSER_PATH": ""},
    )
    assert result.returncode == 0, result.log[-3000:]
    return result


def sources(result: CrawlResult) -> dict[str, str]:
    return {item["url"]: item["source"] for item in result.items}


def test_backfill_keeps_an_article_of_the_paris_day(backfill_site: LocalSite, tmp_path: Path):
    """since=until=2024-03-07 keeps what was published at 00:30 on the 7th in Paris
    (23:30 on the 6th in UTC), from the site and from the mirror alike."""
    backfill_site.requests.clear()
    result = backfill(backfill_site, tmp_path / "out", "2024-03-07", "2024-03-07")
    assert sources(result) == {url(SITE_MIDNIGHT): "rfi.fr", url(MIRROR_MIDNIGHT): "127.0.0.1"}
    # The two of the 6th (13:00 in Paris): the site's fetched, as its sitemap lastmod is of
    # the 7th, and judged on its page's date; the mirror's judged on the entry's.
    assert result.stat("rfi/skipped/out_of_range") == 2
    assert result.stat("rfi/mirror/fallback/404") == 1
    # The 5th's, last modified on the 5th, cannot have been published on the 7th.
    assert key(SITE_5TH) not in requested(backfill_site)
    assert result.stat("rfi/sitemap/entry/out_of_range") == 1


def test_backfill_drops_an_article_of_the_next_paris_day(backfill_site: LocalSite, tmp_path: Path):
    """since=until=2024-03-06 drops the same two articles (the 7th in Paris), and keeps
    those published on the 6th in Paris."""
    backfill_site.requests.clear()
    result = backfill(backfill_site, tmp_path / "out", "2024-03-06", "2024-03-06")
    assert sources(result) == {url(SITE_NOON): "rfi.fr", url(MIRROR_NOON): "127.0.0.1"}
    # The mirror's entry of 00:30 on the 7th is judged on its time, not on its URL's day...
    assert result.stat("rfi/skipped/out_of_range") == 1
    assert key(MIRROR_MIDNIGHT) in requested(backfill_site)
    assert "outside the backfill range" in result.log
    # ...and the site's is not even fetched: dated the 7th, it was not published on the 6th.
    assert key(SITE_MIDNIGHT) not in requested(backfill_site)
    assert key(SITE_5TH) not in requested(backfill_site)  # modified on the 5th: before
    assert result.stat("rfi/sitemap/entry/out_of_range") == 2


# --- RFI_LISTING_DEPTH --------------------------------------------------------------
HOME = "/cn/"
LEVEL_1 = "/cn/专栏检索/一层专栏/"  # a column linked from the home page only
LEVEL_2 = "/cn/专栏检索/两层专栏/"  # a column linked from LEVEL_1 only
LISTINGS = [HOME, LEVEL_1, LEVEL_2]
ARTICLES = [  # the article linked from each listing, and from nowhere else
    "/cn/国际/20240307-首页上的文章",
    "/cn/国际/20240307-一层专栏里的文章",
    "/cn/国际/20240307-两层专栏里的文章",
]


@pytest.fixture(scope="module")
def layered_site() -> Iterator[LocalSite]:
    site = LocalSite()
    site.add("/robots.txt", ROBOTS_ALLOW_ALL, content_type="text/plain")
    site.add(HOME, listing_page(ARTICLES[0], LEVEL_1))
    site.add(LEVEL_1, listing_page(ARTICLES[1], LEVEL_2))
    site.add(LEVEL_2, listing_page(ARTICLES[2]))
    for path in ARTICLES:
        site.add(path, article_page(url(path)))
    with site:
        yield site


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_listings_are_followed_as_deep_as_the_setting(
    layered_site: LocalSite, tmp_path: Path, depth: int
) -> None:
    """Depth 0: the start pages only; 1: and the listings they link to; 2 (the control that
    the deepest article is reachable): one level more. Deeper articles are never requested."""
    layered_site.requests.clear()
    result = run_crawl(
        tmp_path / "out",
        f"base_url={layered_site.url}",
        settings={"RFI_LISTING_DEPTH": str(depth), "RFI_SECTIONS": "", "RFI_FEEDS": ""},
    )
    assert result.returncode == 0, result.log[-3000:]
    asked = set(requested(layered_site))
    assert {key(p) for p in ARTICLES} & asked == {key(p) for p in ARTICLES[: depth + 1]}
    assert {key(p) for p in LISTINGS} & asked == {key(p) for p in LISTINGS[: depth + 1]}
    assert sorted(i["url"] for i in result.items) == sorted(url(p) for p in ARTICLES[: depth + 1])
