"""The real browser behind the fallback: Debian's Chromium driven by scrapy-playwright.

Only requests whose meta says ``playwright`` go to the browser (see
``middlewares.BlockedPagesMiddleware``); every other request takes Scrapy's own
HTTP stack through the same handler. Everything here goes through
scrapy-playwright's documented API (0.0.48): settings, request meta keys, and a
``PLAYWRIGHT_BROWSER_PROVIDER``; and through Playwright's public objects.

**Nothing starts with the crawl.** scrapy-playwright's handler must be installed
for ``http``/``https`` when the engine starts: it launches its browser provider on
``engine_started`` and a handler built later (Scrapy's lazy download handlers, or
one registered for a scheme of its own) would never be launched, and a scheme of
its own would send its URLs to ``page.goto``. So the handler is installed as usual
and :class:`LazyChromiumProvider`, the configured provider, starts nothing at that
point: the Playwright driver (a Node.js process) and then Chromium start when the
first page asks for a browser. A crawl that is never blocked runs neither. A
Chromium that does not start raises :class:`BrowserUnavailableError`, which the
fallback middleware reports; the crawl goes on without the browser.

**Settings from settings.** :class:`BrowserSettings`, an add-on, turns
``RFI_BROWSER_PATH``, ``RFI_BROWSER_ARGS`` and ``RFI_BROWSER_TIMEOUT`` (``-s`` values
included) into ``PLAYWRIGHT_LAUNCH_OPTIONS`` and
``PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT`` before the crawl starts.

**One page at a time, contexts recycled.** :class:`BrowserDownloadHandler`
(scrapy-playwright's handler, ``download_request`` extended) sends pages one at a
time, each in a browser context of its page's origin (``playwright_context``,
``playwright_context_kwargs``): the sandbox's proxy lets that origin through
(:mod:`rfi_spider.fetch.sandbox`), so a page of another origin gets a context of
its own. Every ``RFI_BROWSER_CONTEXT_PAGES`` pages the context is closed
(``BrowserContext.close()``, seen by the sandbox's ``playwright_page_init_callback``)
and the next page opens a fresh one: a long-lived context keeps growing.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Request as PlaywrightRequest
from playwright.async_api import Response as PlaywrightResponse
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings
from scrapy_playwright.handler import Config, ScrapyPlaywrightDownloadHandler
from scrapy_playwright.provider import PlaywrightBrowserProvider

from rfi_spider.config import RfiSettings
from rfi_spider.fetch.sandbox import (
    CONTEXT_OPTIONS,
    Origin,
    PageGuard,
    RefusingPort,
    allowed_hosts,
    context_proxy,
    sandbox_args,
)

logger = logging.getLogger(__name__)

# Resource types the browser never downloads: the page's text needs none of them.
SKIPPED_RESOURCE_TYPES = frozenset({"image", "font", "media"})


class BrowserUnavailableError(Exception):
    """Chromium is missing or does not start: the fallback cannot run."""


def browser_path(config: RfiSettings) -> Path | None:
    """``RFI_BROWSER_PATH`` when it names an executable file, else None."""
    value = config.browser_path.strip()
    if not value:
        return None
    path = Path(value)
    return path if path.is_file() and os.access(path, os.X_OK) else None


def launch_options(settings: BaseSettings, config: RfiSettings) -> dict[str, Any]:
    """Playwright launch options from ``RFI_BROWSER_PATH``, ``RFI_BROWSER_ARGS`` and
    ``RFI_BROWSER_TIMEOUT``.

    ``PLAYWRIGHT_LAUNCH_OPTIONS`` entries, when set, win over these, but the
    flags are always the sandbox's (:func:`~rfi_spider.fetch.sandbox.sandbox_args`):
    no proxy flag, WebRTC through the proxy only.
    """
    options: dict[str, Any] = {
        "executable_path": config.browser_path,
        "headless": True,
        "args": list(config.browser_args),
        "timeout": config.browser_timeout * 1000,
    }
    options.update(settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS"))
    options["args"] = sandbox_args(options.get("args") or [])
    return options


class BrowserSettings:
    """Add-on: scrapy-playwright's settings derived from the ``RFI_BROWSER_*`` ones.

    ``PLAYWRIGHT_LAUNCH_OPTIONS`` becomes :func:`launch_options`, and
    ``PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT``, unless set, ``RFI_BROWSER_TIMEOUT``;
    each at the priority it was set with, so that a ``-s`` value is followed.
    Nothing starts here: these are only settings.
    """

    def __init__(self, crawler: Crawler | None = None) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BrowserSettings:
        return cls(crawler)

    def update_settings(self, settings: BaseSettings) -> None:
        config = RfiSettings.for_addon(self.crawler, settings)
        name = "PLAYWRIGHT_LAUNCH_OPTIONS"
        priority = max(settings.getpriority(name) or 0, SETTINGS_PRIORITIES["addon"])
        settings.set(name, launch_options(settings, config), priority=priority)
        name = "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT"
        if settings.get(name) is None:
            timeout_ms = config.browser_timeout * 1000
            settings.set(name, timeout_ms, priority=SETTINGS_PRIORITIES["addon"])


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


class LazyChromiumProvider(PlaywrightBrowserProvider):
    """``PLAYWRIGHT_BROWSER_PROVIDER``: the Playwright driver and Chromium start at the
    first page, not with the crawl.

    scrapy-playwright awaits :meth:`start` when the engine starts: nothing starts
    then. :meth:`launch_browser`, awaited (under scrapy-playwright's lock) when the
    first browser context is needed, starts the driver, then Chromium with
    ``PLAYWRIGHT_LAUNCH_OPTIONS`` and the sandbox's browser-wide proxy, a port that
    refuses every connection (each context has its own proxy letting its page's
    origin through). A driver or a Chromium that does not start raises
    :class:`BrowserUnavailableError`, at once for every later page.
    """

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.started = False
        self.failure: BrowserUnavailableError | None = None
        self.refusing: RefusingPort | None = None

    async def start(self) -> None:
        """Awaited when the engine starts: nothing starts yet."""

    async def launch_browser(self) -> Browser:
        if self.failure is not None:
            raise BrowserUnavailableError(str(self.failure))
        path = self.config.launch_options.get("executable_path")
        if not self.started:
            logger.info("starting the browser fallback: Playwright driver, then %s", path)
        try:
            if not self.started:
                await super().start()
                self.started = True
            if self.config.cdp_url or self.config.connect_url:
                return await super().launch_browser()
            if self.browser_type is None:
                raise RuntimeError(f"no browser type {self.config.browser_type_name!r}")
            self.refusing = self.refusing or RefusingPort()
            options = {**self.config.launch_options, "proxy": {"server": self.refusing.proxy}}
            return await self.browser_type.launch(**options)
        except Exception as error:
            self.failure = BrowserUnavailableError(f"{type(error).__name__}: {error}")
            try:
                await self.close()  # no driver left running for nothing
            except Exception as closing:
                logger.debug("stopping the Playwright driver: %s", closing)
            raise self.failure from error

    async def close(self) -> None:
        """Awaited when the handler closes: the driver stops, if it ever started."""
        if self.refusing is not None:
            self.refusing.close()
            self.refusing = None
        if self.started:
            self.started = False
            await super().close()


class BrowserDownloadHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler; browser pages one at a time, in contexts of their
    origin, recycled every ``RFI_BROWSER_CONTEXT_PAGES`` pages.

    Only the public ``download_request`` is extended: it sets the documented meta
    keys ``playwright_context`` (``rfi-<n>``), ``playwright_context_kwargs`` (the
    sandbox's proxy for the page's origin, service workers blocked) and
    ``playwright_page_init_callback`` (:class:`~rfi_spider.fetch.sandbox.PageGuard`,
    behind :meth:`ContextRecycler.watching`, which notes the page's ``BrowserContext``).
    A context is closed with ``BrowserContext.close()`` before the page after its
    last one; scrapy-playwright forgets a closed context (and frees its
    ``PLAYWRIGHT_MAX_CONTEXTS`` place).
    Pages go one at a time anyway (``PLAYWRIGHT_MAX_CONTEXTS`` and
    ``PLAYWRIGHT_MAX_PAGES_PER_CONTEXT`` at 1); the lock keeps the count and the
    closing in step with them. A challenge's cookies go with the old context: the
    next page passes the challenge again.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        config = RfiSettings.of(crawler)
        self.context_pages = config.browser_context_pages
        self.allowed_hosts = allowed_hosts(config.browser_allowed_hosts)
        self.contexts = ContextRecycler(self.context_pages, crawler.stats)
        self.refusing: RefusingPort | None = None
        self._one_page_at_a_time = asyncio.Lock()
        crawler.signals.connect(self.close_refusing_port, signal=signals.engine_stopped)

    async def download_request(self, request: Request) -> Response:
        if not request.meta.get("playwright"):
            return await super().download_request(request)
        origin = Origin.of(request.url)
        if origin is None:  # only http(s) requests come here
            raise ValueError(f"no web origin for the browser: {request.url}")
        self.refusing = self.refusing or RefusingPort()
        async with self._one_page_at_a_time:
            name = await self.contexts.context_for(origin)
            guard = PageGuard(origin, self.allowed_hosts, self.stats)
            request.meta["playwright_context"] = name
            request.meta["playwright_context_kwargs"] = {
                **request.meta.get("playwright_context_kwargs", {}),
                **CONTEXT_OPTIONS,
                "proxy": context_proxy(origin, self.allowed_hosts, self.refusing.proxy),
            }
            request.meta["playwright_page_init_callback"] = self.contexts.watching(guard)
            return await super().download_request(request)

    def close_refusing_port(self) -> None:
        if self.refusing is not None:
            self.refusing.close()
            self.refusing = None


class ContextRecycler:
    """Which browser context the next page goes to, and closing the one it replaces.

    A context serves one origin (its proxy lets that origin through) and at most
    ``limit`` pages (0: no limit). The context itself is only known from its pages
    (:meth:`watching`); a context never seen (its first page failed before the
    page existed) is kept rather than replaced, so that a second one never waits
    for the first's ``PLAYWRIGHT_MAX_CONTEXTS`` place.
    """

    def __init__(self, limit: int, stats: Any) -> None:
        self.limit = limit
        self.stats = stats
        self.number = 1
        self.pages = 0
        self.origin: Origin | None = None
        self.context: BrowserContext | None = None

    @property
    def name(self) -> str:
        return f"rfi-{self.number}"

    async def context_for(self, origin: Origin) -> str:
        """The context name of the next page, of ``origin``; one page counted."""
        full = 0 < self.limit <= self.pages
        moved = self.origin is not None and origin != self.origin
        if (full or moved) and self.context is not None:
            await self.close(recycled=full and not moved)
        self.origin = origin
        self.pages += 1
        return self.name

    async def close(self, recycled: bool) -> None:
        context, self.context = self.context, None
        assert context is not None  # called only with a context open
        name = self.name
        self.number += 1
        self.pages = 0
        try:
            await context.close()  # scrapy-playwright forgets it on its close event
        except PlaywrightError as error:
            logger.debug("closing browser context %s: %s", name, error)
        if recycled:
            self.stats.inc_value("rfi/browser/contexts_recycled")
            logger.debug("browser context %s closed after %d pages", name, self.limit)
        else:
            logger.debug("browser context %s closed: the next page is of another origin", name)

    def watching(self, guard: PageGuard) -> Any:
        """``playwright_page_init_callback``: note the page's context, then ``guard``."""

        async def init(page: Page, request: Request) -> None:
            self.context = page.context
            await guard(page, request)

        return init


# The handler's name before it used only scrapy-playwright's public API: a
# DOWNLOAD_HANDLERS setting (or a Scrapyd job's) that names it keeps working.
LazyPlaywrightDownloadHandler = BrowserDownloadHandler
