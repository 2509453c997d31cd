"""End-to-end: a site and a mirror that declare charsets no document is written in.

``punycode`` and ``base64`` are codecs Python has but that cannot read a page (one raises
on any byte over 0x7f, the other is not a text codec); ``x-nonexistent`` is no codec at
all. Declared in the ``Content-Type`` header and in the document itself, they once crashed
the RSS feed's and the listing's parsers and made the mirror's feed refused whole
(issue 24). Each is read as a document declaring a wrong charset is: here as the UTF-8
it is.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_crawl
from feeds import Entry, rss
from minisite import ROBOTS_ALLOW_ALL, article_page, listing_page, url

from rfi_spider.demo.localsite import LocalSite

LISTED = "/cn/国际/20240307-只在列表上的文章"  # linked from the home listing only
IN_FEED = "/cn/中国/20240306-只在RSS里的文章"  # in the site's RSS feed only
ONLY_MIRROR = "/cn/中国/20240305-只在镜像里的文章"  # the site has no such page: the mirror's copy
A1_TITLE = "瑞典正式加入北约 成为第32个成员国"  # the sample article every page here is


def declaring(charset: str, text: str) -> bytes:
    """``text`` in UTF-8, its own declaration (``<meta>``, ``<?xml?>``) naming ``charset``."""
    text = text.replace('<meta charset="utf-8">', f'<meta charset="{charset}">')
    text = text.replace(
        '<?xml version="1.0" encoding="UTF-8"?>', f'<?xml version="1.0" encoding="{charset}"?>'
    )
    assert charset in text
    return text.encode("utf-8")


def site_feed(*paths: str) -> str:
    entries = [
        Entry(path, url(path), "<p>x</p>", "Thu, 07 Mar 2024 17:00:00 GMT") for path in paths
    ]
    return rss(entries, title="RFI")


@pytest.mark.parametrize("charset", ["punycode", "x-nonexistent", "base64"])
def test_a_charset_that_cannot_read_a_document_falls_back(charset: str, tmp_path: Path) -> None:
    html = f"text/html; charset={charset}"
    xml = f"application/rss+xml; charset={charset}"
    site = LocalSite()
    site.add("/robots.txt", ROBOTS_ALLOW_ALL, content_type="text/plain")
    site.add("/cn/", declaring(charset, listing_page(LISTED)), content_type=html)
    site.add("/cn/rss", declaring(charset, site_feed(IN_FEED)), content_type=xml)
    for path in (LISTED, IN_FEED):
        site.add(path, declaring(charset, article_page(url(path))), content_type=html)
    mirror = rss(
        [
            Entry(
                "只在镜像里的文章",
                url(ONLY_MIRROR),
                "<p>镜像独有的一段。</p>",
                "Tue, 05 Mar 2024 08:00:00 GMT",
            )
        ]
    )
    site.add("/mirror.xml", declaring(charset, mirror), content_type=xml)
    with site:
        result = run_crawl(
            tmp_path / "out",
            f"base_url={site.url}",
            f"mirrors={site.url}/mirror.xml",
            settings={"RFI_SECTIONS": "", "RFI_SITEMAPS": "False"},
        )
    assert result.returncode == 0, result.log[-3000:]
    assert "Traceback" not in result.log
    titles = {item["url"]: item["title"] for item in result.items}
    assert titles == {
        url(LISTED): A1_TITLE,  # the listing was read, and the article in its real charset
        url(IN_FEED): A1_TITLE,  # the site's RSS feed was read
        url(ONLY_MIRROR): "只在镜像里的文章",  # the mirror's feed was read
    }
    assert result.stat("rfi/mirror/bad_feed") == 0
