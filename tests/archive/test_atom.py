"""The Atom writer on hostile items: still well-formed, safe, and read back by feedparser."""

from __future__ import annotations

import io
import json

import atomcheck
import feedparser
import pytest
from conftest import FIXTURES
from lxml import etree, html

from rfi_spider.archive import atom
from rfi_spider.dates import parse_aware_time
from rfi_spider.editions import CN

HOSTILE = {
    "url": "https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/20240306-a",
    "title": "A\x01\x0b ]]> <script>alert(1)</script> \ud800\ufffe end",
    "published_at": "2024-03-06T09:15:00+01:00",
    "modified_at": None,
    "lead_image": "https://s.rfi.fr/a.jpg",
    "summary": "chapo ]]> & \x02",
    "paragraphs": ["p"],
    "body_html": "<p onclick='x()'>Hi <a href='javascript:alert(1)'>x</a></p>"
    "<script>bad()</script><img src=x onerror=alert(1)><p>]]&gt;\x07</p>",
    "section": "中国",
    "tags": ["中国", "t"],
    "authors": ["沈彤"],
    "edition": "cn",
}


def feed_bytes(*items: dict) -> bytes:
    buffer = io.BytesIO()
    writer = atom.AtomWriter(buffer)
    writer.start(atom.feed_info(CN), parse_aware_time("2024-03-07T00:00:00+00:00"))
    for item in items:
        writer.entry(atom.entry_of(item))
    writer.finish()
    return buffer.getvalue()


def test_hostile_item_gives_a_well_formed_safe_feed() -> None:
    data = feed_bytes(HOSTILE)
    root = etree.fromstring(data)  # well-formed, or this raises
    ns = {"a": atom.ATOM_NS}
    content = root.findtext("a:entry/a:content", namespaces=ns)
    assert "<script" not in content and "onerror" not in content and "onclick" not in content
    assert "javascript:" not in content
    assert root.findtext("a:entry/a:published", namespaces=ns) == "2024-03-06T08:15:00Z"
    parsed = feedparser.parse(data)
    assert not parsed.bozo
    (entry,) = parsed.entries
    assert entry.id == HOSTILE["url"]
    assert entry.title == "A ]]> <script>alert(1)</script> end"
    assert entry.summary == "chapo ]]> &"
    assert [t.term for t in entry.tags] == ["中国", "t"]
    assert entry.author == "沈彤"
    assert "https://s.rfi.fr/a.jpg" in entry.content[0].value


def test_item_without_title_makes_no_entry() -> None:
    try:
        atom.entry_of({**HOSTILE, "title": "\x01 "})
    except atom.NoEntryError as skip:
        assert skip.reason == "no_title"
    else:
        raise AssertionError("an entry without a title")


# --- an Atom validator's offline rules (tests/atomcheck.py) ------------------------------
SAMPLE = json.loads((FIXTURES / "sample_site_expected.json").read_text(encoding="utf-8"))
ARTICLES = SAMPLE["articles"]


def exported(*items: dict) -> bytes:
    """``items`` through the feed exporter, as ``-O feed.atom`` writes them."""
    buffer = io.BytesIO()
    exporter = atom.AtomItemExporter(buffer, info=atom.feed_info(CN))
    exporter.start_exporting()
    for item in items:
        exporter.export_item(item)
    exporter.finish_exporting()
    return buffer.getvalue()


def test_feed_of_the_sample_articles_passes_the_validator_rules() -> None:
    data = exported(*ARTICLES)
    assert atomcheck.rule_violations(data) == []
    ids = atomcheck.check_feed_against_items(data, ARTICLES)
    assert ids == [item["url"] for item in ARTICLES]  # the order the crawl exported them


