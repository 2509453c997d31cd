"""Listing links (issue 13): sponsored and highlighted asides marked by class alone; the
real /cn home page (issue 27): its 48 articles, nothing of other editions or languages."""

from __future__ import annotations

import json
from pathlib import Path

import scrapy
from conftest import FIXTURES
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from rfi_spider import settings as project_settings
from rfi_spider.canonical import canonical_url
from rfi_spider.editions import CN, edition_of
from rfi_spider.extract.listing import read_links
from rfi_spider.sources import Listings
from rfi_spider.spiders.rfi_cn import RfiCnSpider

LISTINGS = FIXTURES / "listings"
REAL_HOME = "rfi-cn_home_2025-11"  # provenance: listings/SOURCES.md
TDOME = canonical_url(
    "https://www.rfi.fr/cn/政治/20251130-台湾增加400亿美元国防开支-加速部署t-dome防空系统"
)
PROJECT = {
    name: getattr(project_settings, name) for name in dir(project_settings) if name.isupper()
}

# The aside markup of france24.com's home page (saved January 2024), trimmed.
ASIDE = """<section class="t-content__section-pb"><aside {attrs}>
<div class="m-item-list-article m-item-list-article--hor-to-ver" data-article-list>
<a href="{href}" data-article-item-link class="article__figure-wrapper">x</a>
</div></aside></section>"""


def test_class_only_asides_are_skipped() -> None:
    html = (
        '<html><body><a href="/cn/keep">k</a>'
        + ASIDE.format(attrs='class="o-aside-content o-aside-content--highlighted"', href="/h")
        + ASIDE.format(attrs='class="o-aside-content  o-aside-content--sponsors"', href="/s")
        + ASIDE.format(attrs='data-org-type="aside-content--sponsors" class="o"', href="/t")
        + ASIDE.format(attrs='class="o-aside-content o-aside-content--no-background"', href="/n")
        + '<a href="/cn/last">l</a></body></html>'
    )
    assert read_links(html.encode(), "utf-8") == ["/cn/keep", "/n", "/cn/last"]


def test_real_home_page_gives_its_48_articles_and_nothing_else(tmp_path: Path) -> None:
    spec = json.loads((LISTINGS / f"{REAL_HOME}.json").read_text(encoding="utf-8"))
    assert f"`{REAL_HOME}.html`" in (LISTINGS / "SOURCES.md").read_text(encoding="utf-8")
    expected = spec["articles"]
    assert len(expected) == len(set(expected)) == 48 and TDOME in expected
    crawler = get_crawler(RfiCnSpider, {**PROJECT, "RFI_OUTPUT_DIR": str(tmp_path)})
    spider = RfiCnSpider.from_crawler(crawler, base_url="http://127.0.0.1:9", mirrors="")
    try:
        body = (LISTINGS / f"{REAL_HOME}.html").read_bytes()
        source = spider.sources["listings"]
        assert isinstance(source, Listings)
        request = source.request("https://www.rfi.fr/cn/", depth=0)
        response = HtmlResponse(request.url, body=body, encoding="utf-8", request=request)
        found = list(source.parse(response))
        articles = [url for url in found if isinstance(url, str)]
        listings = [r.url for r in found if isinstance(r, scrapy.Request)]
        assert list(dict.fromkeys(articles)) == expected
        for url in [*articles, *listings]:  # no /tw, /en, /fr...: the /cn edition's only
            edition = edition_of(url)
            assert edition is not None and edition.key == CN.key, url
        list(spider.article_requests(articles))
        stats = crawler.stats
        assert stats.get_value("rfi/articles/found") == 48
        assert stats.get_value("rfi/skipped/other_edition") is None
    finally:
        spider.on_closed()
