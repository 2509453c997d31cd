"""The article body: its text blocks (``paragraphs``) and its clean HTML (``body_html``).

One walk of the body element gives both. What is not the article is skipped
(``body_filters.py``: promos, ads, figures, scripts... whole; the captions editors
type under an embed; the teasers of other articles). "Under an embed" is in
document order, not among siblings: empty paragraphs, line breaks, the empty
siblings the parser makes of a ``<p>`` nested in a ``<p>`` and other captions may
come between. Of the rest, ``body_html`` keeps only the spec's tags, no attribute
but an absolute http(s) ``href``, on one line (``body_html.py``). With
``take_lead``, an opening all-bold paragraph is the lead: it leaves the body and
becomes ``Body.lead``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from lxml.html import HtmlElement

from rfi_spider.extract import selectors as sel
from rfi_spider.extract.body_filters import (
    covered,
    has_some_text,
    has_text,
    is_bold,
    is_caption,
    is_centred,
    is_embed,
    is_shell,
    is_skipped,
    is_teaser,
)
from rfi_spider.extract.body_html import BLOCK_LEVEL, Tag, absolute_http_url, render_tokens
from rfi_spider.extract.processors import clean_text


@dataclass
class Body:
    """What the body holds, cleaned."""

    paragraphs: list[str] = field(default_factory=list)
    html: str = ""
    lead: str | None = None  # the opening bold paragraph, taken out (``take_lead``)


class _Walker:
    """Walks the body once, collecting text blocks and HTML tokens."""

    def __init__(self, base_url: str, take_lead: bool = False) -> None:
        self.base_url = base_url
        self.blocks: list[list[str]] = []
        self.tokens: list[str | Tag] = []
        self.looking_for_lead = take_lead  # until the first block with text
        self.lead: str | None = None
        # In document order, the last thing seen was an embed, or a caption under one:
        # empty elements between change nothing, any text ends it.
        self.after_embed = False
        self.centred_blank = False  # ... and, since, an empty centred element was passed

    def children(self, element: HtmlElement, text: list[str] | None) -> None:
        self.text(element.text, text)
        for child in element:
            if is_skipped(child):
                if is_embed(child):
                    self.after_embed = True
            elif is_embed(child):
                self.element(child, text)
                self.after_embed = True
            elif self.after_embed and self.is_caption_here(child):
                pass  # a caption typed under an embed
            elif text is None and child.tag == "p" and is_teaser(child):
                self.after_embed = False  # a teaser of another article
            else:
                self.element(child, text)
            self.text(child.tail, text)

    def is_caption_here(self, element: HtmlElement) -> bool:
        """Is ``element``, met right after an embed, a caption? An empty one is walked (it
        holds nothing), but remembered when it is a centred shell: the parser empties a
        centred ``<p>`` that wrapped another ``<p>``, the caption, which follows it. (An
        editor's empty paragraph holds ``&nbsp;`` or ``<br>``: no shell.)"""
        if element.tag not in sel.CAPTION_TAGS:
            return False
        if not has_text(element):
            if not self.centred_blank and is_shell(element):
                self.centred_blank = is_centred(element)
            return False
        return is_caption(element, self.centred_blank)

    def take_lead(self, element: HtmlElement, tag: str) -> bool:
        """At the first block with text: take it as the lead if it is an all-bold ``p``."""
        if not has_text(element):
            return False
        self.looking_for_lead = False
        if tag != "p" or not covered(element, is_bold):
            return False
        lead: list[str] = []
        _Walker(self.base_url).children(element, lead)
        self.lead = clean_text("".join(lead)) or None
        return self.lead is not None

    def element(self, element: HtmlElement, text: list[str] | None) -> None:
        tag = element.tag
        assert isinstance(tag, str)  # is_skipped() keeps comments and PIs out
        tag = tag.lower()
        if self.looking_for_lead and tag in sel.TEXT_BLOCKS and self.take_lead(element, tag):
            return
        if tag in sel.TEXT_BLOCKS and not (
            tag in sel.TEXT_BLOCK_CONTAINERS
            and next(element.iterdescendants("p"), None) is not None
        ):
            text = []
            self.blocks.append(text)
        if tag == "br":
            if text is not None:
                text.append("\n")
            self.tokens.append(Tag("<br>", block=True))
            return
        closing = self.open_tag(element, tag)
        self.children(element, text)
        if closing:
            self.tokens.append(closing)

    def text(self, value: str | None, text: list[str] | None) -> None:
        if value:
            if text is not None:
                text.append(value)
            self.tokens.append(value)
            if self.after_embed and has_some_text(value):
                self.after_embed = self.centred_blank = False

    def open_tag(self, element: HtmlElement, tag: str) -> Tag | None:
        if tag not in sel.BODY_HTML_TAGS:
            return None
        block = tag in BLOCK_LEVEL
        attrs = ""
        if tag == "a":
            href = absolute_http_url(element.get("href"), self.base_url)
            if href is None:
                return None
            attrs = f' href="{escape(href)}"'
        self.tokens.append(Tag(f"<{tag}{attrs}>", block))
        return Tag(f"</{tag}>", block)


def extract_body(element: HtmlElement | None, base_url: str, take_lead: bool = False) -> Body:
    """Paragraphs and clean HTML of a body element (None gives an empty body).

    ``take_lead``: an article without a chapo opens with its lead as an all-bold ``p``;
    when the body's first block with text is one, it is ``Body.lead``, not a paragraph.
    """
    if element is None:
        return Body()
    walker = _Walker(base_url, take_lead)
    walker.children(element, None)
    paragraphs = (clean_text("".join(block)) for block in walker.blocks)
    return Body(
        paragraphs=[p for p in paragraphs if p],
        html=render_tokens(walker.tokens),
        lead=walker.lead,
    )
