"""Canonical URLs: the dedupe key, in every form a link can take."""

from __future__ import annotations

import dataclasses
import re
import sys
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from rfi_spider import canonical
from rfi_spider.canonical import (
    FetchRoot,
    article_date,
    canonical_url,
    clear_url_caches,
    is_article_url,
    section_of,
    site_url,
)
from rfi_spider.editions import CN, register, unregister
from rfi_spider.extract import selectors as sel

CANONICAL = "https://www.rfi.fr/cn/%E5%9B%BD%E9%99%85/20240307-%E5%B7%B4%E9%BB%8E"


@pytest.mark.parametrize(
    "url",
    [
        CANONICAL,
        "https://www.rfi.fr/cn/国际/20240307-巴黎",  # raw path
        "https://www.rfi.fr/cn/%e5%9b%bd%e9%99%85/20240307-%e5%b7%b4%e9%bb%8e",  # lower-case hex
        "http://www.rfi.fr/cn/国际/20240307-巴黎",  # http
        "https://rfi.fr/cn/国际/20240307-巴黎",  # bare host
        "https://WWW.RFI.FR/cn/国际/20240307-巴黎",  # host case
        "https://www.rfi.fr/cn/国际/20240307-巴黎/",  # trailing slash
        "https://www.rfi.fr/cn/国际/20240307-巴黎?utm_source=rss&page=2",  # query
        "https://www.rfi.fr/cn/国际/20240307-巴黎#comments",  # fragment
        "https://www.rfi.fr/cn/国际/20240307-巴黎/?a=1#b",  # all of them
        "http://cn.rfi.fr/国际/20240307-巴黎",  # the old host, without /cn
        "http://cn.rfi.fr/cn/国际/20240307-巴黎",  # the old host, with /cn
        "  https://www.rfi.fr/cn/国际/20240307-巴黎  ",  # white space around
    ],
)
def test_every_form_gives_one_key(url: str) -> None:
    assert canonical_url(url) == CANONICAL


def test_traditional_host_maps_to_tw() -> None:
    assert canonical_url("http://trad.cn.rfi.fr/中國/20190101-x") == (
        "https://www.rfi.fr/tw/%E4%B8%AD%E5%9C%8B/20190101-x"
    )


def test_unreserved_escapes_are_decoded_reserved_kept() -> None:
    assert canonical_url("https://www.rfi.fr/cn/a%2Fb/20240101-%41x") == (
        "https://www.rfi.fr/cn/a%2Fb/20240101-Ax"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/cn/国际/20240307-x",
        "https://www.rfi.fr.evil.com/cn/国际/20240307-x",
        "javascript:alert(1)",
        "mailto:cn@rfi.fr",
        "data:text/html,hi",
        "ftp://www.rfi.fr/cn/国际/20240307-x",
    ],
)
def test_off_site_urls_have_no_key(url: str) -> None:
    assert canonical_url(url) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (CANONICAL, True),
        ("https://www.rfi.fr/cn/专栏检索/法国报纸摘要/20240307-x", True),
        ("https://www.rfi.fr/cn/国际/", False),  # section listing
        ("https://www.rfi.fr/cn/关键词/乌克兰/", False),  # tag hub
        ("https://www.rfi.fr/cn/", False),
        ("https://www.rfi.fr/fr/europe/20240307-x", False),  # another language
        ("https://www.rfi.fr/cn/国际/20241341-x", False),  # impossible date
        ("https://www.rfi.fr/cn/a/b/c/20240307-x", False),  # too deep
    ],
)
def test_article_urls(url: str, expected: bool) -> None:
    assert is_article_url(url) is expected


def test_article_date_and_section() -> None:
    assert article_date(CANONICAL) == date(2024, 3, 7)
    assert section_of(CANONICAL) == "国际"
    assert section_of("https://www.rfi.fr/cn/") is None


