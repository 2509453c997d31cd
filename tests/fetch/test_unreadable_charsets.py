"""Documents that declare a charset no document is written in (``base64``, ``punycode``,
an unknown name) are read in one that works, as a misdeclared UTF-8 page is (issue 24)."""

from __future__ import annotations

import pytest
import scrapy
from scrapy.http import HtmlResponse, Request, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

from rfi_spider.fetch.htmlbytes import HtmlBytesMiddleware, fallback_encoding, readable_charset
from rfi_spider.mirrors.feeds import read_feed

UNREADABLE = ["punycode", "x-nonexistent", "base64"]
LINK = "https://www.rfi.fr/cn/中国/20240101-文章"
RSS = (
    '<?xml version="1.0" encoding="{charset}"?><rss version="2.0"><channel><item>'
    f"<title>标题</title><link>{LINK}</link><description>中文段落</description>"
    "<pubDate>Mon, 01 Jan 2024 00:00:00 +0000</pubDate></item></channel></rss>"
)
HTML = '<html><head><meta charset="{charset}"></head><body><a href="/cn/x">中文</a></body></html>'


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        ("punycode", None),  # raises on any byte over 0x7f, whatever the error handler
        ("x-nonexistent", None),
        ("base64", None),  # bytes to bytes: not a text codec
        ("rot13", None),
        ("idna", None),
        (None, None),
        ("UTF-8", "utf-8"),
        ("gbk", "gb18030"),
        ("big5", "big5hkscs"),
        ("utf-16", "utf-16"),
        ("latin-1", "cp1252"),
    ],
)
def test_which_charsets_can_read_a_document(name: str | None, codec: str | None) -> None:
    assert readable_charset(name) == codec


def test_the_fallback_is_the_documents_own_declaration_else_what_decodes() -> None:
    gbk = '<meta charset="gbk"><p>中文</p>'.encode("gb18030")
    assert fallback_encoding(gbk) == "gb18030"
    assert fallback_encoding('<meta charset="base64"><p>中文</p>'.encode()) == "utf-8"
    assert fallback_encoding('<meta charset="base64"><p>中文</p>'.encode("gb18030")) == "gb18030"


@pytest.mark.parametrize("charset", UNREADABLE)
@pytest.mark.parametrize(
    ("response_class", "template", "query"),
    [
        (XmlResponse, RSS, "//link/text()"),  # the site's RSS feed
        (TextResponse, RSS, "//link/text()"),  # a feed served as text/plain
        (HtmlResponse, HTML, "//a/text()"),  # a listing or an article page
    ],
)
def test_a_response_in_an_unreadable_charset_is_read_in_one_that_works(
    charset: str, response_class: type[TextResponse], template: str, query: str
) -> None:
    crawler = get_crawler()
    body = template.format(charset=charset).encode("utf-8")
    response = response_class(
        "http://127.0.0.1:9/cn/rss",
        body=body,
        headers={"Content-Type": f"text/xml; charset={charset}"},
    )
    read = HtmlBytesMiddleware(crawler).process_response(Request(response.url), response)
    kind = "html" if response_class is HtmlResponse else "xml"
    assert scrapy.Selector(read, type=kind).xpath(query).get() in (LINK, "中文")
    # x-nonexistent: Scrapy already reads it as UTF-8; the others are this fallback's
    fixed = 0 if charset == "x-nonexistent" else 1
    assert crawler.stats.get_value("rfi/page/charset_unreadable", 0) == fixed


@pytest.mark.parametrize("charset", UNREADABLE)
def test_a_mirror_feed_declaring_an_unreadable_charset_is_read(charset: str) -> None:
    feed = read_feed(RSS.format(charset=charset).encode("utf-8"), "https://feedx.net/rss/rfi.xml")
    assert [(e.title, e.html) for e in feed.entries] == [("标题", "中文段落")]
    gbk = RSS.format(charset=charset).encode("gb18030")
    assert [e.title for e in read_feed(gbk, "https://feedx.net/rss/rfi.xml").entries] == ["标题"]
