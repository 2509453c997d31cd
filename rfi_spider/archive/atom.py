"""A full-text Atom 1.0 feed of articles: the ``atom`` feed exporter and its writer.

``scrapy crawl rfi_cn -O feed.atom`` (``FEED_EXPORTERS``: format ``atom``, picked from the
``.atom`` suffix) and ``scrapy feed`` (``rfi_spider.commands.feed``) both write through
:class:`AtomWriter`, so the two give the same entry for the same item:

- ``id`` the canonical URL, ``link rel="alternate"`` to it, ``title``, ``published`` and
  ``updated`` (``modified_at``, else ``published_at``) as RFC 3339 UTC times;
- one ``author`` per byline (none: the feed's author, the publisher, stands in);
- one ``category`` per section and tag; ``summary`` the chapo;
- ``content type="html"``: the lead image and the body HTML, cleaned by lxml_html_clean
  (no scripts, styles, frames, forms, event handlers or ``javascript:`` URLs);
- ``link rel="enclosure"`` to the audio of a podcast.

The XML is written by the standard library's ``XMLGenerator`` (every ``<``, ``>`` and ``&``
escaped, so ``]]>`` in a title is harmless), after removing from every string what XML 1.0
cannot hold and control characters. An item that cannot make an entry (no URL, no title,
no publication time, a URL already in the feed) is left out with a warning and the counter
``rfi/atom/skipped/<reason>``.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import urlsplit
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesImpl

from lxml import etree, html
from lxml.html import HTMLParser, fragment_fromstring
from lxml_html_clean import Cleaner
from scrapy.exporters import BaseItemExporter

from rfi_spider.canonical import SITE_ROOT
from rfi_spider.config import RfiSettings
from rfi_spider.crawl_target import CrawlTarget
from rfi_spider.dates import parse_aware_time, rfc3339
from rfi_spider.editions import EDITIONS, Edition, edition_of
from rfi_spider.urlset import UrlSet

logger = logging.getLogger(__name__)

ATOM_NS = "http://www.w3.org/2005/Atom"
GENERATOR = "rfi-spider"
# Counter prefix of the entries left out (``rfi/atom/skipped/no_title``, ...).
SKIPPED = "rfi/atom/skipped"
# The xml:lang of each edition's entries.
LANGUAGES = {"cn": "zh-Hans", "tw": "zh-Hant"}

# What XML 1.0 cannot hold (C0 controls but tab, LF, CR; surrogates; U+FFFE, U+FFFF), and
# control characters it can but a reader should not see (DEL, C1) or that are not
# characters (U+FDD0-U+FDEF, the last two of each plane).
_NOT_XML = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(1, 17))
    + "]"
)
_SPACE = re.compile(r"\s+")


def xml_text(value: Any) -> str:
    """``value`` as a string an XML 1.0 document can hold: no control or invalid characters."""
    return _NOT_XML.sub("", value if isinstance(value, str) else str(value))


def one_line(value: Any) -> str:
    """:func:`xml_text` with white space runs as one space, stripped (titles, names, terms)."""
    return _SPACE.sub(" ", xml_text(value)).strip()


def web_url(value: Any) -> str | None:
    """An absolute http(s) URL with a host, free of characters a URI cannot hold; else None."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url or xml_text(url) != url or _SPACE.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None


# --- the article's HTML -------------------------------------------------------
_HTML_PARSER = HTMLParser(no_network=True, huge_tree=False, remove_comments=True)
# Only what a feed reader should show: no scripts, event handlers or javascript: URLs, no
# styles, frames, embedded objects, forms or <meta>; only safe attributes (href, src, alt).
_CLEANER = Cleaner(
    scripts=True,
    javascript=True,
    comments=True,
    style=True,
    inline_style=True,
    links=True,
    meta=True,
    page_structure=True,
    processing_instructions=True,
    embedded=True,
    frames=True,
    forms=True,
    annoying_tags=True,
    remove_unknown_tags=True,
    safe_attrs_only=True,
)


def safe_html(body_html: str, lead_image: str | None = None, paragraphs: Iterable[str] = ()) -> str:
    """The entry's content: the lead image, then the body (or, without one, the paragraphs
    as ``<p>``), cleaned of anything active. Empty when there is no text at all."""
    # HTML elements (lxml.html), not plain XML ones: the cleaner rewrites their links.
    container = html.Element("div")
    body = xml_text(body_html).strip()
    if body:
        try:
            container = fragment_fromstring(body, create_parent="div", parser=_HTML_PARSER)
        except (etree.ParserError, ValueError):  # nothing an HTML parser reads as content
            body = ""
    if not body:
        for text in paragraphs:
            if isinstance(text, str) and xml_text(text).strip():
                paragraph = html.Element("p")
                paragraph.text = xml_text(text)
                container.append(paragraph)
    if not len(container) and not (container.text or "").strip():
        return ""
    if lead_image:
        image = html.Element("img", src=lead_image, alt="")
        image.tail, container.text = container.text, None
        container.insert(0, image)
    _CLEANER(container)
    parts = [xml_text(container.text or "")]
    parts += [etree.tostring(child, encoding="unicode", method="html") for child in container]
    return xml_text("".join(parts)).strip()


