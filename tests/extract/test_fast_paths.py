"""The extraction's fast paths (issue 26) give what the slow ones they replaced gave.

Each test holds the old way as a reference and compares on inputs made to find the
edges: the srcset split by a regular expression against the HTML standard's
character loop, the placeholder test without ``urlsplit``, the article's parts from
a dict look-up a class, the loader's ``each`` against ``MapCompose``, the loader's
table against Scrapy's ``ItemLoader`` with the same processors, JSON-LD read
without the surrogate sweep when no escape can make a lone surrogate.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st
from itemloaders.processors import Compose, Identity, MapCompose, TakeFirst
from scrapy.loader import ItemLoader

from rfi_spider.extract import body_html, loaders, processors
from rfi_spider.extract import selectors as sel
from rfi_spider.extract.body import Body
from rfi_spider.extract.body_html import absolute_http_url
from rfi_spider.extract.images import _width_descriptor, is_placeholder, parse_srcset
from rfi_spider.extract.loaders import each, load_article
from rfi_spider.extract.page import ArticlePage, parse_html
from rfi_spider.extract.processors import (
    clean_text,
    collapse_whitespace,
    drop_empty,
    https_url,
    normalize_datetime,
    not_publisher,
    split_keywords,
    strip_invisibles,
    unique,
    valid_date_text,
)
from rfi_spider.items import ArticleItem


def srcset_by_characters(value: str | None) -> list[tuple[str, int]]:
    """The split before the regular expression: one Python step a character."""
    if not value:
        return []
    found = []
    position, length = 0, len(value)
    while position < length:
        while position < length and (value[position].isspace() or value[position] == ","):
            position += 1
        start = position
        while position < length and not value[position].isspace():
            position += 1
        url = value[start:position]
        descriptors = ""
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            end = value.find(",", position)
            end = length if end < 0 else end
            descriptors, position = value[position:end], end + 1
        if url:
            found.append((url, _width_descriptor(descriptors)))
    return found


# The characters that matter to the split: ASCII and Unicode white space, commas, URL bits.
_SRCSET_ALPHABET = st.sampled_from(list(" \t\n\u00a0\u3000\u2028,,a/:.w1209x"))


@settings(max_examples=400, deadline=None)
@given(st.text(_SRCSET_ALPHABET, max_size=40))
def test_srcset_split_is_the_character_loops(value: str) -> None:
    assert parse_srcset(value) == srcset_by_characters(value)


_URL_BITS = ("https://", "x.fr", "/", "blank", "Pixel", ".GIF", ".png", ".svg", ".jpg", "?", "#")
_URL_BITS += (" ", "data:", "1x1", "_", "-", "a")
_PLACEHOLDER = re.compile(sel.IMAGE_PLACEHOLDER_NAME, re.IGNORECASE)


def placeholder_by_split(url: str) -> bool:
    value = url.strip()
    if not value or value.lower().startswith(("data:", "about:", "javascript:")):
        return True
    return bool(_PLACEHOLDER.search(urlsplit(value).path))


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(_URL_BITS),
        max_size=8,
    ).map("".join)
)
def test_placeholder_test_is_the_split_ones(url: str) -> None:
    assert is_placeholder(url) == placeholder_by_split(url)


def test_an_element_of_two_part_classes_is_in_both_parts_once() -> None:
    root = parse_html(
        b'<html><body><article class="t-content"><h1 class="t-content__title">T</h1>'
        b'<div class="t-content__chapo  t-content__body t-content__chapo">C</div>'
        b'<p class="  ">x</p><span class="m-tags-list__tag">tag</span></article></body></html>',
        "utf-8",
    )
    assert root is not None
    parts = ArticlePage(root, "https://www.rfi.fr/cn/x").parts
    chapo = root.find(".//div")
    assert parts["chapo"] == [chapo]
    assert parts["body"] == [chapo]
    assert [e.text for e in parts["tag"]] == ["tag"]
    assert [e.tag for e in parts["title"]] == ["h1"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=6), st.sampled_from(["http://a", " https://b "]))))
def test_each_is_map_compose(values: list[str]) -> None:
    for steps in ((clean_text, drop_empty), (str.strip, https_url)):
        assert each(*steps)(values) == MapCompose(*steps)(values)


def ld_page(script: str) -> ArticlePage:
    html = f'<html><head><script type="application/ld+json">{script}</script></head></html>'
    root = parse_html(html.encode(), "utf-8")
    assert root is not None
    return ArticlePage(root, "https://www.rfi.fr/cn/x")


def test_json_ld_surrogates_are_dropped_whatever_the_escapes_case() -> None:
    for escape in ("\\uDC00", "\\ud800", "\\uDbFf"):
        page = ld_page(f'{{"@type": "NewsArticle", "headline": "a{escape}b"}}')
        assert page.news_article == {"@type": "NewsArticle", "headline": "ab"}


def test_an_escaped_backslash_is_text_not_a_surrogate() -> None:
    page = ld_page('{"@type": "NewsArticle", "headline": "\\\\ud800 \\u4e2d"}')
    assert page.news_article == {"@type": "NewsArticle", "headline": "\\ud800 中"}


class ItemLoaderReference(ItemLoader):
    """The loader before the table: Scrapy's ``ItemLoader``, the same processors."""

    default_item_class = ArticleItem
    default_output_processor = TakeFirst()
    url_in = MapCompose(loaders._article_url)
    title_in = summary_in = section_in = tags_in = MapCompose(clean_text, drop_empty)
    published_at_in = modified_at_in = MapCompose(normalize_datetime)
    date_text_in = MapCompose(clean_text, valid_date_text)
    lead_image_in = MapCompose(str.strip, https_url)
    paragraphs_in = paragraphs_out = Identity()
    tags_out = authors_out = Compose(unique)
    authors_in = MapCompose(clean_text, drop_empty, not_publisher)
    audio_url_in = MapCompose(str.strip, drop_empty)


