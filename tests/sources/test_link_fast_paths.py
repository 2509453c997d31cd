"""The listings' fast paths (issue 26) give what the slow ways they stand for give.

``joiner`` joins a plain root-relative link without urllib; it is compared with
``response.urljoin`` on links made to find the edges (dot segments, empty segments,
queries, fragments, ``;``, white space, control characters, non-ASCII) and on pages
with and without ``<base href>``. ``Listings.is_listing`` remembers its answers: the
same as the edition's rule, in a bounded memory.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.utils.test import get_crawler

from rfi_spider import settings as project_settings
from rfi_spider.editions import CN
from rfi_spider.sources import listings
from rfi_spider.sources.base import joiner
from rfi_spider.sources.listings import Listings
from rfi_spider.spiders.rfi_cn import RfiCnSpider

PAGES = [
    "http://127.0.0.1:8080/cn/%E4%B8%AD%E5%9B%BD/",
    "https://www.rfi.fr/cn/",
    "https://user:pw@www.rfi.fr:8443/cn/a/b?x=1#f",
    "HTTPS://WWW.RFI.FR/cn/",
]
BASES = [None, "https://cdn.example/x/", "/elsewhere/", "//other.example/p/", "ftp://f.example/"]
# Links: pieces that urljoin treats specially among plain ones.
PIECES = st.sampled_from(
    ["/", "//", ".", "..", "/.", "/..", "./", "../", "?", "#", ";", "%2F", "%E4%B8%AD", "a",
     "20240307-", "中国", " ", "\t", "\n", "\x00", "\x7f", "\\", ":", "@", "=", "&", "~", "-"]
)  # fmt: skip
LINKS = st.lists(PIECES, max_size=8).map("".join)


def page(url: str, base: str | None) -> Response:
    head = f'<base href="{base}">' if base is not None else ""
    body = f"<html><head>{head}</head><body></body></html>".encode()
    return HtmlResponse(url, body=body, encoding="utf-8")


@settings(max_examples=400, deadline=None)
@given(url=st.sampled_from(PAGES), base=st.sampled_from(BASES), link=LINKS)
def test_joiner_joins_as_urljoin_does(url: str, base: str | None, link: str) -> None:
    response = page(url, base)
    assert joiner(response)("/" + link) == response.urljoin("/" + link)
    assert joiner(response)(link) == response.urljoin(link)


@pytest.mark.parametrize(
    "link",
    [
        "/cn/%E5%9B%BD%E9%99%85/20240307-a1",
        "/cn/中国/",
        "/cn/a/./b",
        "/cn/a/../b",
        "/cn//a",
        "/cn/a?",
        "/cn/a#",
        "/cn/a;p",
        "/",
    ],
)
def test_joiner_on_the_links_of_a_listing(link: str) -> None:
    for url in PAGES:
        for base in BASES:
            response = page(url, base)
            assert joiner(response)(link) == response.urljoin(link)


def test_joiner_on_a_response_that_is_not_text() -> None:
    response = Response("https://www.rfi.fr/cn/a/")
    assert not isinstance(response, TextResponse)
    assert joiner(response)("/cn/b") == response.urljoin("/cn/b") == "https://www.rfi.fr/cn/b"


def source(sections: frozenset[str]) -> Listings:
    listing = Listings.__new__(Listings)  # the rule needs the edition and the sections only
    listing.context = SimpleNamespace(edition=CN)  # type: ignore[assignment]
    listing.__dict__["sections"] = sections
    return listing


def test_is_listing_remembers_the_editions_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    sections = frozenset({"中国", "国际"})
    urls = [
        "https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/",
        "https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD",
        "https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/?page=2",
        "https://www.rfi.fr/cn/%E6%B3%95%E5%9B%BD/",
        "https://www.rfi.fr/tw/%E4%B8%AD%E5%9C%8B/",
        "https://www.rfi.fr/cn/%E4%B8%93%E6%A0%8F%E6%A3%80%E7%B4%A2/abc/",
    ]
    listing = source(sections)
    want = [CN.is_listing(url, sections) for url in urls]
    assert want == [True, True, False, False, False, True]
    assert [listing.is_listing(url) for url in urls] == want
    calls: list[str] = []
    monkeypatch.setattr(
        type(CN), "is_listing", lambda self, url, sections: calls.append(url) or False
    )
    assert [listing.is_listing(url) for url in urls] == want  # remembered
    assert calls == []


def test_is_listing_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listings, "_REMEMBERED_LINKS", 10)
    listing = source(frozenset({"中国"}))
    for n in range(35):
        assert listing.is_listing(f"https://www.rfi.fr/cn/x{n}/") is False
        assert listing._is_listing.cache_info().currsize <= 10
    assert listing.is_listing("https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/") is True


def test_listings_source_answers_through_a_spider(tmp_path: Path) -> None:
    """The memory lives on the source: a spider's Listings answers as the edition does."""
    project = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    crawler = get_crawler(RfiCnSpider, {**project, "RFI_OUTPUT_DIR": str(tmp_path)})
    spider = RfiCnSpider.from_crawler(crawler, base_url="http://127.0.0.1:9", mirrors="")
    try:
        found = [s for s in spider.sources.values() if isinstance(s, Listings)]
        assert len(found) == 1
        for url in ("https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/", "https://www.rfi.fr/cn/x/"):
            want = CN.is_listing(url, found[0].sections)
            assert found[0].is_listing(url) == found[0].is_listing(url) == want
        assert found[0].is_listing("https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/")
    finally:
        spider.on_closed()