def test_site_map_round_trip() -> None:
    site = FetchRoot("http://127.0.0.1:8080/")
    fetched = site.to_fetch("https://www.rfi.fr/cn/国际/20240307-巴黎?x=1")
    assert fetched == (
        "http://127.0.0.1:8080/cn/%E5%9B%BD%E9%99%85/20240307-%E5%B7%B4%E9%BB%8E?x=1"
    )
    assert site.to_site(fetched) == "https://www.rfi.fr" + fetched[len("http://127.0.0.1:8080") :]
    assert site.to_site("http://cn.rfi.fr/国际/20240307-巴黎") is not None  # absolute links too
    assert site.to_site("http://127.0.0.2:8080/cn/x") is None  # another host is off-site


def test_site_map_without_base_url_is_the_site() -> None:
    site = FetchRoot()
    assert site.to_fetch("http://cn.rfi.fr/国际/20240307-巴黎") == (
        "https://www.rfi.fr/cn/%E5%9B%BD%E9%99%85/20240307-%E5%B7%B4%E9%BB%8E"
    )
    assert site.fetch_host == "www.rfi.fr"


def test_the_url_caches_keep_no_page_alive() -> None:
    """An XPath string result holds its element (and so its page): the caches of
    site_url, canonical_url and article_date must keep plain copies (1,000 pages once
    held 760 MB)."""
    root = etree.fromstring(
        '<html><head><link rel="canonical" href="https://www.rfi.fr/cn/a/20240101-x"></head>'
        "</html>",
        etree.HTMLParser(),
    )
    (href,) = sel.CANONICAL(root)
    element = href.getparent()  # the smart string's reference to its element
    references = sys.getrefcount(element)
    assert canonical_url(href) == "https://www.rfi.fr/cn/a/20240101-x"
    assert is_article_url(href)
    assert site_url(href) == "https://www.rfi.fr/cn/a/20240101-x"
    del href
    assert sys.getrefcount(element) == references - 1


_SEGMENT = st.lists(
    st.one_of(
        st.sampled_from([*"aZ09_~-", ".", "%", "/", "?", "#", " ", "国"]),
        st.sampled_from(["%E5", "%9B", "%e5", "%41", "%2F", "%2f", "%25", "%3F", "%80", "%FF"]),
    ),
    min_size=0,
    max_size=6,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(
    root=st.sampled_from(["https://www.rfi.fr", "http://www.rfi.fr", "https://WWW.rfi.fr"]),
    segments=st.lists(_SEGMENT, min_size=0, max_size=4),
    tail=st.sampled_from(["", "/", "?a=1", "#x", " "]),
)
def test_a_url_in_the_kept_form_skips_w3lib_with_the_same_result(
    root: str, segments: list[str], tail: str
) -> None:
    """The shortcut for a URL already in the kept form (every page's own URL) gives what
    the whole normalisation gives, on those URLs and on every near miss."""
    url = root + "".join("/" + segment for segment in segments) + tail
    clear_url_caches()
    fast = (site_url(url), canonical_url(url))
    shortcut, canonical._KEPT_FORM = canonical._KEPT_FORM, re.compile(r"(?!)")  # no match
    try:
        clear_url_caches()
        slow = (site_url(url), canonical_url(url))
    finally:
        canonical._KEPT_FORM = shortcut
        clear_url_caches()
    assert fast == slow
    assert all(type(value) in (str, type(None)) for value in fast)


def test_a_page_url_takes_the_shortcut() -> None:
    """The form the shortcut takes is the form the crawl's URLs have."""
    assert canonical._KEPT_FORM.fullmatch(CANONICAL)
    assert canonical._KEPT_FORM.fullmatch(canonical_url("https://www.rfi.fr/cn/国际/20240307-巴黎"))


def test_site_urls_follow_the_editions_registered() -> None:
    """site_url is cached (issue 26): a registered edition's old host is a site host at
    once, and no longer once it is removed."""
    url = "http://xx.rfi.fr/世界/20240307-标题"
    assert site_url(url) is None
    register(
        dataclasses.replace(
            CN, key="xx", spider="rfi_xx", old_hosts=("xx.rfi.fr",), output_dir="output-xx"
        )
    )
    try:
        assert (
            site_url(url) == "https://www.rfi.fr/xx/%E4%B8%96%E7%95%8C/20240307-%E6%A0%87%E9%A2%98"
        )
    finally:
        unregister("xx")
    assert site_url(url) is None