def load_with_item_loader(page: Any, crawled_at: str | None, source: str | None) -> ArticleItem:
    given = {"body_html": page.body.html, "source": source, "crawled_at": crawled_at}
    loader = ItemLoaderReference(
        item=ArticleItem({k: v for k, v in given.items() if v is not None})
    )
    loader.add_value("url", page.canonical_urls())
    loader.add_value("title", page.titles())
    loader.add_value("published_at", page.published())
    loader.add_value("modified_at", page.modified())
    loader.add_value("date_text", page.date_texts())
    loader.add_value("lead_image", page.lead_images())
    loader.add_value("summary", page.summaries())
    loader.add_value("paragraphs", page.body.paragraphs)
    loader.add_value("section", [*page.sections(), loaders.section_of(page.url)])
    for name, lists in (
        ("tags", (page.page_tags(), split_keywords(page.ld_keywords()))),
        ("authors", (page.page_authors(), page.ld_authors())),
    ):
        for values in lists:
            if not loader.get_collected_values(name):
                loader.add_value(name, values)
    loader.add_value("audio_url", list(page.audio_urls()))
    return loaders._fill(loader.load_item())


class Candidates:
    """A page view that returns given candidates."""

    def __init__(self, url: str, body: Body, values: dict[str, Any]) -> None:
        self.url, self.body, self.values = url, body, values

    def __getattr__(self, name: str) -> Any:
        return lambda: self.values[name]


_TEXTS = st.one_of(
    st.none(),
    st.text(max_size=4),
    st.sampled_from(
        ["", " ", " 标题 ", "RFI", "法广", "2024-03-06T10:00:00Z", "06/03/2024 - 11:00"]
    ),
)
_URLS = st.sampled_from(
    ["", " ", "http://s.rfi.fr/a.jpg", "https://s.rfi.fr/b.jpg ", "ftp://x", "https://www.rfi.fr/cn/",
     "https://www.rfi.fr/cn/中国/20240306-标题", "http://cn.rfi.fr/中国/20190102-x/?a=1"]
)  # fmt: skip
_PAGE_URLS = st.sampled_from(["https://www.rfi.fr/cn/中国/20240306-x", "https://www.rfi.fr/tw/x"])


@settings(max_examples=300, deadline=None)
@given(
    url=_PAGE_URLS,
    paragraphs=st.lists(st.sampled_from(["段落", "p"]), max_size=2),
    html=st.sampled_from(["", "<p>段落</p>"]),
    lists=st.fixed_dictionaries(
        {
            name: st.lists(_TEXTS, max_size=3)
            for name in (
                *("titles", "published", "modified", "date_texts", "summaries"),
                *("sections", "page_tags", "page_authors", "ld_authors"),
            )
        }
    ),
    urls=st.fixed_dictionaries(
        {name: st.lists(_URLS, max_size=3) for name in ("canonical_urls", "lead_images")}
    ),
    audio=st.lists(_URLS, max_size=2),
    keywords=st.one_of(st.none(), _TEXTS, st.lists(_TEXTS, max_size=3)),
    source=st.sampled_from([None, "", "rfi.fr"]),
)
def test_the_loaders_table_is_the_item_loader(
    url: str,
    paragraphs: list[str],
    html: str,
    lists: dict[str, list[str | None]],
    urls: dict[str, list[str]],
    audio: list[str],
    keywords: Any,
    source: str | None,
) -> None:
    """Same item, same order of keys, from any candidates (empty, None, unclean)."""
    values = {**lists, **urls, "audio_urls": audio, "ld_keywords": keywords}
    values["canonical_urls"] = [u for u in values["canonical_urls"] if u.strip()]
    page = Candidates(url, Body(paragraphs=paragraphs, html=html), values)
    item = load_article(page, crawled_at="2026-11-27T12:00:00+00:00", source=source)
    reference = load_with_item_loader(page, "2026-11-27T12:00:00+00:00", source)
    assert list(item.items()) == list(reference.items())


