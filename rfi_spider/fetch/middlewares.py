"""Downloader middlewares: a real browser for blocked pages, and crawling that stays welcome.

- :class:`BlockedPagesMiddleware` counts blocked answers (``rfi/blocked/<status>``),
  slows their host down through its download slot (:class:`SlotBackoff`), and
  re-issues an article or listing that answered 403 or a challenge page once
  through Chromium (scrapy-playwright). The page the browser got goes to the same
  callback; a page it cannot get goes on as the original failure, to the errback.
- :class:`RetryAfterMiddleware` is Scrapy's retry that first waits what a 429 or
  503 asks for in ``Retry-After``.
- :class:`OffsiteMiddleware` is Scrapy's offsite filter that says so when a page
  of the crawl redirects off the site.

What counts as blocked (statuses, challenge pages, the page the browser got) is
``fetch/blocking.py``'s; the back-off and ``Retry-After`` are ``fetch/backoff.py``'s.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware as ScrapyOffsiteMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.response import response_status_message
from scrapy_playwright.page import PageMethod

from rfi_spider import meta_keys
from rfi_spider.config import RfiSettings
from rfi_spider.extract import selectors as sel
from rfi_spider.fetch.backoff import SlotBackoff, retry_after_seconds
from rfi_spider.fetch.blocking import (
    BLOCK_STATUSES,
    CHALLENGE_STATUSES,
    ChallengePage,
    has_site_markup,
    is_challenge,
    left_origin,
    served_page,
)
from rfi_spider.fetch.browser import (
    BrowserUnavailableError,
    MainDocument,
    browser_path,
    wait_for_markup,
)

logger = logging.getLogger(__name__)

# Marks a response made up after a browser failure, so that it is not judged twice.
GAVE_UP_FLAG = "rfi-browser-gave-up"


class BlockedPagesMiddleware:
    """Blocked answers: counted, slowed down for, and retried once in a real browser.

    **Back-off.** 403, 429 and 503 answers (at ``response_downloaded``, as
    AutoThrottle does: before the downloader lets the slot's next request go) and
    challenge pages served with 200 (in ``process_response``, once decompressed)
    are blocks for :class:`SlotBackoff`. A 403 or challenge that the browser is
    about to retry holds the delay at the start value without escalating: the
    browser's outcome decides, a failure escalates and a page obtained recovers.

    **Browser fallback.** An article or listing that answers 403 or a challenge
    page is re-issued with scrapy-playwright's meta keys (``playwright``,
    ``playwright_page_methods`` waiting for the site's markup); pages are closed by
    scrapy-playwright after use. scrapy-playwright reports the status of the first
    navigation (the challenge's 403) even when it returns the real page, so the
    browser's answer is judged by its content: the site's markup makes it a 200
    for the callback, with the HTML the server sent (:func:`served_page`);
    anything else counts ``rfi/browser/failed`` and goes on as the original
    failure (the 403, or :class:`ChallengePage`) to the errback.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.config = RfiSettings.of(crawler)
        self.backoff = SlotBackoff(crawler)
        self.timeout_ms = self.config.browser_timeout * 1000
        # None until the first fallback checks RFI_BROWSER_PATH.
        self.available: bool | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BlockedPagesMiddleware:
        middleware = cls(crawler)
        crawler.signals.connect(middleware.response_downloaded, signal=signals.response_downloaded)
        return middleware

    def response_downloaded(self, response: Response, request: Request) -> None:
        """Statuses, before the slot's next request leaves (pages are judged later)."""
        if request.meta.get(meta_keys.BROWSER):
            return  # the browser reports the challenge's status: see judge()
        kind = request.meta.get(meta_keys.KIND)
        if response.status in BLOCK_STATUSES:
            self.stats.inc_value(f"rfi/blocked/{response.status}")
            to_browser = response.status == 403 and kind in sel.BROWSER_WAIT_FOR
            escalate = not (to_browser and self.browser_ready())
            self.backoff.block(request, response, str(response.status), escalate=escalate)
        elif 200 <= response.status < 300 and kind not in sel.BROWSER_WAIT_FOR:
            self.backoff.recover(request)

    def process_response(self, request: Request, response: Response) -> Response | Request:
        kind = request.meta.get(meta_keys.KIND)
        if kind not in sel.BROWSER_WAIT_FOR:
            return response
        if request.meta.get(meta_keys.BROWSER):
            return self.judge(request, response)
        if response.status == 403:
            blocked = "403"
        elif response.status in CHALLENGE_STATUSES and is_challenge(response):
            blocked = "challenge" if response.status == 200 else str(response.status)
            if response.status == 200:
                self.stats.inc_value("rfi/blocked/challenge")
                self.backoff.block(
                    request, response, "challenge", escalate=not self.browser_ready()
                )
        else:
            if 200 <= response.status < 300:
                self.backoff.recover(request)
            return response
        if not self.browser_ready():
            self.stats.inc_value("rfi/browser/unavailable")
            return self.give_up(request, response, blocked)
        self.stats.inc_value("rfi/browser/requests")
        logger.info("%s answered %s: trying it in the browser", request.url, blocked)
        return self.browser_request(request, kind, blocked)

    def process_exception(self, request: Request, exception: Exception) -> Response | None:
        blocked = request.meta.get(meta_keys.BROWSER)
        if not blocked:
            return None
        if isinstance(exception, BrowserUnavailableError):
            self.stats.inc_value("rfi/browser/unavailable")
            if self.available:
                self.available = False
                logger.warning(
                    "browser fallback unavailable: Chromium (RFI_BROWSER_PATH=%s) does not"
                    " start (%s); blocked pages go on without it",
                    self.config.browser_path,
                    exception,
                )
        else:
            self.stats.inc_value("rfi/browser/failed")
            self.backoff.block(request, None, "a browser error")
            logger.warning(
                "the browser could not fetch %s: %s: %s",
                request.url,
                type(exception).__name__,
                str(exception).splitlines()[0] if str(exception) else "",
            )
        failed = HtmlResponse(url=request.url, status=200, body=b"", request=request)
        return self.give_up(request, failed, blocked, flags=[GAVE_UP_FLAG])

    def browser_ready(self) -> bool:
        """Whether Chromium can run; warns once when it cannot."""
        if self.available is None:
            configured = self.config.browser_path.strip()
            self.available = browser_path(self.config) is not None
            if not configured:
                logger.info("browser fallback off (RFI_BROWSER_PATH is empty)")
            elif not self.available:
                logger.warning(
                    "browser fallback unavailable: RFI_BROWSER_PATH=%s is not an executable"
                    " file (apt-get install chromium, or set RFI_BROWSER_PATH); blocked"
                    " pages go on without it",
                    configured,
                )
        return self.available

    def browser_request(self, request: Request, kind: str, blocked: str) -> Request:
        document = MainDocument()
        wait_for = PageMethod(
            wait_for_markup, sel.BROWSER_WAIT_FOR[kind], self.timeout_ms, document
        )
        meta = {
            # Not a start request any more: start requests wait behind all the others
            # of their priority in Scrapy's scheduler.
            **{k: v for k, v in request.meta.items() if k != "is_start_request"},
            "playwright": True,
            "playwright_page_methods": [wait_for],
            "playwright_page_event_handlers": {"response": document},
            meta_keys.DOCUMENT: document,
            meta_keys.BROWSER: blocked,
            # One attempt: a browser failure is not retried by RetryMiddleware.
            "dont_retry": True,
        }
        return request.replace(meta=meta, dont_filter=True)

    def judge(self, request: Request, response: Response) -> Response:
        """The browser's answer: the real page (as a 200), or the original failure."""
        if GAVE_UP_FLAG in response.flags:
            return response
        kind = request.meta[meta_keys.KIND]
        served = served_page(request, response)
        offsite = left_origin(request, [page for page in (served, response) if page is not None])
        if offsite is not None:
            self.stats.inc_value("rfi/browser/offsite")
            logger.warning(
                "the browser page for %s left its origin for %s: not used",
                request.url,
                offsite,
            )
            return self.give_up(request, response, request.meta[meta_keys.BROWSER])
        for page in (served, response):
            if page is not None and has_site_markup(page) and not is_challenge(page):
                self.stats.inc_value("rfi/browser/succeeded")
                self.stats.inc_value(f"rfi/browser/succeeded/{kind}")
                logger.info("fetched %s %s through the browser", kind, request.url)
                self.backoff.recover(request)
                return page.replace(status=200)
        self.stats.inc_value("rfi/browser/failed")
        self.backoff.block(request, None, f"{response.status} in the browser")
        logger.warning(
            "the browser did not get past the block at %s (status %d, no page markup)",
            request.url,
            response.status,
        )
        return self.give_up(request, response, request.meta[meta_keys.BROWSER])

    @staticmethod
    def give_up(
        request: Request, response: Response, blocked: str, flags: list[str] | None = None
    ) -> Response:
        """The original failure: a response with the blocked status, or :class:`ChallengePage`."""
        if blocked == "challenge":
            raise ChallengePage(request.url)
        status = int(blocked)
        if response.status == status and not flags:
            return response
        return response.replace(status=status, flags=[*response.flags, *(flags or [])])


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware that waits a 429's or 503's ``Retry-After`` before retrying.

    The wait (capped by ``RFI_RETRY_AFTER_MAX``) is an ``asyncio.sleep`` of this
    one response: the reactor keeps running; other requests to the host are slowed
    by :class:`SlotBackoff` through the slot's delay.
    """

    retry_after_max = 0.0  # RFI_RETRY_AFTER_MAX, set by from_crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        middleware = super().from_crawler(crawler)
        middleware.retry_after_max = RfiSettings.of(crawler).retry_after_max
        return middleware

    # A coroutine, where RetryMiddleware's is not: Scrapy awaits either (and this one waits
    # for Retry-After without blocking the reactor), which the base class's type cannot say.
    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait:
            wait = min(wait, self.retry_after_max)
            self.crawler.stats.inc_value("rfi/backoff/retry_after")
            logger.info(
                "%s answered %d with Retry-After: retrying in %.1f s",
                request.url,
                response.status,
                wait,
            )
            await asyncio.sleep(wait)
        return retry


class OffsiteMiddleware(ScrapyOffsiteMiddleware):
    """Scrapy's offsite filter; a redirect off the site gets a warning and a counter.

    Scrapy drops an offsite request quietly (one debug line per host). A link
    off the site is never requested at all (the spider keeps only site links),
    so an offsite request of the crawl is a redirect of one of its pages to
    another host: ``rfi/failed/<kind>/offsite_redirect`` and a warning naming both.
    """

    def process_request(self, request: Request, spider: Any = None) -> None:
        try:
            super().process_request(request)
        except IgnoreRequest:
            redirects = request.meta.get("redirect_urls")
            kind = request.meta.get(meta_keys.KIND)
            if redirects and kind:
                self.stats.inc_value(f"rfi/failed/{kind}/offsite_redirect")
                logger.warning(
                    "%s %s redirects off the site to %s: not followed",
                    kind,
                    redirects[0],
                    request.url,
                )
            raise
