"""Scrapy's meta refresh redirects, without decoding every page to find none.

Scrapy's ``MetaRefreshMiddleware`` looks for ``<meta http-equiv="refresh">`` in the
first 4,096 characters of every HTML response, and takes them as
``response.text[0:4096]``: the whole page decoded to text first, about 200 KB for an
article (issue 26's profile: 0.2 ms of the main thread a page). Those characters lie
in the first 16 KB of the body in any charset where ASCII is ASCII (at most four bytes a
character), so a page whose first 16 KB never spell ``refresh`` cannot have one: it is
passed on untouched, undecoded. Any other page (one that may have it, or in a charset
such as UTF-16) goes through Scrapy's own middleware, which decides as before.
"""

from __future__ import annotations

from scrapy.downloadermiddlewares.redirect import (
    MetaRefreshMiddleware as ScrapyMetaRefreshMiddleware,
)
from scrapy.http import HtmlResponse, Request, Response

# Scrapy reads the first 4,096 characters; a character takes at most 4 bytes.
HEAD_BYTES = 4096 * 4
_REFRESH = b"refresh"


def may_refresh(response: HtmlResponse) -> bool:
    """False when the page's head cannot hold a meta refresh Scrapy would find."""
    try:
        ascii_compatible = _REFRESH.decode("ascii").encode(response.encoding) == _REFRESH
    except (LookupError, UnicodeError):
        return True
    if not ascii_compatible:
        return True
    return _REFRESH in response.body[:HEAD_BYTES].lower()


class MetaRefreshMiddleware(ScrapyMetaRefreshMiddleware):
    """Scrapy's middleware, skipped for the HTML pages :func:`may_refresh` rules out."""

    # Without the spider argument Scrapy 2.19 deprecates (its base class still declares it).
    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        if isinstance(response, HtmlResponse) and not may_refresh(response):
            return response
        return super().process_response(request, response)