def test_a_candidate_after_the_first_survivor_is_not_cleaned() -> None:
    """Only the first survivor counts: the candidates after it are never cleaned (an
    object no processor can clean stands after each first survivor)."""
    poison = object()
    values: dict[str, Any] = {
        name: [] for name in ("canonical_urls", "published", "modified", "date_texts")
    }
    values.update(
        titles=["标题", poison],
        lead_images=["https://s.rfi.fr/a.jpg", poison],
        summaries=["", "导语", poison],
        sections=["中国"],
        page_tags=[], ld_keywords=None, page_authors=[], ld_authors=[], audio_urls=[],
    )  # fmt: skip
    page = Candidates("https://www.rfi.fr/cn/x", Body(), values)
    item = load_article(page, crawled_at=None)
    assert (item["title"], item["lead_image"], item["summary"]) == (
        "标题",
        "https://s.rfi.fr/a.jpg",
        "导语",
    )


_URL_PIECES = st.sampled_from(
    [*"aZ0./-_~:@!$&'()*+,;=% ?#国\t", "..", "%e5", "%2F", "%zz", "%C3%A9"]
)


@settings(max_examples=500, deadline=None)
@given(
    scheme=st.sampled_from(["http://", "https://", "HTTPS://", "ftp://", "//", ""]),
    host=st.sampled_from(["s.rfi.fr", "S.rfi.fr", "a..b", "xn--zz.com", "a-b.c", "国.cn", ""]),
    path=st.lists(st.lists(_URL_PIECES, max_size=4).map("".join), max_size=3).map(
        lambda segments: "".join("/" + segment for segment in segments)
    ),
    space=st.sampled_from(["", " ", "\n"]),
)
def test_a_plain_absolute_url_skips_the_join_with_the_same_result(
    scheme: str, host: str, path: str, space: str
) -> None:
    """The shortcut for an address already absolute and escaped gives what joining it to
    the page's URL and escaping it give, on such addresses and on every near miss."""
    href = f"{space}{scheme}{host}{path}{space}"
    base = "https://www.rfi.fr/cn/中国/20240306-x"
    fast = absolute_http_url(href, base)
    shortcut, body_html._PLAIN_HTTP_URL = body_html._PLAIN_HTTP_URL, re.compile(r"(?!)")
    try:
        slow = absolute_http_url(href, base)
    finally:
        body_html._PLAIN_HTTP_URL = shortcut
    assert fast == slow
    assert type(fast) in (str, type(None))


def test_a_picture_of_the_media_server_takes_the_shortcut() -> None:
    assert body_html._PLAIN_HTTP_URL.fullmatch(
        "https://s.rfi.fr/media/display/1c9e-11ee/w:1280/p:16x9/2024-03-06T101010Z_1_LYNX.jpg"
    )


_CONTROL_CHARS = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.characters(blacklist_categories=()),  # surrogates too
            st.sampled_from([*_CONTROL_CHARS, "\u200b", "\ufeff", "e\u0301", "\ud800", "中"]),
        ),
        max_size=30,
    ).map("".join)
)
def test_strip_invisibles_is_the_translate_table(text: str) -> None:
    """One character class in one pass removes what the translate table and the
    surrogate sweep removed: U+200B, U+FEFF, controls that are not white space, lone
    surrogates; NFC after."""
    table = dict.fromkeys([0x200B, 0xFEFF, *(ord(c) for c in _CONTROL_CHARS if not c.isspace())])
    reference = unicodedata.normalize("NFC", re.sub("[\ud800-\udfff]", "", text.translate(table)))
    assert strip_invisibles(text) == reference


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([*" \t\n\r\x0b\x0c\x85\u2028\u3000\xa0", "中", "a", "，"])).map(
        "".join
    )
)
def test_white_space_without_a_line_break_is_folded_as_before(text: str) -> None:
    """Text without a line break skips the call a white-space run: same result."""
    assert collapse_whitespace(text) == processors._WHITESPACE_RUN.sub(processors._collapse, text)
