"""The article body: its text blocks (``paragraphs``) and its clean HTML (``body_html``).

One walk of the body element gives both. What is not the article (promos,
interstitials, ads, figures, scripts, iframes, forms, svg) is skipped whole;
of the rest, ``body_html`` keeps only the spec's tags, no attribute but an
absolute http(s) ``href``, on one line, with the spec's white-space rules.
Skipped too (issues 13, 27): the captions editors type under an embed, and
the teasers of other articles (a paragraph that is one link after a short
label ending in a colon, or a "read more" label, or a bold paragraph that is
only a link). Real markup is messy, so "under an embed" is in document order,
not among siblings: empty paragraphs, line breaks, the empty siblings the
parser makes of a ``<p>`` nested in a ``<p>`` and other captions may come
between, and the caption may be a block or an inline wrapper. With
``take_lead``, an opening all-bold paragraph is the lead: it leaves the body
and becomes ``Body.lead``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import TypeGuard
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement
from w3lib.url import safe_url_string

from rfi_spider.extract import selectors as sel
from rfi_spider.extract.processors import (
    clean_text,
    collapse_whitespace,
    is_wide,
    strip_invisibles,
)

# Tags whose edges are not text: white space next to them is dropped.
_BLOCK_LEVEL = frozenset({"p", "h2", "h3", "h4", "blockquote", "ul", "ol", "li"})
# An element with nothing but white space or line breaks in it.
_EMPTY_ELEMENT = re.compile(
    r"<(p|h2|h3|h4|blockquote|ul|ol|li|strong|b|em|i|a)(?: [^>]*)?>(?:\s|<br>)*</\1>"
)


_SMALL_STYLE = re.compile(sel.CAPTION_SMALL_STYLE, re.IGNORECASE)
_ITALIC_STYLE = re.compile(sel.CAPTION_ITALIC_STYLE, re.IGNORECASE)
_CENTRED_STYLE = re.compile(sel.CAPTION_CENTRED_STYLE, re.IGNORECASE)
_TEASER_LABEL = re.compile(sel.TEASER_LABEL, re.IGNORECASE)
_TEASER_COLON_LABEL = re.compile(sel.TEASER_COLON_LABEL)
_LABEL_PUNCTUATION = ":：|-"
_LABEL_MARKERS = " >»›》→:：|*•-"


def _is_small(element: HtmlElement) -> bool:
    return element.tag in sel.CAPTION_SMALL_TAGS or bool(
        _SMALL_STYLE.search(element.get("style") or "")
    )


def _is_italic(element: HtmlElement) -> bool:
    return element.tag in sel.CAPTION_ITALIC_TAGS or bool(
        _ITALIC_STYLE.search(element.get("style") or "")
    )


def _is_bold(element: HtmlElement) -> bool:
    return element.tag in sel.BOLD_TAGS


_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\ufeff"))


def _has_text(value: str | None) -> TypeGuard[str]:
    """Text that is not white space (nor the zero-width spaces editors leave in "empty"
    paragraphs)."""
    if not value or value.isspace():
        return False
    if "\u200b" in value or "\ufeff" in value:
        return bool(value.translate(_ZERO_WIDTH).strip())
    return True


def covered(
    element: HtmlElement, test: Callable[[HtmlElement], bool], inside: bool = False
) -> bool:
    """True when every bit of text in ``element`` sits in an element that passes ``test``."""
    inside = inside or test(element)
    if _has_text(element.text) and not inside:
        return False
    for child in element:
        if isinstance(child.tag, str) and not covered(child, test, inside):
            return False
        if _has_text(child.tail) and not inside:
            return False
    return True


def has_text(element: HtmlElement) -> bool:
    """True when an element holds any text that is not white space."""
    return any(_has_text(t) for t in sel.TEXT(element))


def is_embed(element: HtmlElement) -> bool:
    """An embedded image, video, tweet or map, or a p/div holding nothing but one."""
    tag = element.tag
    if not isinstance(tag, str):
        return False
    if tag in sel.EMBED_TAGS:
        return True
    classes = (element.get("class") or "").split()
    for name in classes:
        if name in sel.EMBED_CLASSES or (
            name.startswith(sel.EMBED_CLASS_PREFIX) and name not in sel.EMBED_TEXT_CLASSES
        ):
            return True
    if tag in ("p", "div", "span", "center"):  # the cheap test first: most hold no embed
        holds_embed = any(True for _ in element.iterdescendants(*sel.EMBED_TAGS))
        return holds_embed and not has_text(element)
    return False


def is_centred(element: HtmlElement) -> bool:
    """Centred by its own markup: <center>, a centring class, style or ``align``."""
    if element.tag in sel.CAPTION_CENTRED_TAGS:
        return True
    classes = element.get("class")
    if classes and not sel.CAPTION_CENTRED_CLASSES.isdisjoint(classes.split()):
        return True
    style = element.get("style")
    if style and _CENTRED_STYLE.search(style):
        return True
    return (element.get("align") or "").strip().lower() == "center"


def is_shell(element: HtmlElement) -> bool:
    """An element with no child and no text but ASCII white space: what the parser leaves
    of a ``<p>`` whose content it moved out (a ``<p>`` nested in it)."""
    return len(element) == 0 and not (element.text or "").strip(" \t\r\n\f")


def is_caption(element: HtmlElement, centred: bool = False) -> bool:
    """A caption typed by an editor: text all in small print, or all italic and centred
    (``centred``: by an empty centred sibling just before, the remains of a wrapper ``<p>``
    the parser split off)."""
    if not has_text(element):
        return False
    if covered(element, _is_small):
        return True
    return (centred or is_centred(element)) and covered(element, _is_italic)


def _text_around_link(
    element: HtmlElement, parts: tuple[list[str], list[str], list[str]], at: list[int]
) -> None:
    """Sort the text of ``element`` into before the (first) link, in links, after it."""
    if _has_text(element.text):
        parts[at[0]].append(element.text)
    for child in element:
        if isinstance(child.tag, str) and not is_skipped(child):
            if child.tag == "a" and child.get("href"):
                parts[1].extend(sel.TEXT(child))
                at[0] = 2
            else:
                _text_around_link(child, parts, at)
        if _has_text(child.tail):
            parts[at[0]].append(child.tail)


def is_teaser_label(label: str) -> bool:
    """A teaser's label: a "read more" phrase (">> 延伸阅读", "READ ON"...), or any short
    label ending in a colon, ASCII or fullwidth (">> READ ON THE OBSERVERS:")."""
    if _TEASER_LABEL.match(label):
        return bool(label.strip(_LABEL_PUNCTUATION + _LABEL_MARKERS))
    match = _TEASER_COLON_LABEL.match(label)
    if match is None:
        return False
    words = match.group("words")
    return len(words) + sum(map(is_wide, words)) <= sel.TEASER_LABEL_MAX


def is_teaser(paragraph: HtmlElement) -> bool:
    """A paragraph that only points to another article: its text is one link (one address)
    with a teaser's label before it (:func:`is_teaser_label`) and at most closing
    punctuation after it; or, all bold, nothing but the link."""
    hrefs = {a.get("href") for a in paragraph.iter("a")}
    hrefs.discard(None)
    hrefs.discard("")
    if len(hrefs) != 1:
        return False
    parts: tuple[list[str], list[str], list[str]] = ([], [], [])
    _text_around_link(paragraph, parts, [0])
    if not clean_text("".join(parts[1])):
        return False
    if clean_text("".join(parts[2])).strip(sel.TEASER_CLOSING + " "):
        return False  # the sentence goes on after the link
    label = clean_text("".join(parts[0])).rstrip(sel.TEASER_OPENING + " ")
    if is_teaser_label(label):
        return True
    return not label.strip(_LABEL_MARKERS) and covered(paragraph, _is_bold)


def is_skipped(element: HtmlElement) -> bool:
    """True for a subtree that is not article text (the spec's skip list)."""
    tag = element.tag
    if not isinstance(tag, str):  # comments, processing instructions
        return True
    if tag.lower() in sel.BODY_SKIP_TAGS:
        return True
    classes = element.get("class")
    return bool(classes and not sel.BODY_SKIP_CLASSES.isdisjoint(classes.split()))


@dataclass
class Body:
    """What the body holds, cleaned."""

    paragraphs: list[str] = field(default_factory=list)
    html: str = ""
    lead: str | None = None  # the opening bold paragraph, taken out (``take_lead``)


@dataclass(slots=True)
class _Tag:
    markup: str
    block: bool  # white space next to it is not text (block tags and <br>)


class _Walker:
    """Walks the body once, collecting text blocks and HTML tokens."""

    def __init__(self, base_url: str, take_lead: bool = False) -> None:
        self.base_url = base_url
        self.blocks: list[list[str]] = []
        self.tokens: list[str | _Tag] = []
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
        if tag != "p" or not covered(element, _is_bold):
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
            if self.after_embed and _has_text(value):
                self.after_embed = self.centred_blank = False

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
