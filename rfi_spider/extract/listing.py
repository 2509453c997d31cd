"""The links of a listing page, read while the page is parsed, without building its tree.

A listing only gives links, and the spider needs nothing else from it, so
libxml2's parser hands each start and end tag to :class:`LinkCollector` (an
lxml parser target) instead of building a tree. A section page of a few
thousand teasers (a 1 MB page) costs about 1 MB instead of 6, and half the
time: with two such pages in hand at once, that was the crawl's peak memory.
The rule, from ``selectors.py``: every ``<a href>`` but those inside the
sponsored and highlighted asides, marked by ``data-org-type`` or by class alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lxml import etree

from rfi_spider.extract import selectors as sel

if TYPE_CHECKING:  # the parser target's interface, declared by types-lxml only
    from lxml.etree import ParserTarget

    _Target = ParserTarget[list[str]]
else:
    _Target = object


class LinkCollector(_Target):
    """A parser target: the hrefs of the page's links outside the skipped asides."""

    def __init__(self) -> None:
        self.links: list[str] = []
        self.asides: list[bool] = []  # for each open aside: is it one to skip?
        self.skipping = 0  # how many of the open asides are

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if tag == sel.LISTING_ASIDE_TAG:
            kind = attrib.get(sel.LISTING_ASIDE_KIND)
            classes = (attrib.get("class") or "").split()
            skipped = kind in sel.LISTING_SKIPPED_ASIDES or not (
                sel.LISTING_SKIPPED_ASIDE_CLASSES.isdisjoint(classes)
            )
            self.asides.append(skipped)
            self.skipping += skipped
        elif tag == sel.LISTING_LINK_TAG and not self.skipping:
            href = attrib.get("href")
            if href is not None:
                self.links.append(href)

    def end(self, tag: str) -> None:
        if tag == sel.LISTING_ASIDE_TAG and self.asides:
            self.skipping -= self.asides.pop()

    def close(self) -> list[str]:
        return self.links


def read_links(body: bytes, encoding: str) -> list[str]:
    """The hrefs of a listing page's links (see the module's docstring); [] for no page."""
    try:
        parser = etree.HTMLParser(target=LinkCollector(), encoding=encoding)
    except LookupError:  # an encoding lxml does not know
        parser = etree.HTMLParser(target=LinkCollector(), encoding="utf-8")
    try:
        return etree.fromstring(body, parser)
    except etree.XMLSyntaxError:  # an empty document
        return []