# --- entries ---------------------------------------------------------------------
class NoEntryError(ValueError):
    """Why an item makes no entry: ``reason`` names the counter ``rfi/atom/skipped/<reason>``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class Entry:
    """One Atom entry, its strings already fit for XML."""

    id: str
    title: str
    published: datetime
    updated: datetime
    content: str
    summary: str = ""
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    enclosure: str | None = None
    language: str | None = None
    link: str | None = None  # the page, when ``id`` is not its URL (a change: ``<url>#v2``)


def check_item(item: Mapping[str, Any]) -> tuple[str, datetime]:
    """The item's URL and publication time, or :class:`NoEntryError` (the cheap checks, made
    before the entry is built: ``scrapy feed`` runs them on every line of an archive)."""
    url = web_url(item.get("url"))
    if url is None:
        raise NoEntryError("no_url", f"no http(s) URL ({item.get('url')!r:.80})")
    published = parse_aware_time(item.get("published_at"))
    if published is None:
        raise NoEntryError("no_date", f"{url}: no published_at with an offset")
    if not one_line(item.get("title") or ""):
        raise NoEntryError("no_title", f"{url}: no title")
    return url, published


def _strings(value: Any) -> list[str]:
    """The distinct non-empty strings of a list (or of one string), in order."""
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    seen: dict[str, None] = {}
    for each in values:
        if isinstance(each, str) and (text := one_line(each)):
            seen.setdefault(text)
    return list(seen)


def entry_of(item: Mapping[str, Any]) -> Entry:
    """The entry of an exported item (a dict of ``docs/item-spec.md``'s fields), or
    :class:`NoEntryError` when it cannot make one."""
    url, published = check_item(item)
    modified = parse_aware_time(item.get("modified_at"))
    updated = max(published, modified) if modified else published
    lead_image = web_url(item.get("lead_image"))
    body, paragraphs = item.get("body_html"), item.get("paragraphs")
    body = body if isinstance(body, str) else ""
    paragraphs = paragraphs if isinstance(paragraphs, list) else []
    summary = item.get("summary")
    key = item.get("edition")
    edition = (EDITIONS.get(key) if isinstance(key, str) else None) or edition_of(url)
    return Entry(
        id=url,
        title=one_line(item.get("title")),
        published=published,
        updated=updated,
        content=safe_html(body, lead_image, paragraphs),
        summary=one_line(summary) if isinstance(summary, str) else "",
        authors=_strings(item.get("authors")),
        categories=_strings([*_strings(item.get("section")), *_strings(item.get("tags"))]),
        enclosure=web_url(item.get("audio_url")),
        language=LANGUAGES.get(edition.key) if edition else None,
    )


# --- the feed ----------------------------------------------------------------------
@dataclass
class FeedInfo:
    """What the feed says of itself."""

    id: str
    title: str
    home: str  # link rel="alternate": the edition's home page
    author: str = "RFI"
    self_url: str | None = None  # link rel="self": where the feed is published
    language: str | None = None


def feed_info(
    edition: Edition | None,
    title: str | None = None,
    feed_id: str | None = None,
    self_url: str | None = None,
) -> FeedInfo:
    """The feed's metadata for an edition (None: articles of several editions).

    Its id, unless given: ``self_url`` when there is one, else a UUID derived from the
    edition's home page, the same for every feed of that edition this project writes.
    """
    home = f"{SITE_ROOT}{edition.home}" if edition else f"{SITE_ROOT}/"
    name = f"RFI {edition.prefix}" if edition else "RFI"
    derived = uuid.uuid5(uuid.NAMESPACE_URL, f"{home}#rfi-spider-atom")
    return FeedInfo(
        id=feed_id or self_url or derived.urn,
        title=title or f"{name} (rfi-spider)",
        home=home,
        self_url=self_url,
        language=LANGUAGES.get(edition.key) if edition else None,
    )


def feed_info_from_settings(config: RfiSettings, edition: Edition | None) -> FeedInfo:
    """:func:`feed_info` with ``RFI_ATOM_TITLE``, ``RFI_ATOM_ID`` and ``RFI_ATOM_SELF_URL``."""
    return feed_info(
        edition,
        title=one_line(config.atom_title or "") or None,
        feed_id=xml_text(config.atom_id or "").strip() or None,
        self_url=web_url(config.atom_self_url or None),
    )


class AtomWriter:
    """Writes one Atom feed to a binary file, entry by entry (nothing held in memory)."""

    def __init__(self, file: IO[bytes]) -> None:
        self._xml = XMLGenerator(file, encoding="utf-8", short_empty_elements=True)

    def _element(self, name: str, text: str | None = None, **attributes: str) -> None:
        self._start(name, {k.replace("_", ":"): v for k, v in attributes.items()})
        if text:
            self._xml.characters(text)
        self._xml.endElement(name)

    def _start(self, name: str, attributes: dict[str, str] | None = None) -> None:
        # XMLGenerator only calls the attributes' items(); its declared type is SAX's.
        self._xml.startElement(name, AttributesImpl(attributes or {}))

    def _newline(self) -> None:
        self._xml.ignorableWhitespace("\n")

    def start(self, info: FeedInfo, updated: datetime) -> None:
        """The XML declaration and the feed's own elements."""
        self._xml.startDocument()
        attributes = {"xmlns": ATOM_NS}
        if info.language:
            attributes["xml:lang"] = info.language
        self._start("feed", attributes)
        self._newline()
        self._element("id", xml_text(info.id))
        self._element("title", xml_text(info.title), type="text")
        self._element("updated", rfc3339(updated))
        self._element("link", rel="alternate", type="text/html", href=xml_text(info.home))
        if info.self_url:
            self._element("link", rel="self", type="application/atom+xml", href=info.self_url)
        self._start("author")
        self._element("name", xml_text(info.author))
        self._element("uri", xml_text(info.home))
        self._xml.endElement("author")
        self._element("generator", GENERATOR)
        self._newline()

    def entry(self, entry: Entry) -> None:
        """One ``<entry>``."""
        self._start("entry", {"xml:lang": entry.language} if entry.language else {})
        self._element("id", entry.id)
        self._element("title", entry.title, type="text")
        self._element("published", rfc3339(entry.published))
        self._element("updated", rfc3339(entry.updated))
        self._element("link", rel="alternate", type="text/html", href=entry.link or entry.id)
        if entry.enclosure:
            self._element("link", rel="enclosure", href=entry.enclosure)
        for name in entry.authors:
            self._start("author")
            self._element("name", name)
            self._xml.endElement("author")
        for term in entry.categories:
            self._element("category", term=term)
        if entry.summary:
            self._element("summary", entry.summary, type="text")
        if entry.content:
            self._element("content", entry.content, type="html")
        self._xml.endElement("entry")
        self._newline()

    def finish(self) -> None:
        """Close the feed."""
        self._xml.endElement("feed")
        self._newline()
        self._xml.endDocument()


class AtomItemExporter(BaseItemExporter):
    """Scrapy's feed exporter of format ``atom`` (``FEED_EXPORTERS``): ``-O feed.atom``.

    The feed's ``updated`` is the time the export starts; entries follow in the order the
    crawl exports them. ``fields_to_export`` and ``indent`` do not apply (an entry has the
    elements Atom gives it); the encoding is always UTF-8.
    """

    def __init__(
        self,
        file: IO[bytes],
        *,
        info: FeedInfo | None = None,
        stats: Any = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("encoding", None)
        super().__init__(dont_fail=True, **kwargs)
        self.encoding = "utf-8"
        self.info = info or feed_info(None)
        self.stats = stats
        self.writer = AtomWriter(file)
        self._ids = UrlSet()  # the entries' ids so far, as 64-bit digests: one entry an id

    @classmethod
    def from_crawler(cls, crawler: Any, file: IO[bytes], **kwargs: Any) -> AtomItemExporter:
        target = CrawlTarget.of(crawler)  # the edition the crawl's spider crawls, if any
        info = feed_info_from_settings(RfiSettings.of(crawler), target.edition if target else None)
        return cls(file, info=info, stats=crawler.stats, **kwargs)

    def start_exporting(self) -> None:
        self.writer.start(self.info, datetime.now(UTC))

    def export_item(self, item: Any) -> None:
        values = dict(item.items()) if hasattr(item, "items") else {}
        try:
            entry = entry_of(values)
            if entry.id in self._ids:
                raise NoEntryError("duplicate", f"{entry.id}: already in the feed")
        except NoEntryError as skip:
            logger.warning("Atom feed: item left out (%s): %s", skip.reason, skip)
            if self.stats is not None:
                self.stats.inc_value(f"{SKIPPED}/{skip.reason}")
            return
        self._ids.add(entry.id)
        if not entry.content:
            logger.warning("Atom feed: %s has no body text: entry without content", entry.id)
            if self.stats is not None:
                self.stats.inc_value("rfi/atom/no_content")
        self.writer.entry(entry)

    def finish_exporting(self) -> None:
        self.writer.finish()
