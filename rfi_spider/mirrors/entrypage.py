"""A feed mirror's entry seen as an article page, and the items it gives.

:class:`EntryPage` offers the candidate methods of ``page.ArticlePage`` (the
:class:`~rfi_spider.extract.page.ArticleView` protocol), so a mirror entry goes through
the same item loader as a page. It reads two shapes of entry HTML:

- feedx's (and the seed-style file's): ``<div>DATE</div><img src=LEAD>
  <p><strong>CHAPO</strong></p><div>BODY</div>``, then a share block
  (``分享 :``) and, after ``<hr>``, feedx's footer (``获取更多RSS``), neither
  of them article text;
- RSSHub's: the page's chapo and main media (classes kept), then the body's
  inner HTML.

Title, link and dates come from the feed entry, not from its HTML.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from functools import cached_property

from lxml.html import HtmlElement, HTMLParser, document_fromstring

from rfi_spider.archive import seedfile
from rfi_spider.extract import selectors as sel
from rfi_spider.extract.body import Body, extract_body
from rfi_spider.extract.body_html import absolute_http_url
from rfi_spider.extract.images import lead_image_urls
from rfi_spider.extract.loaders import load_article
from rfi_spider.extract.page import first, text_of
from rfi_spider.extract.processors import decode_entities
from rfi_spider.items import ArticleItem
from rfi_spider.mirrors.feeds import MirrorEntry, ms_to_iso

_HTML_PARSER = HTMLParser(no_network=True, huge_tree=False, remove_comments=True)
# What RSSHub writes where the page had no chapo or no main media (undefined + undefined).
_RSSHUB_ARTEFACTS = frozenset({"undefined", "NaN", "null"})


def parse_fragment(html: str) -> HtmlElement:
    """The ``<body>`` element holding an entry's HTML fragment."""
    document = document_fromstring(f"<html><body>{html}</body></html>", parser=_HTML_PARSER)
    body = document.find("body")
    assert body is not None  # lxml's document always has the <body> it was given
    return body


class EntryPage:
    """A read-only view of a mirror entry; ``url`` is the article's canonical URL."""

    def __init__(self, entry: MirrorEntry) -> None:
        self.entry = entry
        self.url = entry.url
        self.root = parse_fragment(entry.html)

    @cached_property
    def is_rsshub(self) -> bool:
        return bool(sel.ENTRY_RSSHUB_PARTS(self.root))

    @cached_property
    def body(self) -> Body:
        """feedx: the body ``div``; otherwise what is left once the other parts are removed."""
        wrapper = first(sel.ENTRY_BODY_DIV(self.root))
        chapo = first(sel.ENTRY_CHAPO(self.root))
        loose = [n for n in sel.ENTRY_LOOSE_BLOCKS(self.root) if n is not chapo]
        if wrapper is not None and not loose and not self.is_rsshub:
            return extract_body(wrapper, self.url)
        return extract_body(self.remainder(), self.url)

    def remainder(self) -> HtmlElement:
        """A copy of the entry without its header parts, share block and footer."""
        document = self.root.getparent()  # parse_fragment's <html>
        assert document is not None
        rest = copy.deepcopy(document).find("body")  # keeps /html/body paths
        assert rest is not None
        for node in [*sel.ENTRY_RSSHUB_PARTS(rest), *sel.ENTRY_NOT_BODY(rest)]:
            node.drop_tree()
        for rule in sel.ENTRY_FOOTER_RULE(rest):
            for node in [rule, *rule.itersiblings()]:
                rest.remove(node)
        while len(rest) and rest[-1].tag == "br" and not (rest[-1].tail or "").strip():
            rest.remove(rest[-1])
        if (rest.text or "").strip() in _RSSHUB_ARTEFACTS:
            rest.text = None
        for child in rest:
            if (child.tail or "").strip() in _RSSHUB_ARTEFACTS:
                child.tail = None
        return rest

    # --- candidates per field, as ArticlePage's --------------------------------
    def canonical_urls(self) -> list[str]:
        return [self.entry.link]

    def titles(self) -> list[str | None]:
        return [decode_entities(self.entry.title)]

    def published(self) -> list[str | None]:
        return [ms_to_iso(self.entry.ms)]

    def modified(self) -> list[str | None]:
        modified = self.entry.modified_ms
        return [ms_to_iso(modified)] if modified is not None else []

    def date_texts(self) -> list[str | None]:
        return [text_of(div) for div in sel.ENTRY_DATE_DIVS(self.root)]

    def lead_images(self) -> list[str | None]:
        """The entry's lead picture, chosen as a page's is (:func:`lead_image_urls`)."""
        images = (first(sel.ENTRY_LEAD_IMAGE(self.root)), first(sel.MAIN_MEDIA_IMAGE(self.root)))
        return list(lead_image_urls(images, self.url))

    def summaries(self) -> list[str | None]:
        return [
            text_of(first(sel.CHAPO(self.root))),
            text_of(first(sel.ENTRY_CHAPO(self.root))),
        ]

    def sections(self) -> list[str | None]:
        return []

    def page_tags(self) -> list[str | None]:
        return []

    def ld_keywords(self) -> list[str] | None:
        return [decode_entities(c) or "" for c in self.entry.categories] or None

    def page_authors(self) -> list[str | None]:
        return []

    def ld_authors(self) -> list[str]:
        return [decode_entities(a) or "" for a in self.entry.authors]

    def audio_urls(self) -> Iterator[str]:
        url = absolute_http_url(self.entry.audio_url, self.url)
        if url:
            yield url


def mirror_item(entry: MirrorEntry, crawled_at: str) -> ArticleItem:
    """The item of a mirror entry (``source``: the mirror's host), its entry kept for the
    seed-style file."""
    item = load_article(EntryPage(entry), crawled_at=crawled_at, source=entry.host)
    item["mirror_entry"] = entry.seed_fields()
    return item


def read_seed_file(text: str, source: str | None = None) -> ArticleItem:
    """The item fields a seed-style file holds (any: the seed, a mirror's, the site's).

    title, url, published_at, date_text, lead_image, summary, paragraphs,
    body_html and section; ``source`` only when given (the file does not say).
    Raises :class:`~rfi_spider.archive.seedfile.SeedFormatError` for a malformed file.
    """
    return seed_item(seedfile.read(text), source)


def seed_item(record: seedfile.SeedRecord, source: str | None = None) -> ArticleItem:
    """The item fields of a seed-style file already read (see :func:`read_seed_file`)."""
    entry = MirrorEntry(
        title=record.title, link=record.url, html=record.html, ms=record.ms, host=source or ""
    )
    return load_article(EntryPage(entry), crawled_at=None, source=source)
