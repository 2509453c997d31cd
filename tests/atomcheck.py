"""Checks of an Atom feed as its consumers see it: an Atom validator's offline rules, and
every entry read back by feedparser against the item (a line of ``items.jsonl``) it came from.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
from lxml import etree, html

ATOM = "http://www.w3.org/2005/Atom"
NS = {"a": ATOM}
# RFC 3339 date-time (section 5.6): what Atom's date constructs must be.
RFC3339 = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})$"
)
# Elements a feed reader must never get inside an entry's HTML.
ACTIVE = {"script", "style", "iframe", "frame", "object", "embed", "form", "meta", "link", "base"}
# Control characters a reader should never see (XML 1.0 may hold some of them).
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"\s+")


def _one(
    parent: etree._Element, tag: str, where: str, problems: list[str]
) -> etree._Element | None:
    found = parent.findall(f"a:{tag}", NS)
    if len(found) != 1:
        problems.append(f"{where}: {len(found)} <{tag}>, exactly one wanted")
    return found[0] if found else None


def _date(element: etree._Element | None, where: str, problems: list[str]) -> None:
    if element is None:
        return
    text = element.text or ""
    if not RFC3339.match(text):
        problems.append(f"{where}: <{etree.QName(element).localname}> {text!r} is not RFC 3339")
        return
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        problems.append(f"{where}: <{etree.QName(element).localname}> {text!r} is no real time")


def html_problems(markup: str, where: str) -> list[str]:
    """What is active or unescaped in an entry's HTML: scripts, event handlers, javascript:."""
    problems = []
    if not markup.strip():
        return problems
    root = html.fragment_fromstring(markup, create_parent="div")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in ACTIVE:
            problems.append(f"{where}: <{element.tag}> in the HTML")
        for name, value in element.attrib.items():
            if name.lower().startswith("on"):
                problems.append(f"{where}: event handler {name}= in the HTML")
            if re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith(("javascript:", "vbscript:")):
                problems.append(f"{where}: {name}={value!r} in the HTML")
    return problems


def rule_violations(data: bytes) -> list[str]:
    """The offline rules of an Atom 1.0 validator (RFC 4287) that ``data`` breaks; [] if none.

    Well-formed XML; the feed's own id, title and updated; each entry exactly one id (an
    absolute IRI, unique in the feed), title and updated, an author (its own or the feed's);
    every date RFC 3339; HTML content escaped (text, no child elements) and inert; no
    control characters in any text.
    """
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as error:
        return [f"not well-formed: {error}"]
    problems: list[str] = []
    if root.tag != f"{{{ATOM}}}feed":
        return [f"root is {root.tag}, not an Atom feed"]
    for tag in ("id", "title"):
        _one(root, tag, "feed", problems)
    _date(_one(root, "updated", "feed", problems), "feed", problems)
    feed_author = root.find("a:author/a:name", NS) is not None
    ids: Counter[str] = Counter()
    for index, entry in enumerate(root.findall("a:entry", NS)):
        where = f"entry {index}"
        id_ = _one(entry, "id", where, problems)
        if id_ is not None:
            ids[id_.text or ""] += 1
            if not urlsplit(id_.text or "").scheme:
                problems.append(f"{where}: id {id_.text!r} is not an absolute IRI")
        _one(entry, "title", where, problems)
        _date(_one(entry, "updated", where, problems), where, problems)
        for tag in ("published", "summary", "content"):
            if len(entry.findall(f"a:{tag}", NS)) > 1:
                problems.append(f"{where}: more than one <{tag}>")
        _date(entry.find("a:published", NS), where, problems)
        if not feed_author and entry.find("a:author/a:name", NS) is None:
            problems.append(f"{where}: no author, and the feed has none")
        content = entry.find("a:content", NS)
        if content is None and entry.find("a:link[@rel='alternate']", NS) is None:
            problems.append(f"{where}: neither content nor an alternate link")
        if content is not None and content.get("type") == "html":
            if len(content):
                problems.append(f"{where}: HTML content not escaped (child elements)")
            problems += html_problems(content.text or "", where)
    problems += [f"id {id_!r} used by {n} entries" for id_, n in ids.items() if n > 1]
    for element in root.iter():
        texts = [element.text or "", element.tail or "", *element.attrib.values()]
        if any(CONTROL.search(text) for text in texts):
            problems.append(f"control character in <{etree.QName(element).localname}>")
    return problems


def squeeze(text: str) -> str:
    """Text without white space: the HTML's line breaks and the paragraphs' spaces compare."""
    return _SPACE.sub("", text)


def parse(data: bytes) -> feedparser.FeedParserDict:
    """The feed as feedparser reads it; a feed it finds broken (``bozo``) fails the test."""
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def check_entry(entry: Mapping[str, Any], item: Mapping[str, Any]) -> None:
    """One feedparser entry against its item: every field of the issue's list."""
    url = item["url"]
    assert entry["id"] == url
    assert entry["link"] == url  # rel="alternate"
    assert entry["title"] == item["title"]
    published = _time(item["published_at"])
    assert published is not None
    assert datetime(*entry["published_parsed"][:6], tzinfo=published.tzinfo).timestamp() == (
        published.replace(microsecond=0).timestamp()
    )
    modified = _time(item.get("modified_at"))
    updated = max(published, modified) if modified else published
    got_updated = datetime.fromisoformat(entry["updated"].replace("Z", "+00:00"))
    assert got_updated == updated.replace(microsecond=0) or got_updated == updated
    assert [a.get("name") for a in entry.get("authors", []) if a] == item["authors"]
    terms = list(
        dict.fromkeys([*([item["section"]] if item.get("section") else []), *item["tags"]])
    )
    assert [t["term"] for t in entry.get("tags", [])] == terms
    (content,) = entry["content"]
    assert content["type"] == "text/html"
    body = html.fragment_fromstring(content["value"], create_parent="div")
    text = squeeze(body.text_content())
    for paragraph in item["paragraphs"]:
        assert squeeze(paragraph) in text, f"{url}: paragraph missing: {paragraph[:40]}"
    if item.get("lead_image"):
        assert body.xpath("//img/@src")[0] == item["lead_image"]
    if item.get("summary"):
        assert entry["summary"] == item["summary"]


def check_feed_against_items(data: bytes, items: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every item has its entry (and no other entry is there); returns the entries' ids in
    feed order. The items' summaries are also checked in the raw XML: feedparser fills
    ``summary`` from the content when an entry has none."""
    items = list(items)
    parsed = parse(data)
    by_id = {entry["id"]: entry for entry in parsed.entries}
    assert len(by_id) == len(parsed.entries) == len(items)
    root = etree.fromstring(data)
    summaries = {
        e.findtext("a:id", namespaces=NS): e.findtext("a:summary", namespaces=NS)
        for e in root.findall("a:entry", NS)
    }
    for item in items:
        check_entry(by_id[item["url"]], item)
        assert summaries[item["url"]] == item.get("summary")
    return [entry["id"] for entry in parsed.entries]
