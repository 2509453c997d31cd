"""Poison pages: JSON-LD nested 100,000 deep, lone surrogates; page claims of another URL."""

from __future__ import annotations

from conftest import FIXTURES
from scrapy.http import HtmlResponse

from rfi_spider.extract.loaders import load_article
from rfi_spider.extract.page import ArticlePage

PAGE = (FIXTURES / "pages" / "image_standard.html").read_text(encoding="utf-8")
URL = "https://www.rfi.fr/cn/%E5%9B%BD%E9%99%85/20240307-other"


def page_with_ld(ld: str) -> ArticlePage:
    html = PAGE.replace("</head>", f'<script type="application/ld+json">{ld}</script></head>')
    html = html.replace('type="application/ld+json">{', 'type="application/ld+json">x{', 1)
    response = HtmlResponse(url=URL, body=html.encode("utf-8"))
    page = ArticlePage.from_response(response, URL)
    assert page is not None
    return page


def test_json_ld_nested_100000_deep_is_ignored() -> None:
    page = page_with_ld("[" * 100_000 + "]" * 100_000)
    item = load_article(page, crawled_at=None)
    assert page.json_ld_errors >= 1
    assert item["title"] and item["paragraphs"] and item["published_at"]


def test_lone_surrogates_are_removed_from_json_ld() -> None:
    ld = '{"@type": "NewsArticle", "headline": "a\\ud800b", "author": [{"name": "x\\udfffy"}]}'
    page = page_with_ld(ld)
    item = load_article(page, crawled_at=None)
    for value in item.values():
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                text.encode("utf-8")  # would raise UnicodeEncodeError on a lone surrogate


def test_the_item_url_is_the_url_fetched_not_the_canonical_link() -> None:
    response = HtmlResponse(url=URL, body=PAGE.encode("utf-8"))
    page = ArticlePage.from_response(response, URL)
    assert page is not None
    assert load_article(page, crawled_at=None)["url"] == URL
    assert [name for name, _ in page.claimed_urls()] == ["canonical", "og:url"]
