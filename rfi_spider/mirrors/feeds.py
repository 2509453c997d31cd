"""Full-text feed mirrors (feedx, RSSHub): read a mirror's feed, safely, into entries.

A mirror feed is RSS 2.0 or Atom. It is parsed by an XML parser that never
expands entities nor touches the network, and a feed that declares entities
at all (an expansion bomb, an external entity) is refused whole. Each entry
keeps its HTML exactly as the feed sent it: the seed-style file of a mirror
item is that HTML, line-stripped (``pipelines.seed_record``); unless it holds
scripts, frames, forms or event handlers, which are removed (``sanitize.py``).
Broken entries are reported, not raised, so that one bad entry never costs
the others.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from urllib.parse import urljoin, urlsplit

from lxml import etree
from w3lib.html import remove_tags, replace_entities

from rfi_spider.canonical import canonical_url, is_article_url
from rfi_spider.dates import ms_to_iso, parse_feed_date, to_ms
from rfi_spider.extract import selectors as sel
from rfi_spider.fetch.htmlbytes import fallback_encoding, readable_charset
from rfi_spider.mirrors.sanitize import safe_html

_XHTML_NS = "{http://www.w3.org/1999/xhtml}"
# The charset an XML declaration names (after a UTF-8 byte order mark, if any).
_XML_DECLARED = re.compile(
    rb"""(?:\xef\xbb\xbf)?\s*<\?xml\s[^>]*?encoding\s*=\s*["']([\x21-\x7e]{1,64}?)["']"""
)


def _safe_parser(encoding: str | None = None) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        encoding=encoding,
    )


def _override_encoding(body: bytes) -> str | None:
    """The charset to read a feed in when its XML declaration names one no document is
    written in (``base64``, ``punycode``, an unknown name), which libxml2 refuses: as a
    page declaring it is read (:func:`~rfi_spider.fetch.htmlbytes.fallback_encoding`).
    None: the feed's own declaration stands."""
    declared = _XML_DECLARED.match(body)
    if declared is None or readable_charset(declared.group(1).decode("ascii")):
        return None
    return fallback_encoding(body)


class BadFeedError(ValueError):
    """The whole feed is refused; the message says why."""


@dataclass(frozen=True)
class MirrorEntry:
    """One feed entry, as the mirror sent it."""

    title: str
    link: str  # as given (made absolute against the feed's URL)
    html: str  # description / content, exactly as sent
    ms: int  # pubDate, milliseconds since the epoch
    host: str  # the mirror's host: the item's ``source``
    modified_ms: int | None = None
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    audio_url: str | None = None

    @property
    def url(self) -> str:
        """The canonical URL of the article (the dedupe key)."""
        return canonical_url(self.link) or self.link

    @property
    def published_at(self) -> str:
        return ms_to_iso(self.ms)

    def seed_fields(self) -> dict[str, object]:
        """What ``ArchivePipeline`` writes the seed-style file from (``item["mirror_entry"]``)."""
        return {"ms": self.ms, "title": self.title, "link": self.link, "html": self.html}


@dataclass(frozen=True)
class EntryProblem:
    """A broken entry: why, where (its link or its position), and its article URL if valid."""

    reason: str
    where: str
    url: str | None = None


@dataclass
class Feed:
    """What a feed gave: good entries and broken ones."""

    entries: list[MirrorEntry] = field(default_factory=list)
    problems: list[EntryProblem] = field(default_factory=list)
    sanitized: list[str] = field(default_factory=list)  # links of entries made safe
    capped: int = 0  # entries past the cap, not read


@dataclass
class _Fields:
    title: str
    link: str
    html: str
    date: str
    modified: str = ""
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    audio_url: str | None = None


def mirror_host(feed_url: str) -> str:
    """The mirror's name as an item's ``source``: its host, without ``www.``."""
    host = (urlsplit(feed_url).hostname or "").lower()
    return host.removeprefix("www.")


def parse_xml(body: bytes) -> etree._Element:
    """The feed's root element; :class:`BadFeedError` for anything but plain, safe XML."""
    try:
        root = etree.fromstring(body, _safe_parser(_override_encoding(body)))
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise BadFeedError(f"not well-formed XML ({exc})") from None
    if root is None:
        raise BadFeedError("empty document")
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise BadFeedError("declares XML entities (refused: entity expansion, external entities)")
    if any(True for _ in root.iter(etree.Entity)):
        raise BadFeedError("uses entities it does not define")
    return root


