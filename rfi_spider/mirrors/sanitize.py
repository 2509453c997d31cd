"""A feed mirror's HTML, made safe to store: no scripts, frames, forms or event handlers.

The seed-style file of a mirror item holds the entry's HTML as the mirror sent
it (``docs/item-spec.md``), and a mirror is a third party. An entry whose HTML
holds anything active is cleaned with lxml_html_clean's :class:`Cleaner`
(scripts, ``javascript:`` URLs, ``on*`` attributes, style sheets, frames,
embedded objects, forms and their fields, ``<meta>``); its text and the rest
of its markup (classes included, which the entry parser reads) are kept. An
entry with nothing of the kind is kept byte for byte (the seed's is).
"""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HTMLParser, document_fromstring
from lxml_html_clean import Cleaner

_PARSER = HTMLParser(no_network=True, huge_tree=False)

_CLEANER = Cleaner(
    scripts=True,
    javascript=True,
    embedded=True,
    frames=True,
    forms=True,
    meta=True,
    processing_instructions=True,
    comments=False,
    style=False,
    inline_style=False,
    links=False,
    page_structure=False,
    annoying_tags=False,
    remove_unknown_tags=False,
    safe_attrs_only=False,
)
# Looked for in the raw text too: what a browser would run even where lxml's parser
# reads the markup otherwise.
_ACTIVE = re.compile(
    r"<\s*/?\s*(?:script|iframe|frame|object|embed|applet|form|base)\b"
    r"|\bon[a-z]+\s*=|(?:java|vb)script\s*:",
    re.IGNORECASE,
)


def _serialize(body: etree._Element) -> str:
    parts = [body.text or ""]
    parts += [etree.tostring(child, encoding="unicode", method="html") for child in body]
    return "".join(parts)


def safe_html(html: str) -> tuple[str, bool]:
    """``(html, False)`` when nothing in it is active, else ``(cleaned html, True)``."""
    body = document_fromstring(f"<html><body>{html}</body></html>", parser=_PARSER).find("body")
    assert body is not None  # lxml's document always has the <body> it was given
    before = _serialize(body)
    _CLEANER(body.getroottree().getroot())
    after = _serialize(body)
    if after == before and not _ACTIVE.search(html):
        return html, False
    return after, True
