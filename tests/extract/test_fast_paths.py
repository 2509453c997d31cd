"""The extraction's fast paths (issue 26) give what the slow ones they replaced gave.

Each test holds the old way as a reference and compares on inputs made to find the
edges: the srcset split by a regular expression against the HTML standard's
character loop, the placeholder test without ``urlsplit``, the article's parts from
a dict look-up a class, the loader's ``each`` against ``MapCompose``, JSON-LD read
without the surrogate sweep when no escape can make a lone surrogate, the body's HTML
without folding every text in its neighbours' context, the end of a truncated page looked
for from its last end tags, the text processors' ``isprintable`` and ``isascii``
shortcuts past their regular expressions.
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from itemloaders import ItemLoader
from itemloaders.processors import MapCompose
from pages import VARIANTS, parse_fixture

from rfi_spider.dates import iso_utc, paris_date_text, parse_datetime
from rfi_spider.editions import edition_of
from rfi_spider.extract import body_html, gate, processors
from rfi_spider.extract import selectors as sel
from rfi_spider.extract.body_html import absolute_http_url
from rfi_spider.extract.images import _width_descriptor, is_placeholder, parse_srcset
from rfi_spider.extract.loaders import ArticleLoader, each
from rfi_spider.extract.page import ArticlePage, parse_html
from rfi_spider.extract.processors import (
    clean_text,
    collapse_whitespace,
    drop_empty,
    drop_surrogates,
    https_url,
    normalize_datetime,
    strip_invisibles,
)
from rfi_spider.items import BY_EXPORT, LISTS, NULLABLE, ArticleItem


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


def render_every_text_in_context(tokens: list[str | body_html.Tag]) -> str:
    """``render_tokens`` before its fast paths: every text folded with the characters
    around it, white space included."""
    merged: list[str | body_html.Tag] = []
    for token in tokens:
        if isinstance(token, str) and merged and isinstance(merged[-1], str):
            merged[-1] += token
        else:
            merged.append(token)
    texts = [strip_invisibles(t) if isinstance(t, str) else t for t in merged]
    out: list[str] = []
    after_space = True
    for i, token in enumerate(texts):
        if isinstance(token, body_html.Tag):
            out.append(token.markup)
            after_space = after_space if not token.block else True
            continue
        before, after = body_html._context(texts, i, -1), body_html._context(texts, i, 1)
        folded = collapse_whitespace(before + token + after)
        folded = folded[len(before) : len(folded) - len(after)]
        if after_space:
            folded = folded.lstrip()
        next_tag = texts[i + 1] if i + 1 < len(texts) else None
        if next_tag is None or next_tag.block:  # type: ignore[union-attr]
            folded = folded.rstrip()
        if folded:
            out.append(html.escape(folded, quote=False))
            after_space = folded.endswith(" ")
    rendered = "".join(out)
    while True:
        shorter = body_html._EMPTY_ELEMENT.sub("", rendered)
        if shorter == rendered:
            return rendered.strip()
        rendered = shorter


# Texts of what matters to the folding: white space (line breaks of every kind, wide and
# zero-width), wide and narrow characters, invisibles, what escape() changes.
_TEXT_ALPHABET = st.sampled_from(
    list(" \t\n\r\x0b\x0c\x85\u2028\u2029\u3000\u00a0\u200b\ufeff\x00中文，“”ab1<&")
)
_TAGS = st.sampled_from(
    [
        body_html.Tag(markup, markup.lstrip("</").rstrip(">") in body_html.BLOCK_LEVEL)
        for markup in ("<p>", "</p>", "<h2>", "</h2>", "<li>", "</li>", "<b>", "</b>")
    ]
    + [body_html.Tag('<a href="https://x.fr/">', False), body_html.Tag("</a>", False)]
    + [body_html.Tag("<br>", True), body_html.Tag("<em>", False), body_html.Tag("</em>", False)]
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.one_of(_TAGS, st.text(_TEXT_ALPHABET, max_size=6)), max_size=14))
def test_render_tokens_fast_paths_change_nothing(tokens: list[str | body_html.Tag]) -> None:
    """Text without a line break folds alike without its neighbours' characters, and white
    space where leading space goes writes nothing: the fast paths skip that work only."""
    tokens = [t for t in tokens if t != ""]  # the walk never makes an empty text token
    assert body_html.render_tokens(tokens) == render_every_text_in_context(tokens)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["2024-03-07T17:02:00+00:00", "2024-03-07T18:02:00+01:00", " x"]),
            st.datetimes().map(lambda moment: moment.isoformat()),
            st.text(st.sampled_from(list("0123456789-T:+Z. ")), max_size=25),
        ),
        max_size=40,
    )
)
def test_normalize_datetime_cache_changes_nothing(values: list[str]) -> None:
    """The few-entry cache of date normalisation gives what parsing each value gives,
    whatever comes before (repeats, evictions, unparsable texts)."""
    for value in values:
        parsed = parse_datetime(value)
        assert normalize_datetime(value) == (iso_utc(parsed) if parsed else None)


def truncated_by_searching_the_tail(body: bytes) -> bool:
    """The check before the end tags were tried from the page's end: a search of the tail."""
    return gate._DOCUMENT_END.search(body, max(0, len(body) - gate._TAIL)) is None


