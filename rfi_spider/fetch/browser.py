"""The real browser behind the fallback: Debian's Chromium driven by scrapy-playwright.

Only requests whose meta says ``playwright`` go to the browser (see
``middlewares.BlockedPagesMiddleware``); every other request takes Scrapy's
own HTTP stack through the same handler. Nothing browser-related starts with the
crawl: the Playwright driver and Chromium start at the first fallback, so a
crawl that is never blocked never runs a browser.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from playwright.async_api import Request as PlaywrightRequest
from playwright.async_api import Response as PlaywrightResponse
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy.settings import BaseSettings
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from rfi_spider.fetch.sandbox import (
    CONTEXT_OPTIONS,
    Origin,
    PageGuard,
    RefusingPort,
    allowed_hosts,
    sandbox_launch_options,
)

logger = logging.getLogger(__name__)

# Resource types the browser never downloads: the page's text needs none of them.
SKIPPED_RESOURCE_TYPES = frozenset({"image", "font", "media"})


class BrowserUnavailableError(Exception):
    """Chromium is missing or does not start: the fallback cannot run."""


def browser_path(settings: BaseSettings) -> Path | None:
    """``RFI_BROWSER_PATH`` when it names an executable file, else None."""
    value = (settings.get("RFI_BROWSER_PATH") or "").strip()
    if not value:
        return None
    path = Path(value)
    return path if path.is_file() and os.access(path, os.X_OK) else None


def launch_options(settings: BaseSettings) -> dict[str, Any]:
    """Playwright launch options from ``RFI_BROWSER_PATH`` and ``RFI_BROWSER_ARGS``.

    Computed when the crawl starts, so ``-s RFI_BROWSER_PATH=...`` is followed;
    ``PLAYWRIGHT_LAUNCH_OPTIONS`` entries, when set, win over these.
    """
    options: dict[str, Any] = {
        "executable_path": settings.get("RFI_BROWSER_PATH"),
        "headless": True,
        "args": list(settings.getlist("RFI_BROWSER_ARGS")),
        "timeout": settings.getfloat("RFI_BROWSER_TIMEOUT") * 1000,
    }
    options.update(settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS"))
    return options


def skip_heavy_resources(request: PlaywrightRequest) -> bool:
    """``PLAYWRIGHT_ABORT_REQUEST``: drop images, fonts and media."""
    return request.resource_type in SKIPPED_RESOURCE_TYPES


@dataclass
class MainDocument:
    """The last document the server sent to a page's main frame, as the server sent it.

    Attached as the page's ``response`` event handler; :func:`wait_for_markup`
    reads its body once the page is past the challenge. The spider parses these
    bytes rather than the DOM after the page's own scripts ran (ads written into
    the body with ``document.write``, widgets), so that an article fetched
    through the browser is exported exactly like one fetched plainly.
    """

    url: str | None = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    _response: PlaywrightResponse | None = field(default=None, repr=False)

    def __call__(self, response: PlaywrightResponse) -> None:
        if response.request.resource_type == "document" and response.frame.parent_frame is None:
            self._response = response

    async def read(self) -> None:
        response, self._response = self._response, None
        if response is None:
            return
        try:
            self.body = await response.body()
            self.headers = await response.all_headers()
        except PlaywrightError as error:
            logger.debug("no body for the document at %s: %s", response.url, error)
            self.body = None
            return
        self.url = response.url


async def wait_for_markup(
    page: Page, selector: str, timeout_ms: float, document: MainDocument | None = None
) -> bool:
    """A ``PageMethod``: wait until ``selector`` is in the page (past any challenge).

    Then read the served HTML into ``document``. A timeout is no error here: the
    page is returned as it is and judged by its content
    (``middlewares.BlockedPagesMiddleware``), with one clear log line.
    """
    try:
        await page.wait_for_selector(selector, state="attached", timeout=timeout_ms)
    except PlaywrightTimeoutError:
        return False
    if document is not None:
        await document.read()
    return True


class LazyPlaywrightDownloadHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler, started at the first browser request, not with the crawl.

    scrapy-playwright 0.0.48 starts its Playwright driver (a Node.js process) when
    the engine starts, once per scheme, and Chromium at the first page. Here both
    wait for the first request that asks for the browser. A Chromium that does not
    start raises :class:`BrowserUnavailableError`, which the fallback middleware reports.

    Browser pages go one at a time (as ``PLAYWRIGHT_MAX_CONTEXTS`` and
    ``PLAYWRIGHT_MAX_PAGES_PER_CONTEXT`` at 1 say), each closed by scrapy-playwright
    after use, and the browser context is closed and a fresh one started every
    ``RFI_BROWSER_CONTEXT_PAGES`` pages: a long-lived context keeps growing (its
    caches, its history), a new one starts from nothing. A challenge's cookies
    go with the old context: the next page passes the challenge again.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.stats = crawler.stats
        self.context_pages = crawler.settings.getint("RFI_BROWSER_CONTEXT_PAGES")
        self._context_number = 1
        self._pages_in_context = 0
        self._one_page_at_a_time = asyncio.Lock()
        self.config.launch_options = launch_options(crawler.settings)
        if self.config.navigation_timeout_ms is None:
            self.config.navigation_timeout_ms = (
                crawler.settings.getfloat("RFI_BROWSER_TIMEOUT") * 1000
            )
        self._launched = False
        self._launch_lock = asyncio.Lock()
        self.allowed_hosts = allowed_hosts(crawler.settings.getlist("RFI_BROWSER_ALLOWED_HOSTS"))
        self._refusing: RefusingPort | None = None
        crawler.signals.connect(self._close_refusing_port, signal=signals.engine_stopped)

    async def _maybe_launch_in_thread(self) -> None:
        """Connected to ``engine_started`` by the parent: start nothing yet."""

    async def download_request(self, request: Request) -> Response:
        if not request.meta.get("playwright"):
            return await super().download_request(request)
        origin = Origin.of(request.url)
        if origin is None:  # only http(s) requests come here
            raise ValueError(f"no web origin for the browser: {request.url}")
        if not self._launched:
            await self._launch_once(origin)
        async with self._one_page_at_a_time:
            await self._recycle_context()
            request.meta["playwright_context"] = f"rfi-{self._context_number}"
            request.meta["playwright_context_kwargs"] = {
                **request.meta.get("playwright_context_kwargs", {}),
                **CONTEXT_OPTIONS,
            }
            request.meta["playwright_page_init_callback"] = PageGuard(
                origin, self.allowed_hosts, self.stats
            )
            self._pages_in_context += 1
            return await super().download_request(request)

    async def _recycle_context(self) -> None:
        """Close the context after ``RFI_BROWSER_CONTEXT_PAGES`` pages; the next page opens
        a new one. No page is open here: they go one at a time and each is closed."""
        if self.context_pages <= 0 or self._pages_in_context < self.context_pages:
            return
        name = f"rfi-{self._context_number}"
        self._context_number += 1
        self._pages_in_context = 0
        wrapper = self.context_wrappers.get(name)
        if wrapper is None:
            return
        try:
            await wrapper.context.close()  # scrapy-playwright forgets it on its close event
        except PlaywrightError as error:
            logger.debug("closing browser context %s: %s", name, error)
        self.stats.inc_value("rfi/browser/contexts_recycled")
        logger.debug("browser context %s closed after %d pages", name, self.context_pages)

    async def _launch_once(self, origin: Origin) -> None:
        async with self._launch_lock:
            if self._launched:
                return
            self._refusing = self._refusing or RefusingPort()
            self.config.launch_options.update(
                sandbox_launch_options(
                    origin,
                    self.allowed_hosts,
                    self._refusing.proxy,
                    self.config.launch_options.get("args") or [],
                )
            )
            path = self.config.launch_options.get("executable_path")
            logger.info("starting the browser fallback: Playwright driver, then %s", path)
            try:
                await self._launch()
            except Exception as error:
                raise BrowserUnavailableError(f"{type(error).__name__}: {error}") from error
            self._launched = True

    def _close_refusing_port(self) -> None:
        if self._refusing is not None:
            self._refusing.close()
            self._refusing = None

    async def _maybe_launch_browser(self) -> None:
        try:
            await super()._maybe_launch_browser()
        except Exception as error:
            raise BrowserUnavailableError(f"{type(error).__name__}: {error}") from error
