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
from scrapy.http import HtmlResponse, Request, Response
from w3lib.encoding import html_body_declared_encoding, resolve_encoding

logger = logging.getLogger(__name__)

_NON_ASCII = re.compile(rb"[\x80-\xff]")


def _normal(encoding: str | None) -> str | None:
    try:
        return codecs.lookup(resolve_encoding(encoding) or encoding or "").name
    except LookupError:
        return None


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
