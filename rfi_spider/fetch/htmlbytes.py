"""HTML pages read as a browser reads them: in the charset they really use, without NUL.

**Charset.** Scrapy takes a page's charset from its ``Content-Type`` header,
else from its ``<meta charset>``, else detects it (a page that declares nothing
is already read right, GBK included). A page that *declares* UTF-8 wrongly (a
GBK page behind a proxy that adds ``charset=utf-8``, a template that says UTF-8
over GBK text) would decode into U+FFFD and garbled text.
:class:`HtmlBytesMiddleware` checks HTML pages read as UTF-8: when many of
their bytes are not UTF-8, they
are read with the page's own ``<meta>`` charset when that decodes cleanly, else
GB18030 (the superset of GBK and GB2312), else what charset-normalizer (Scrapy's
own detector) finds; ``rfi/page/charset_fixed`` counts them.

A page or feed that declares a charset no document is written in (``base64``,
``punycode``, a name no codec has) would crash whatever decodes it:
:class:`HtmlBytesMiddleware` reads such a response (HTML, XML, any text) as the
charset its own markup declares if that one is readable, else UTF-8, GB18030 or
what charset-normalizer finds, whichever decodes it cleanly first
(:func:`fallback_encoding`); ``rfi/page/charset_unreadable`` counts them.

**NUL.** A NUL byte is never text: a browser drops it (HTML's parsing rules);
libxml2 would turn it into U+FFFD. NUL bytes are removed from HTML pages (not
in UTF-16 or UTF-32, where they belong to characters), and
``rfi/page/nul_removed`` counts the pages.
"""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Iterator

from charset_normalizer import from_bytes
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Request, Response, TextResponse
from w3lib.encoding import html_body_declared_encoding, resolve_encoding

logger = logging.getLogger(__name__)

_NON_ASCII = re.compile(rb"[\x80-\xff]")


def _normal(encoding: str | None) -> str | None:
    try:
        return codecs.lookup(resolve_encoding(encoding) or encoding or "").name
    except LookupError:
        return None


_MARKUP = "<?xml version='1.0'?><a href=\"x-1\">z</a>"
_HIGH_BYTES = bytes(range(0x80, 0x100))


def readable_charset(name: str | None) -> str | None:
    """The codec of a declared charset when a web document can be read in it, else None:
    one Python has, that turns text into bytes (not ``base64``, ``rot13``), reads markup's
    ASCII as ASCII (not ``punycode``; UTF-16 and UTF-32 aside) and decodes any byte with
    a replacement character rather than an error."""
    encoding = _normal(name) if name else None
    if encoding is None:
        return None
    try:
        markup = _MARKUP.encode(encoding)
        _HIGH_BYTES.decode(encoding, errors="replace")
    except (LookupError, UnicodeError, ValueError):
        return None
    if encoding.startswith(("utf-16", "utf-32")) or markup == _MARKUP.encode("ascii"):
        return encoding
    return None


def fallback_encoding(body: bytes) -> str:
    """The charset to read a document whose declared one cannot be used: its markup's own
    declaration (``<meta charset>``, ``<?xml encoding?>``) if readable, else UTF-8, GB18030
    or charset-normalizer's guess, the first that decodes it without an error; else UTF-8
    (with replacement characters)."""
    declared = readable_charset(html_body_declared_encoding(body))
    if declared and not decode_errors(body, declared):
        return declared
    for candidate in ("utf-8", "gb18030"):
        if not decode_errors(body, candidate):
            return candidate
    best = from_bytes(body).best()
    return readable_charset(best.encoding if best else None) or "utf-8"


def decode_errors(body: bytes, encoding: str) -> int:
    """How many characters of ``body`` do not decode in ``encoding``."""
    try:
        return body.decode(encoding, errors="replace").count("\ufffd")
    except LookupError:
        return len(body)


def misdeclared_utf8(body: bytes) -> int:
    """How many invalid UTF-8 sequences ``body`` holds, when they are too many to be
    a stray byte or a cut-off character (at least 2, and 2% of the non-ASCII bytes);
    else 0."""
    if body.isascii():
        return 0
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        bad = decode_errors(body, "utf-8")
        if bad >= 2 and bad * 50 >= len(_NON_ASCII.findall(body)):
            return bad
    return 0


def _candidates(body: bytes) -> Iterator[str | None]:
    yield html_body_declared_encoding(body)
    yield "gb18030"
    best = from_bytes(body).best()  # the slowest: last
    yield best.encoding if best else None


def real_encoding(body: bytes) -> str | None:
    """The charset a page declared as UTF-8 is really in, or None if it is UTF-8 enough."""
    bad = misdeclared_utf8(body)
    if not bad:
        return None
    for candidate in _candidates(body):
        encoding = _normal(candidate)
        if encoding and encoding != "utf-8" and decode_errors(body, encoding) * 10 <= bad:
            return encoding
    return None


class HtmlBytesMiddleware:
    """Downloader middleware: HTML pages in their real charset, without NUL bytes."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HtmlBytesMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if isinstance(response, TextResponse):
            response = self.readable(response)
        if not isinstance(response, HtmlResponse):
            return response
        encoding = _normal(response.encoding) or ""
        if b"\x00" in response.body and not encoding.startswith(("utf-16", "utf-32")):
            self.stats.inc_value("rfi/page/nul_removed")
            logger.warning("%s holds NUL bytes: removed", response.url)
            response = response.replace(body=response.body.replace(b"\x00", b""))
        if encoding != "utf-8":
            return response
        real = real_encoding(response.body)
        if real is None:
            return response
        self.stats.inc_value("rfi/page/charset_fixed")
        logger.warning("%s says it is UTF-8 but is not: read as %s", response.url, real.upper())
        return response.replace(encoding=real)

    def readable(self, response: TextResponse) -> TextResponse:
        """``response`` read in a charset it can be read in (:func:`fallback_encoding`)
        when the one it declares cannot be."""
        declared = response.encoding
        if readable_charset(declared):
            return response
        real = fallback_encoding(response.body)
        self.stats.inc_value("rfi/page/charset_unreadable")
        logger.warning(
            "%s declares the charset %r, which cannot read a document: read as %s",
            response.url,
            declared[:40],
            real.upper(),
        )
        return response.replace(encoding=real)
