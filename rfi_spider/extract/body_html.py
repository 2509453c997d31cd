"""The article body's clean HTML (``body_html``): the walk's tokens serialised on one
line, with the spec's white-space rules; links kept only with an absolute http(s) address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from urllib.parse import urljoin, urlsplit

from w3lib.url import safe_url_string

from rfi_spider.extract.processors import (
    collapse_whitespace,
    has_line_break,
    strip_invisibles,
)

# Tags whose edges are not text: white space next to them is dropped.
BLOCK_LEVEL = frozenset({"p", "h2", "h3", "h4", "blockquote", "ul", "ol", "li"})
# An element with nothing but white space or line breaks in it.
_EMPTY_ELEMENT = re.compile(
    r"<(p|h2|h3|h4|blockquote|ul|ol|li|strong|b|em|i|a)(?: [^>]*)?>(?:\s|<br>)*</\1>"
)


@dataclass(slots=True)
class Tag:
    markup: str
    block: bool  # white space next to it is not text (block tags and <br>)


# An absolute http(s) URL that joining and escaping give back unchanged (a lower-case
# host, a path of characters that need no escape, no params, query or fragment): most
# links and pictures. It skips urljoin, w3lib's escaping and the split (0.02 ms a URL).
# Possessive runs: the next character always decides which part goes on (the host's
# runs hold no ``.``, the path's no ``/`` or ``%``): nothing is given back, and a run is
# one step of the matcher, not one alternation a character (46k → 10k instructions for a
# picture's 140-character URL; issue 26).
_PLAIN_HTTP_URL = re.compile(
    r"https?://[a-z0-9-]++(?:\.[a-z0-9-]++)*+"
    r"(?:/(?:[A-Za-z0-9._~:@!$&()*+,=-]++|%[0-9A-Fa-f]{2})*+)*+"
)


def absolute_http_url(href: str | None, base_url: str) -> str | None:
    """``href`` made absolute against ``base_url``; None unless it is http(s)."""
    if not href:
        return None
    href = href.strip()
    if _PLAIN_HTTP_URL.fullmatch(href):
        return str(href)  # a plain string (one from lxml keeps its page alive)
    try:
        url = safe_url_string(urljoin(base_url, href))
    except ValueError:
        return None
    return url if urlsplit(url).scheme in ("http", "https") else None


def render_tokens(tokens: list[str | Tag]) -> str:
    """Serialise walker tokens as one line of HTML with the spec's white-space rules."""
    texts = _merged_texts(tokens)
    out: list[str] = []
    after_space = True  # at the start, after a block tag or a space: leading space goes
    for i, token in enumerate(texts):
        if isinstance(token, Tag):
            out.append(token.markup)
            after_space = after_space if not token.block else True
            continue
        if not token or (after_space and token.isspace()):
            continue  # white space where leading space goes: nothing to write
        if has_line_break(token):  # its folding may depend on the characters around it
            before, after = _context(texts, i, -1), _context(texts, i, 1)
            folded = collapse_whitespace(before + token + after)
            folded = folded[len(before) : len(folded) - len(after)]
        else:
            folded = collapse_whitespace(token)
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


def _merged_texts(tokens: list[str | Tag]) -> list[str | Tag]:
    """The tokens with adjacent texts joined (text of unwrapped elements runs together),
    each text without its invisible characters."""
    merged: list[str | Tag] = []
    for token in tokens:
        if isinstance(token, str) and merged and isinstance(merged[-1], str):
            merged[-1] += token
        else:
            merged.append(token)
    return [strip_invisibles(t) if isinstance(t, str) else t for t in merged]


def _context(tokens: list[str | Tag], index: int, step: int) -> str:
    """The nearest non-space character of the text next to ``tokens[index]``.

    Inline tags are transparent (a line break between ``中<b>`` and ``文`` still
    joins two wide characters); block tags end the search.
    """
    i = index + step
    while 0 <= i < len(tokens):
        token = tokens[i]
        if isinstance(token, Tag):
            if token.block:
                return ""
        else:
            stripped = token.strip()
            if stripped:
                return stripped[-1] if step < 0 else stripped[0]
        i += step
    return ""
