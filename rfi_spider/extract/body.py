"""The article body: its text blocks (``paragraphs``) and its clean HTML (``body_html``).

One walk of the body element gives both. What is not the article (promos,
interstitials, ads, figures, scripts, iframes, forms, svg) is skipped whole;
of the rest, ``body_html`` keeps only the spec's tags, no attribute but an
absolute http(s) ``href``, on one line, with the spec's white-space rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement
from w3lib.url import safe_url_string

from rfi_spider.extract import selectors as sel
from rfi_spider.extract.processors import clean_text, collapse_whitespace, strip_invisibles

# Tags whose edges are not text: white space next to them is dropped.
_BLOCK_LEVEL = frozenset({"p", "h2", "h3", "h4", "blockquote", "ul", "ol", "li"})
# An element with nothing but white space or line breaks in it.
_EMPTY_ELEMENT = re.compile(
    r"<(p|h2|h3|h4|blockquote|ul|ol|li|strong|b|em|i|a)(?: [^>]*)?>(?:\s|<br>)*</\1>"
)


def is_skipped(element: HtmlElement) -> bool:
    """True for a subtree that is not article text (the spec's skip list)."""
    tag = element.tag
    if not isinstance(tag, str):  # comments, processing instructions
        return True
    if tag.lower() in sel.BODY_SKIP_TAGS:
        return True
    classes = element.get("class")
    return bool(classes) and not sel.BODY_SKIP_CLASSES.isdisjoint(classes.split())


@dataclass
class Body:
    """What the body holds, cleaned."""

    paragraphs: list[str] = field(default_factory=list)
    html: str = ""


@dataclass(slots=True)
class _Tag:
    markup: str
    block: bool  # white space next to it is not text (block tags and <br>)


class _Walker:
    """Walks the body once, collecting text blocks and HTML tokens."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.blocks: list[list[str]] = []
        self.tokens: list[str | _Tag] = []

    def children(self, element: HtmlElement, text: list[str] | None) -> None:
        self.text(element.text, text)
        for child in element:
            if not is_skipped(child):
                self.element(child, text)
            self.text(child.tail, text)

    def element(self, element: HtmlElement, text: list[str] | None) -> None:
        tag = element.tag.lower()
        if tag in sel.TEXT_BLOCKS and not (
            tag in sel.TEXT_BLOCK_CONTAINERS and any(True for _ in element.iterdescendants("p"))
        ):
            text = []
            self.blocks.append(text)
        if tag == "br":
            if text is not None:
                text.append("\n")
            self.tokens.append(_Tag("<br>", block=True))
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

    def open_tag(self, element: HtmlElement, tag: str) -> _Tag | None:
        if tag not in sel.BODY_HTML_TAGS:
            return None
        block = tag in _BLOCK_LEVEL
        attrs = ""
        if tag == "a":
            href = absolute_http_url(element.get("href"), self.base_url)
            if href is None:
                return None
            attrs = f' href="{escape(href)}"'
        self.tokens.append(_Tag(f"<{tag}{attrs}>", block))
        return _Tag(f"</{tag}>", block)


def absolute_http_url(href: str | None, base_url: str) -> str | None:
    """``href`` made absolute against ``base_url``; None unless it is http(s)."""
    if not href:
        return None
    try:
        url = safe_url_string(urljoin(base_url, href.strip()))
    except ValueError:
        return None
    return url if urlsplit(url).scheme in ("http", "https") else None


def extract_body(element: HtmlElement | None, base_url: str) -> Body:
    """Paragraphs and clean HTML of a body element (None gives an empty body)."""
    if element is None:
        return Body()
    walker = _Walker(base_url)
    walker.children(element, None)
    paragraphs = (clean_text("".join(block)) for block in walker.blocks)
    return Body(paragraphs=[p for p in paragraphs if p], html=render_tokens(walker.tokens))


def render_tokens(tokens: list[str | _Tag]) -> str:
    """Serialise walker tokens as one line of HTML with the spec's white-space rules."""
    merged: list[str | _Tag] = []
    for token in tokens:  # text of unwrapped elements runs together
        if isinstance(token, str) and merged and isinstance(merged[-1], str):
            merged[-1] += token
        else:
            merged.append(token)
    texts = [strip_invisibles(t) if isinstance(t, str) else t for t in merged]
    out: list[str] = []
    after_space = True  # at the start, after a block tag or a space: leading space goes
    for i, token in enumerate(texts):
        if isinstance(token, _Tag):
            out.append(token.markup)
            after_space = after_space if not token.block else True
            continue
        before, after = _context(texts, i, -1), _context(texts, i, 1)
        folded = collapse_whitespace(before + token + after)
        folded = folded[len(before) : len(folded) - len(after)]
        if after_space:
            folded = folded.lstrip()
        next_tag = texts[i + 1] if i + 1 < len(texts) else None
        if next_tag is None or next_tag.block:  # type: ignore[union-attr]
            folded = folded.rstrip()
        if folded:
            out.append(escape(folded, quote=False))
            after_space = folded.endswith(" ")
    html = "".join(out)
    while True:
        shorter = _EMPTY_ELEMENT.sub("", html)
        if shorter == html:
            return html.strip()
        html = shorter


def _context(tokens: list[str | _Tag], index: int, step: int) -> str:
    """The nearest non-space character of the text next to ``tokens[index]``.

    Inline tags are transparent (a line break between ``中<b>`` and ``文`` still
    joins two wide characters); block tags end the search.
    """
    i = index + step
    while 0 <= i < len(tokens):
        token = tokens[i]
        if isinstance(token, _Tag):
            if token.block:
                return ""
        else:
            stripped = token.strip()
            if stripped:
                return stripped[-1] if step < 0 else stripped[0]
        i += step
    return ""
