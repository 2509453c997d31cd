"""Meta refresh without decoding every page (rfi_spider/fetch/metarefresh.py)."""

from __future__ import annotations

import pytest
from scrapy import Request, Spider
from scrapy.downloadermiddlewares.redirect import (
    MetaRefreshMiddleware as ScrapyMetaRefreshMiddleware,
)
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from rfi_spider.fetch.metarefresh import HEAD_BYTES, MetaRefreshMiddleware

URL = "http://127.0.0.1:9/cn/page"
ARTICLE = "<p>中文的新闻文章。</p>" * 20000  # ~600 KB of UTF-8


def middleware() -> MetaRefreshMiddleware:
    crawler = get_crawler(Spider)
    return MetaRefreshMiddleware.from_crawler(crawler)


def response(html: str, encoding: str = "utf-8") -> HtmlResponse:
    return HtmlResponse(url=URL, body=html.encode(encoding), encoding=encoding)


def test_an_article_without_refresh_is_passed_on_undecoded() -> None:
    page = response(f"<html><head><title>t</title></head><body>{ARTICLE}</body></html>")
    assert middleware().process_response(Request(URL), page) is page
    assert page._cached_ubody is None  # never decoded to text


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "utf-16"])
def test_a_meta_refresh_still_redirects(encoding: str) -> None:
    # the refresh after 4,000 CJK characters: past the first 4,096 bytes, within Scrapy's
    # 4,096 characters
    head = "<title>" + "中" * 4000 + "</title>"
    html = f'<html><head>{head}<meta http-equiv="Refresh" content="0; url=/cn/new"></head>'
    page = response(html + f"<body>{ARTICLE}</body></html>", encoding)
    redirected = middleware().process_response(Request(URL), page)
    assert isinstance(redirected, Request)
    assert redirected.url.startswith("http://127.0.0.1:9/cn/new")
    # what Scrapy's own middleware makes of it (UTF-16 pages: a query of the BOM)
    again = response(html + f"<body>{ARTICLE}</body></html>", encoding)
    crawler = get_crawler(Spider)
    scrapys = ScrapyMetaRefreshMiddleware.from_crawler(crawler).process_response(
        Request(URL), again
    )
    assert redirected.url == scrapys.url


def test_a_refresh_past_scrapys_4096_characters_is_not_followed_as_before() -> None:
    html = "<html><head><title>" + "x" * HEAD_BYTES + "</title>"
    html += '<meta http-equiv="refresh" content="0; url=/cn/new"></head><body>b</body></html>'
    page = response(html)
    assert middleware().process_response(Request(URL), page) is page
