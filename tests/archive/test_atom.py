"""The Atom writer on hostile items: still well-formed, safe, and read back by feedparser."""

from __future__ import annotations

import io

import feedparser
from lxml import etree

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