def test_the_validator_rules_catch_what_they_check() -> None:
    """The checker itself: each rule fails on a feed that breaks it."""
    good = exported(ARTICLES[0]).decode("utf-8")
    url = ARTICLES[0]["url"]
    entry = good[good.index("<entry") : good.index("</entry>") + len("</entry>")]
    broken = {
        "not well-formed": good.replace("</feed>", ""),
        "used by 2 entries": good.replace(entry, entry + entry),
        "not RFC 3339": good.replace("2024-03-06T08:15:00Z", "2024-03-06 08:15:00"),
        "exactly one wanted": good.replace(f"<id>{url}</id>", ""),
        "<script> in the HTML": good.replace(
            "</content>", "&lt;script&gt;x()&lt;/script&gt;</content>"
        ),
        "event handler onload=": good.replace(
            "</content>", "&lt;p onload=x()&gt;y&lt;/p&gt;</content>"
        ),
        "not escaped": good.replace("</content>", "<b>x</b></content>"),
        "control character": good.replace("</title>", "\x7f</title>", 1),
    }
    for expected, text in broken.items():
        problems = atomcheck.rule_violations(text.encode("utf-8"))
        assert any(expected in problem for problem in problems), (expected, problems)


BAD_TEXT = {
    "C0 controls": "\x00\x01\x08\x0b\x0c\x1b",
    "DEL and C1": "\x7f\x85\x9f",
    "lone surrogates": "\ud800\udfff",
    "non-characters": "\ufffe\uffff\U0001fffe\ufdd0",
    "CDATA terminator": "]]>",
    "CDATA section": "<![CDATA[x]]>",
    "character references": "&#0; &#x1; &#xD800;",
}
FIELDS_HIT = ("title", "summary", "body_html", "paragraphs", "authors", "tags", "section")


@pytest.mark.parametrize("name", FIELDS_HIT)
@pytest.mark.parametrize("kind", BAD_TEXT)
def test_bad_characters_in_any_field_still_give_a_well_formed_feed(name: str, kind: str) -> None:
    bad = f"前{BAD_TEXT[kind]}后"
    item = dict(ARTICLES[0])
    if name == "paragraphs":  # the content built from the paragraphs, with no body HTML
        item.update(body_html="", paragraphs=[bad, "次段"])
    elif name in ("authors", "tags"):
        item[name] = [bad]
    elif name == "body_html":
        item[name] = f"<p>{bad}</p><p>{bad.replace('<', '&lt;')}</p>"
    else:
        item[name] = bad
    data = exported(item)
    assert atomcheck.rule_violations(data) == []
    (entry,) = atomcheck.parse(data).entries
    assert entry.id == item["url"]
    if name == "title":
        assert entry.title.startswith("前") and entry.title.endswith("后")
        if kind == "CDATA terminator":
            assert entry.title == "前]]>后"  # escaped text, kept as it is
    if name in ("body_html", "paragraphs"):
        assert "前" in entry.content[0].value and "后" in entry.content[0].value


def test_item_without_body_html_gets_its_paragraphs_as_content() -> None:
    """The paragraphs stand in for a missing body: this once crashed in the HTML cleaner
    (``'lxml.etree._Element' object has no attribute 'rewrite_links'``)."""
    item = {**ARTICLES[0], "body_html": "", "lead_image": "https://s.rfi.fr/a.jpg"}
    content = atom.entry_of(item).content
    assert content.startswith('<img src="https://s.rfi.fr/a.jpg" alt="">')
    assert [p.text for p in html.fragments_fromstring(content)[1:]] == item["paragraphs"]


class Stats:
    """The stats collector's ``inc_value``, counted."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1) -> None:
        self.values[key] = self.values.get(key, 0) + count


def test_a_second_item_with_the_same_url_is_left_out_and_counted() -> None:
    """``-O feed.atom``: an article exported twice in a crawl (a re-extraction, a second
    node) is one entry, the first; an Atom id names one entry (issue 30, 9)."""
    first, other = ARTICLES[0], ARTICLES[1]
    again = {**first, "title": "再次导出"}
    buffer = io.BytesIO()
    stats = Stats()
    exporter = atom.AtomItemExporter(buffer, info=atom.feed_info(CN), stats=stats)
    exporter.start_exporting()
    for item in (first, other, again):
        exporter.export_item(item)
    exporter.finish_exporting()
    data = buffer.getvalue()
    assert atomcheck.rule_violations(data) == []  # one id, one entry
    entries = atomcheck.parse(data).entries
    assert [(e.id, e.title) for e in entries] == [
        (first["url"], first["title"]),
        (other["url"], other["title"]),
    ]
    assert stats.values == {f"{atom.SKIPPED}/duplicate": 1}
