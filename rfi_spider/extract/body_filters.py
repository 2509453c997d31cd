"""What of an article body is not its text: skipped subtrees, embeds, the captions typed
under an embed, the teasers of other articles (issues 13, 27).

Each is a test of one element, asked by the body's walk (``body.py``). Real markup is
messy: a caption may be a block or an inline wrapper, in small print or italic and
centred; a teaser is a paragraph that is one link after a short label ending in a colon,
or a "read more" label, or a bold paragraph that is only a link.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeGuard

from lxml.html import HtmlElement

from rfi_spider.extract import selectors as sel
from rfi_spider.extract.processors import clean_text, is_wide

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


def is_bold(element: HtmlElement) -> bool:
    return element.tag in sel.BOLD_TAGS


_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\ufeff"))


def has_some_text(value: str | None) -> TypeGuard[str]:
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
    if has_some_text(element.text) and not inside:
        return False
    for child in element:
        if isinstance(child.tag, str) and not covered(child, test, inside):
            return False
        if has_some_text(child.tail) and not inside:
            return False
    return True


def has_text(element: HtmlElement) -> bool:
    """True when an element holds any text that is not white space."""
    return any(has_some_text(t) for t in sel.TEXT(element))


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
    if tag in ("p", "div", "span", "center") and len(element):  # no child: no embed in it
        # (lxml's iterator over eight tags costs about 13k instructions to set up: a
        # paragraph of text alone, most of them, skips it; issue 26)
        holds_embed = next(element.iterdescendants(*sel.EMBED_TAGS), None) is not None
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
    if has_some_text(element.text):
        parts[at[0]].append(element.text)
    for child in element:
        if isinstance(child.tag, str) and not is_skipped(child):
            if child.tag == "a" and child.get("href"):
                parts[1].extend(sel.TEXT(child))
                at[0] = 2
            else:
                _text_around_link(child, parts, at)
        if has_some_text(child.tail):
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
    if not len(paragraph):  # no child element: no link (a paragraph of text alone)
        return False
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
    return not label.strip(_LABEL_MARKERS) and covered(paragraph, is_bold)


def is_skipped(element: HtmlElement) -> bool:
    """True for a subtree that is not article text (the spec's skip list)."""
    tag = element.tag
    if not isinstance(tag, str):  # comments, processing instructions
        return True
    if tag.lower() in sel.BODY_SKIP_TAGS:
        return True
    classes = element.get("class")
    return bool(classes and not sel.BODY_SKIP_CLASSES.isdisjoint(classes.split()))
