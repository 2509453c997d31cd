"""Text processors of the item spec, each small enough to test on its own.

The loader (``loaders.py``) chains them per field; the body extractor and the
mirror parser call :func:`clean_text` directly.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import TypeVar, overload

from w3lib.html import replace_entities

from rfi_spider.dates import iso_utc, parse_datetime
from rfi_spider.editions import is_publisher

DATE_TEXT_RE = re.compile(r"^\d{2}/\d{2}/\d{4} - \d{2}:\d{2}$")

# Removed from all text: U+200B and U+FEFF, and the control characters that are not
# white space (NUL, U+0001-U+0008, U+000E-U+001B, DEL, C1 but NEL): never text on a page.
_CONTROLS = [c for c in [*range(0x20), *range(0x7F, 0xA0)] if not chr(c).isspace()]
_INVISIBLE = [*map(ord, "\u200b\ufeff"), *_CONTROLS]
# Lone surrogates (U+D800-U+DFFF alone in a str: JSON's "\ud800"): UTF-8 cannot encode them.
_SURROGATES = re.compile("[\ud800-\udfff]")
# Both removed in one pass of one character class (a translate table costs a dict look-up
# a character, eight times as much on the pages' text).
_INVISIBLE_OR_SURROGATE = re.compile(
    "[" + "".join(re.escape(chr(c)) for c in sorted(_INVISIBLE)) + "\ud800-\udfff]"
)
_WHITESPACE_RUN = re.compile(r"\s+")
_LINE_BREAK = re.compile(r"[\n\r\u2028\u2029\x0b\x0c\x85]")


# Punctuation of ambiguous width that Chinese text sets full width: the spec counts “ ” as wide.
_WIDE_PUNCTUATION = frozenset("“”‘’…—")


def is_wide(char: str) -> bool:
    """True for East Asian wide and fullwidth characters (CJK, ，。？“” and the like)."""
    return char in _WIDE_PUNCTUATION or unicodedata.east_asian_width(char) in ("W", "F")


def _collapse(match: re.Match[str]) -> str:
    run = match.group(0)
    text, start, end = match.string, match.start(), match.end()
    if (
        _LINE_BREAK.search(run)
        and start > 0
        and end < len(text)
        and is_wide(text[start - 1])
        and is_wide(text[end])
    ):
        return ""
    return " "


def collapse_whitespace(text: str) -> str:
    """Fold white-space runs to one space; drop a line break between two wide characters.

    This is CSS Text 3's segment-break rule for Chinese: a source line break
    inside a sentence is not a space.

    Printable text (Python's sense) holds no white space but the ASCII space: without two
    in a row, every run is one space already, and the text is returned as it is without a
    regular expression's pass (two or three times the cost of ``isprintable``; issue 26).
    """
    if text.isprintable() and "  " not in text:
        return text
    if not _LINE_BREAK.search(text):  # every run is then one space: no call a run
        return _WHITESPACE_RUN.sub(" ", text)
    return _WHITESPACE_RUN.sub(_collapse, text)


def has_line_break(text: str) -> bool:
    """Does ``text`` hold a line break? Without one, its white space folds the same
    whatever characters surround it (:func:`collapse_whitespace`)."""
    return _LINE_BREAK.search(text) is not None


def drop_surrogates(text: str) -> str:
    """Remove lone surrogates: never text, and no file or JSON line could hold them.

    An ASCII string holds none (a flag, no scan), nor does one that UTF-8 encodes (a
    C loop, a third of the regular expression's search): only then is the text searched.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATES.sub("", text)
    return text


def strip_invisibles(text: str) -> str:
    """Remove U+200B, U+FEFF, control characters (NUL...) and lone surrogates, then
    compose to NFC.

    Each of them is unprintable in Python's sense: printable text skips the regular
    expression (``isprintable`` costs a quarter of its pass on Chinese text; issue 26).
    """
    if not text.isprintable():
        text = _INVISIBLE_OR_SURROGATE.sub("", text)
    return unicodedata.normalize("NFC", text)


T = TypeVar("T")


@overload
def decode_entities(value: str) -> str: ...
@overload
def decode_entities(value: None) -> None: ...
def decode_entities(value: str | None) -> str | None:
    """Decode HTML entities left in text that no HTML parser has read (JSON-LD, feeds)."""
    return replace_entities(value) if value and "&" in value else value


def clean_text(value: str | None) -> str:
    """The spec's text rules on parsed text: invisibles, NFC, white space, strip.

    Entities are decoded by the HTML parser; text from elsewhere goes through
    :func:`decode_entities` first, so that ``&amp;amp;`` is decoded once only.
    """
    if not value:
        return ""
    return collapse_whitespace(strip_invisibles(value)).strip()


def drop_empty(value: str | None) -> str | None:
    """MapCompose step: turn an empty string into None so that it is dropped."""
    return value or None


def unique(values: Iterable[T]) -> list[T]:
    """Remove duplicates, keeping the first occurrence's place."""
    return list(dict.fromkeys(values))


def normalize_datetime(value: str | None) -> str | None:
    """MapCompose step: any ISO 8601 text to UTC seconds with ``+00:00``; None if unparsable."""
    if not value:
        return None
    return _normalized_datetime(str(value))  # a plain string in the cache


@lru_cache(maxsize=16)
def _normalized_datetime(value: str) -> str | None:
    """Cached for the page at hand: its dates come three times each (JSON-LD, meta tag,
    <time>), the same text (2.5 µs a parse); a few entries only, so a crawl's pages do not
    hit each other's."""
    parsed = parse_datetime(value)
    return iso_utc(parsed) if parsed else None


def valid_date_text(value: str | None) -> str | None:
    """MapCompose step: keep a display date only when it has the page's exact shape."""
    return value if value and DATE_TEXT_RE.match(value) else None


def split_keywords(value: str | list[str] | None) -> list[str]:
    """JSON-LD ``keywords``: a list, or one string separated by ASCII or fullwidth commas."""
    if not value:
        return []
    if isinstance(value, str):
        return re.split(r"[,，]", value)
    return [v for v in value if isinstance(v, str)]


def https_url(value: str | None) -> str | None:
    """MapCompose step: an http(s) URL upgraded to https (RFI's media hosts all serve it)."""
    if not value:
        return None
    if value.startswith("http://"):
        return "https://" + value[len("http://") :]
    return value if value.startswith("https://") else None


def not_publisher(name: str | None) -> str | None:
    """MapCompose step: the publisher (RFI, each edition's names of it) is not a byline."""
    if name and not is_publisher(name):
        return name
    return None
