"""End-to-end: the site's sitemaps as a source, on loopback copies of the site.

The sample site's ``robots.txt`` names the maps of four languages; /cn's index has
three monthly children (February's gzipped), a tag map, a page-builder map and a
French map; February lists a sitemap-only article, one the site answers with 404,
a tag page and two broken entries; the news sitemap lists one article no listing
shows. Nothing here touches a real host: every URL the maps name is
``https://www.rfi.fr/...``, fetched through ``base_url``.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, CrawlResult, run_crawl
from minisite import ROBOTS_ALLOW_ALL, article_page, key, listing_page, url, urlset

from rfi_spider.demo.localsite import LocalSite

EXPECTED = json.loads((FIXTURES / "sample_site_expected.json").read_text(encoding="utf-8"))
SITEMAPS = EXPECTED["sitemaps"]
SITE_ROOT = "https://www.rfi.fr"


@pytest.fixture(scope="module")
def site() -> LocalSite:
    with LocalSite.sample() as served:
        yield served


def crawl(site: LocalSite, output: Path, *args: str) -> tuple[CrawlResult, list[str]]:
    site.requests.clear()
    result = run_crawl(output, f"base_url={site.url}", "mirrors=", *args)
    assert result.returncode == 0, result.log[-3000:]
    return result, [path for _, path, _ in site.requests]


def qa(output: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "qa", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def february(site: LocalSite, tmp_path_factory: pytest.TempPathFactory):
    return crawl(
        site, tmp_path_factory.mktemp("feb") / "out", "since=2024-02-01", "until=2024-02-29"
    )


def test_a_backfill_reads_only_the_months_of_its_range(february) -> None:
    _, asked = february
    maps = [path for path in asked if path.startswith("/sitemaps/")]
    assert (
        maps == SITEMAPS["maps"]["2024-02-01..2024-02-29"]
    )  # never tags, shows, /fr, other months


def test_a_backfill_exports_exactly_its_range_and_fetches_nothing_outside(february) -> None:
    result, asked = february
    assert [i["url"] for i in result.items] == SITEMAPS["backfill"]["2024-02-01..2024-02-29"]
    articles = {SITE_ROOT + path for path in asked if "/2024" in path and "sitemaps" not in path}
    assert articles == {*SITEMAPS["backfill"]["2024-02-01..2024-02-29"], SITEMAPS["gone"]}
    assert not [p for p in asked if p.endswith("/") or p.endswith("/rss")]  # no listing, no feed
    assert result.stat("rfi/sitemap/entry/bad_loc") == 1
    assert result.stat("rfi/sitemap/entry/bad_lastmod") == 1
    assert result.stat("rfi/sitemap/entry/not_article") == 1  # the tag page: not fetched
    assert "sitemaps: 2 articles listed in scope, 1 archived, 1 missing" in result.log


def test_qa_names_the_listed_article_the_site_would_not_serve(february) -> None:
    result, _ = february
    done = qa(result.output)
    assert done.returncode == 1, done.stdout + done.stderr
    gone = SITEMAPS["gone"]
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("  [sitemap-missing]")]
    assert len(line) == 1
    assert "2024-02" in line[0] and "404" in line[0]
    assert key("/cn/中国/20240210-春节联欢晚会收视率创新低") in gone
    assert "春节联欢晚会收视率创新低" in line[0]


def test_the_whole_history_exports_every_listed_article_once(
    site: LocalSite, tmp_path: Path
) -> None:
    result, asked = crawl(site, tmp_path / "out", "since=all")
    urls = [i["url"] for i in result.items]
    assert sorted(urls) == SITEMAPS["backfill"]["all"]  # each once, whatever its spellings
    assert "/sitemaps/cn/tags.xml" not in asked and "/sitemaps/fr/contents_202403.xml" not in asked
    assert not [p for p in asked if p.startswith("/tw/")]  # the /tw twin a map lists
    assert result.stat("rfi/sitemap/child/not_articles") == 2
    assert result.stat("rfi/sitemap/child/other_edition") == 1
    assert result.stat("rfi/sitemap/entry/other_edition") == 1
    assert result.stat("rfi/sitemap/bad/not_xml") == 0
    # A rerun finds every listed article exported, and asks for none of them again.
    again, asked_again = crawl(site, result.output, "since=all")
    assert again.stat("rfi/exported") == 0
    assert not {SITE_ROOT + p for p in asked_again} & set(urls)


def test_a_plain_run_reads_the_news_sitemap_and_exports_what_only_it_lists(
    site: LocalSite, tmp_path: Path
) -> None:
    result, asked = crawl(site, tmp_path / "out")
    maps = [path for path in asked if path.startswith("/sitemaps/")]
    assert maps == ["/sitemaps/cn/news.xml"]
    urls = [i["url"] for i in result.items]
    assert set(SITEMAPS["news_only"]) <= set(urls)
    assert not set(SITEMAPS["sitemap_only"]) & set(urls)
    assert "sitemaps: 3 articles listed in scope, 3 archived, 0 missing" in result.log
    assert qa(result.output).returncode == 0


def test_the_daily_archive_is_an_option(site: LocalSite, tmp_path: Path) -> None:
    result, asked = crawl(
        site,
        tmp_path / "out",
        "since=2024-03-07",
        "until=2024-03-07",
        "mirrors=",
    )
    assert not [p for p in asked if "%E6%A1%A3%E6%A1%88" in p]  # 档案资料库: off by default
    on = run_crawl(
        tmp_path / "on",
        f"base_url={site.url}",
        "since=2024-03-07",
        "until=2024-03-07",
        settings={"RFI_BACKFILL_ARCHIVE": "True", "RFI_SITEMAPS": "False"},
    )
    assert on.returncode == 0 and on.items
    assert result.items and {i["url"] for i in on.items} <= {i["url"] for i in result.items}


# --- hostile sitemaps ----------------------------------------------------------------------
ARTICLE = "/cn/国际/20240307-列表上的文章"
BOMB = gzip.compress(b"<" * (64 << 20))
HOSTILE = {
    "gzip bomb": (BOMB, "too_large"),
    "entities": (
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
        b"<urlset><url><loc>&b;</loc></url></urlset>",
        "entities",
    ),
    "not xml": (b"\x89PNG\r\n\x1a\n binary junk", "not_xml"),
    "an html page": (b"<!-- x --><html><body><h1>Page not found</h1></body></html>", "not_sitemap"),
    # Over RFI_SITEMAP_MAX_BYTES as sent: Scrapy cancels the download (the map's
    # download_maxsize), so the counter is the failed request's.
    "over the size limit": (urlset(*[ARTICLE] * 3000).encode(), "failed:too_large"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_sitemap_is_refused_and_the_crawl_goes_on(name: str, tmp_path: Path) -> None:
    body, reason = HOSTILE[name]
    site = LocalSite()
    robots = ROBOTS_ALLOW_ALL + "Sitemap: https://www.rfi.fr/sitemaps/cn/news.xml\n"
    site.add("/robots.txt", robots, content_type="text/plain")
    site.add("/sitemaps/cn/news.xml", body, content_type="application/xml")
    site.add("/cn/", listing_page(ARTICLE))
    site.add(ARTICLE, article_page(url(ARTICLE)))
    with site:
        news = f"{site.url}/sitemaps/cn/news.xml"
        result = run_crawl(
            tmp_path / "out",
            f"base_url={site.url}",
            settings={"RFI_SECTIONS": "", "RFI_FEEDS": "", "RFI_SITEMAP_MAX_BYTES": "200000"},
        )
    assert result.returncode == 0, result.log[-3000:]
    if reason.startswith("failed:"):
        assert result.stat(f"rfi/failed/sitemap/{reason[7:]}") == 1
        assert f"could not fetch sitemap {news}: too_large" in result.log
    else:
        assert result.stat(f"rfi/sitemap/bad/{reason}") == 1
        assert f"sitemap {news} refused" in result.log
    assert [i["url"] for i in result.items] == [url(ARTICLE)]
    assert "Traceback" not in result.log


def test_without_robots_txt_the_editions_own_maps_are_read(tmp_path: Path) -> None:
    site = LocalSite()  # robots.txt: 404
    site.add("/sitemaps/cn/news.xml", urlset(ARTICLE), content_type="application/xml")
    site.add(ARTICLE, article_page(url(ARTICLE)))
    with site:
        result = run_crawl(
            tmp_path / "out",
            f"base_url={site.url}",
            settings={"RFI_HOME": "", "RFI_SECTIONS": "", "RFI_FEEDS": ""},
        )
    assert result.returncode == 0, result.log[-3000:]
    assert [i["url"] for i in result.items] == [url(ARTICLE)]


@pytest.mark.parametrize("lastmod", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00"])
def test_one_lastmod_beyond_utc_costs_its_entry_only(lastmod: str, tmp_path: Path) -> None:
    """``datetime`` raises OverflowError (not ValueError) for such a time: it once ended the
    reading of the whole news map, with a traceback, and none of its articles was exported."""
    good = ["/cn/国际/20240307-列表上的文章", "/cn/中国/20240306-另一篇文章"]
    bad = "/cn/国际/20240305-日期坏了"
    entries = "".join(
        f"<url><loc>{url(path)}</loc><lastmod>{stamp}</lastmod></url>"
        for path, stamp in [(good[0], "2024-03-07"), (bad, lastmod), (good[1], "2024-03-06")]
    )
    site = LocalSite()
    robots = ROBOTS_ALLOW_ALL + "Sitemap: https://www.rfi.fr/sitemaps/cn/news.xml\n"
    site.add("/robots.txt", robots, content_type="text/plain")
    site.add(
        "/sitemaps/cn/news.xml",
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</urlset>",
        content_type="application/xml",
    )
    for path in [*good, bad]:
        site.add(path, article_page(url(path)))
    with site:
        result = run_crawl(
            tmp_path / "out",
            f"base_url={site.url}",
            "mirrors=",
            settings={"RFI_HOME": "", "RFI_SECTIONS": "", "RFI_FEEDS": ""},
        )
    assert result.returncode == 0, result.log[-3000:]
    assert sorted(i["url"] for i in result.items) == sorted(url(path) for path in good)
    assert result.stat("rfi/sitemap/entry/bad_lastmod") == 1
    assert "Traceback" not in result.log