_END_PIECES = st.sampled_from(
    [b"</", b"<", b"/", b">", b"body", b"BoDy", b"html", b"HTML", b" ", b"\n\t", b"x", b"p>"]
)


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(_END_PIECES, max_size=30),
    st.integers(0, 20),
    st.integers(gate._TAIL - 40, gate._TAIL + 40),
    st.lists(_END_PIECES, max_size=30),
)
def test_is_truncated_from_the_end_changes_nothing(
    head: list[bytes], end_tags: int, filler: int, tail: list[bytes]
) -> None:
    """Trying the last end tags first, then the search, says what the search of the last
    64 KB says: an end of document just inside or outside the tail, after many other end
    tags (past the tags tried), in any case, or none."""
    body = b"".join(head) + b"y" * filler + b"</p>" * end_tags + b"".join(tail)
    assert gate.is_truncated(body) == truncated_by_searching_the_tail(body)
    short = b"".join(head) + b"</p>" * end_tags + b"".join(tail)
    assert gate.is_truncated(short) == truncated_by_searching_the_tail(short)


def test_is_truncated_at_the_edge_of_the_tail() -> None:
    """An end of document that starts just outside the last 64 KB is not looked at; one
    that starts at its first byte is, as by the search."""
    for tag in (b"</body>", b"</HTML >"):
        for after in range(gate._TAIL - len(tag) - 3, gate._TAIL + 3):
            body = b"<p>" + tag + b"y" * after
            assert gate.is_truncated(body) == truncated_by_searching_the_tail(body), after
        edge = tag + b"y" * (gate._TAIL - len(tag))
        assert not gate.is_truncated(edge)
        assert gate.is_truncated(b"y" + edge + b"y")


# Every white-space character Python knows, and a few printable ones around them.
_SPACES = [chr(c) for c in range(0x110000) if chr(c).isspace()]


def test_printable_text_holds_no_white_space_but_the_space_nor_an_invisible() -> None:
    """What the ``isprintable`` fast paths rest on, checked for every code point."""
    assert [c for c in _SPACES if c.isprintable()] == [" "]
    invisible = processors._INVISIBLE_OR_SURROGATE
    assert not [c for c in map(chr, range(0x110000)) if invisible.match(c) and c.isprintable()]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([*_SPACES, " ", " ", "中", "a", "，", "\u200b"])).map("".join))
def test_collapse_whitespace_fast_path_is_the_runs_pass(text: str) -> None:
    """Text returned as it is only when every white-space run is one space already."""
    assert collapse_whitespace(text) == processors._WHITESPACE_RUN.sub(processors._collapse, text)


@settings(max_examples=400, deadline=None)
@given(st.text(st.sampled_from(["a", "中", "\ud800", "\udfff", "\U0001f600", "\x00", "é"])))
def test_drop_surrogates_fast_path_is_the_regular_expression(text: str) -> None:
    # Compared as ascii(): a failure's report must not hold a lone surrogate itself.
    assert ascii(drop_surrogates(text)) == ascii(processors._SURROGATES.sub("", text))


def load_item_on_the_item(loader: ArticleLoader) -> ArticleItem:
    """``ArticleLoader.load_item`` before: each step on the item itself."""
    item = ItemLoader.load_item(loader)
    published = item.get("published_at")
    if published and not item.get("date_text"):
        item["date_text"] = paris_date_text(published)
    edition = edition_of(item["url"]) if item.get("url") else None
    if edition is not None:
        item["edition"] = edition.key
    if item.get("modified_at") == published:
        item["modified_at"] = None
    for name in NULLABLE:
        if name not in BY_EXPORT:
            item.setdefault(name, None)
    for name in LISTS:
        item.setdefault(name, [])
    for name, value in list(item.items()):
        if isinstance(value, str):
            item[name] = drop_surrogates(value)
        elif isinstance(value, list):
            item[name] = [drop_surrogates(v) if isinstance(v, str) else v for v in value]
    return item


@pytest.mark.parametrize("variant", VARIANTS)
def test_load_item_on_a_dict_gives_the_items_of_before(
    variant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same keys in the same order, same values, on every fixture page."""
    item, _ = parse_fixture(variant)
    monkeypatch.setattr(ArticleLoader, "load_item", load_item_on_the_item)
    before, _ = parse_fixture(variant)
    assert list(item.items()) == list(before.items())
