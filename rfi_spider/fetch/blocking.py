"""Block detection: whether an answer is the site's page, a block or an anti-bot challenge,
and what the browser got when it was sent past one.

Read by the blocked-pages middleware (``fetch/middlewares.py``), by the WARC capture
(``fetch/warc_capture.py``: a challenge page is not the site's copy) and by the spider
(a challenge page is an article's failure).
"""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request, Response, TextResponse

from rfi_spider import meta_keys
from rfi_spider.extract import selectors as sel
from rfi_spider.fetch.browser import MainDocument
from rfi_spider.fetch.sandbox import OFFSITE_META, Origin

# Statuses that say "you are not welcome (now)".
BLOCK_STATUSES = frozenset({403, 429, 503})
# Statuses a challenge page is served with (a 403 goes to the browser anyway).
CHALLENGE_STATUSES = frozenset({200, 503})


class ChallengePage(IgnoreRequest):
    """A challenge page stood where the content should be, and no browser got past it."""

    def __init__(self, url: str) -> None:
        super().__init__(f"challenge page instead of {url}")
        self.url = url


def has_site_markup(response: Response) -> bool:
    """The response is a page of the site itself (article, listing or the site's layout).

    Every page of the crawl passes here, so the markup's class names are looked
    for in the bytes, without parsing: an ordinary page is parsed once, by the
    spider. (A name found only in a script's text counts too: such a page then
    goes to the spider, which drops it if it is not an article.)
    """
    if not isinstance(response, TextResponse):
        return False
    return any(marker in response.body for marker in sel.SITE_MARKUP_BYTES)


def is_challenge(response: Response) -> bool:
    """No site markup, and a known challenge title or script: an anti-bot challenge."""
    if not isinstance(response, TextResponse) or has_site_markup(response):
        return False
    root = response.selector.root
    if root is None:
        return False
    title = str(sel.PAGE_TITLE(root)).strip().lower()
    if any(marker in title for marker in sel.CHALLENGE_TITLES):
        return True
    resources = " ".join(str(value) for value in sel.CHALLENGE_RESOURCES(root)).lower()
    return any(marker in resources for marker in sel.CHALLENGE_MARKERS)


def served_page(request: Request, rendered: Response) -> HtmlResponse | None:
    """The HTML the server sent for the browser's last document, as a response."""
    document = request.meta.get(meta_keys.DOCUMENT)
    if not isinstance(document, MainDocument) or document.body is None:
        return None
    headers = {
        name: value
        for name, value in document.headers.items()
        if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
    }
    return HtmlResponse(
        url=document.url or rendered.url,
        status=200,
        headers=headers,
        body=document.body,
        request=request,
        flags=[*rendered.flags, "rfi-served-html"],
    )


def left_origin(request: Request, pages: list[Response]) -> str | None:
    """The off-origin URL a browser page went to (or tried to), or None if it stayed.

    The origin is the one the browser was sent to (``request.url``'s). Checked:
    the main-frame navigation the sandbox blocked, and the final URL of the served
    document and of the page (scrapy-playwright reports the first navigation's
    status, not where the page's script took it). Browser-internal URLs (an error
    page after a refused request) are no origin's pages: judged by content.
    """
    blocked = request.meta.get(OFFSITE_META)
    if blocked:
        return str(blocked)
    home = Origin.of(request.url)
    for page in pages:
        origin = Origin.of(page.url)
        if origin is not None and origin != home:
            return page.url
    return None