def read_feed(body: bytes, feed_url: str, max_entries: int | None = None) -> Feed:
    """Entries and broken entries of an RSS 2.0 or Atom feed fetched from ``feed_url``.

    Only the first ``max_entries`` entries are read (a feed lists the newest first); the
    others are counted in :attr:`Feed.capped`, so that a huge or hostile feed costs
    bounded work and queues a bounded number of requests."""
    root = parse_xml(body)
    fields_of: Callable[[etree._Element], _Fields]
    if root.tag == "rss":
        nodes, fields_of = sel.RSS_ITEMS(root), _rss_fields
    elif root.tag == sel.ATOM_FEED_TAG:
        nodes, fields_of = sel.ATOM_ENTRIES(root), _atom_fields
    else:
        raise BadFeedError(f"neither RSS 2.0 nor Atom (root <{etree.QName(root).localname}>)")
    limit = len(nodes) if max_entries is None else max(0, max_entries)
    raw = [fields_of(node) for node in nodes[:limit]]
    feed = Feed(capped=max(0, len(nodes) - limit))
    host = mirror_host(feed_url)
    for index, fields in enumerate(raw, start=1):
        result = _entry(fields, index, feed_url, host)
        if isinstance(result, EntryProblem):
            feed.problems.append(result)
            continue
        html, cleaned = safe_html(result.html)
        if cleaned:
            feed.sanitized.append(result.link)
            result = replace(result, html=html)
        feed.entries.append(result)
    return feed


def _entry(fields: _Fields, index: int, feed_url: str, host: str) -> MirrorEntry | EntryProblem:
    link = fields.link.strip()
    if not link:
        return EntryProblem("no_link", f"#{index}")
    try:
        link = urljoin(feed_url, link)
    except ValueError:
        return EntryProblem("not_article", link)
    url = canonical_url(link)
    if not url or not is_article_url(url):
        return EntryProblem("not_article", link)
    title = fields.title.strip()
    if not title:
        return EntryProblem("no_title", link, url)
    if not fields.date.strip():
        return EntryProblem("no_date", link, url)
    published = parse_feed_date(fields.date)
    if published is None:
        return EntryProblem("bad_date", link, url)
    if not fields.html.strip():
        return EntryProblem("no_content", link, url)
    modified = parse_feed_date(fields.modified)
    return MirrorEntry(
        title=title,
        link=link,
        html=fields.html,
        ms=to_ms(published),
        host=host,
        modified_ms=to_ms(modified) if modified else None,
        authors=tuple(_names(fields.authors)),
        categories=tuple(c.strip() for c in fields.categories if c.strip()),
        audio_url=fields.audio_url,
    )


def _names(values: list[str]) -> list[str]:
    """Author fields, which RSSHub joins with ", "."""
    return [n.strip() for v in values for n in v.replace("，", ",").split(",") if n.strip()]


def _rss_fields(item: etree._Element) -> _Fields:
    audio = sel.RSS_AUDIO(item)
    content = sel.RSS_CONTENT(item)  # content:encoded, the full text when both are given
    return _Fields(
        title=sel.RSS_TITLE(item),
        link=sel.RSS_LINK(item).strip() or sel.RSS_GUID_LINK(item),
        html=content if content.strip() else sel.RSS_DESCRIPTION(item),
        date=sel.RSS_DATE(item) or sel.RSS_DC_DATE(item),
        authors=[str(a) for a in sel.RSS_AUTHORS(item)],
        categories=[str(c) for c in sel.RSS_CATEGORIES(item)],
        audio_url=str(audio[0]).strip() if audio else None,
    )


def _atom_fields(entry: etree._Element) -> _Fields:
    links = sel.ATOM_LINK(entry)
    titles = sel.ATOM_TITLE(entry)
    content = [*sel.ATOM_CONTENT(entry), *sel.ATOM_SUMMARY(entry)]
    html = next((h for h in map(_atom_html, content) if h.strip()), "")
    audio = sel.ATOM_AUDIO(entry)
    return _Fields(
        title=_atom_title(titles[0]) if titles else "",
        link=str(links[0]) if links else "",
        html=html,
        date=sel.ATOM_PUBLISHED(entry) or sel.ATOM_UPDATED(entry),
        modified=sel.ATOM_UPDATED(entry),
        authors=[str(a) for a in sel.ATOM_AUTHORS(entry)],
        categories=[str(c) for c in sel.ATOM_CATEGORIES(entry)],
        audio_url=str(audio[0]).strip() if audio else None,
    )


def _atom_html(element: etree._Element) -> str:
    """An Atom text construct as HTML: ``html`` (and, in practice, ``text``) as sent;
    ``xhtml`` serialised from its ``div``, without the XHTML namespace."""
    if element.get("type") != "xhtml":
        return element.xpath("string()")
    div = element.find(f"{_XHTML_NS}div")
    if div is None:
        return ""
    div = copy.deepcopy(div)  # to strip the namespace from
    for node in div.iter(etree.Element):
        node.tag = etree.QName(node).localname
    etree.cleanup_namespaces(div)
    parts = [div.text or ""]
    parts += [etree.tostring(child, encoding="unicode", method="html") for child in div]
    return "".join(parts)


def _atom_title(element: etree._Element) -> str:
    """An Atom title as text (``html`` and ``xhtml`` titles carry markup)."""
    kind = element.get("type")
    if kind == "xhtml":
        return "".join(element.itertext())
    text = element.text or ""
    return replace_entities(remove_tags(text)) if kind == "html" else text
