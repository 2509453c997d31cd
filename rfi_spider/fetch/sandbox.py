"""The browser's sandbox: Chromium reaches only the origin it was sent to.

A challenge page's script runs in Chromium with the crawl machine's network at
hand (loopback services such as Scrapyd's unauthenticated API, private
addresses). Three layers keep every request of the browser on the origin of the
page it was sent to (the site's, or ``-a base_url=``'s), plus the hosts of
``RFI_BROWSER_ALLOWED_HOSTS``:

1. :class:`PageGuard`, a ``playwright_page_init_callback``: ``page.route`` and
   ``context.route`` abort every other request (navigations of the page and its
   frames, subresources, ``fetch``/XHR, beacons, event streams, popups), and
   ``route_web_socket`` closes every other WebSocket before it connects.
2. A proxy that refuses every connection (:class:`RefusingPort`): everything
   Playwright does not route (redirect hops, preconnects, service workers, worker
   requests) goes to it. Each browser context, made for one origin, has its own
   (:func:`context_proxy`) that only that origin and the allowed hosts bypass,
   loopback included (``<-loopback>``); so a crawl whose pages change origin keeps
   each page on its own. Chromium itself is launched with such a proxy that
   nothing bypasses (``browser.LazyChromiumProvider``), and its flags
   (:func:`sandbox_args`) let WebRTC send no UDP outside the proxy, which means
   not at all.
3. The browser context blocks service workers (``service_workers="block"``).

A page whose main frame tried to leave the origin, or whose final document is of
another origin, is never used (``middlewares.BlockedPagesMiddleware.judge``).
"""

from __future__ import annotations

import logging
import socket
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Route, WebSocketRoute
from playwright.async_api import Request as PlaywrightRequest
from scrapy.http import Request
from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

# URLs that never leave the browser.
LOCAL_SCHEMES = frozenset({"about", "blob", "data"})
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# A WebSocket's scheme is its page's scheme for the origin check.
WEB_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}
# Chromium flags: WebRTC sends no UDP that does not go through the proxy (none can).
WEBRTC_ARGS = (
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--enforce-webrtc-ip-permission-check",
)
# Flags that would replace the sandbox's proxy: dropped from RFI_BROWSER_ARGS.
PROXY_ARGS = ("--proxy-server", "--proxy-bypass-list", "--proxy-pac-url", "--no-proxy-server")
# Browser context options: service workers would run outside the page's routes.
CONTEXT_OPTIONS: dict[str, Any] = {"service_workers": "block"}
# Request meta key: the off-origin URL the page's main frame tried to load.
OFFSITE_META = "rfi_browser_offsite"
# Browser contexts whose routes are set (a context serves many pages).
GUARDED_CONTEXTS: weakref.WeakSet[Any] = weakref.WeakSet()


@dataclass(frozen=True)
class Origin:
    """A web origin: scheme (``http``/``https``), host (lower case) and port."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin | None:
        """The origin of an ``http(s)``/``ws(s)`` URL; None for other or malformed URLs."""
        try:
            parts = urlsplit(url)
            scheme = WEB_SCHEMES.get(parts.scheme.lower())
            port = parts.port
        except ValueError:
            return None
        if scheme is None or not parts.hostname:
            return None
        return cls(scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme])

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class HostRule:
    """An entry of ``RFI_BROWSER_ALLOWED_HOSTS``: a host, and a port or any port."""

    host: str
    port: int | None = None

    @classmethod
    def parse(cls, entry: str) -> HostRule | None:
        """``host`` or ``host:port`` (``[::1]:8080`` for IPv6); None if malformed."""
        text = entry.strip()
        if not text or "/" in text or "@" in text:
            return None
        try:
            parts = urlsplit(f"//{text}")
            port = parts.port
        except ValueError:
            return None
        if not parts.hostname:
            return None
        return cls(parts.hostname.lower(), port)

    def matches(self, origin: Origin) -> bool:
        return origin.host == self.host and self.port in (None, origin.port)

    @property
    def bypass(self) -> str:
        """The rule in Chromium's proxy bypass syntax."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"


def allowed_hosts(entries: Iterable[str]) -> tuple[HostRule, ...]:
    """``RFI_BROWSER_ALLOWED_HOSTS`` parsed; a malformed entry is left out with a warning."""
    rules = []
    for entry in entries:
        rule = HostRule.parse(entry)
        if rule is None:
            logger.warning("RFI_BROWSER_ALLOWED_HOSTS: %r is no host[:port]; ignored", entry)
        else:
            rules.append(rule)
    return tuple(rules)


class RefusingPort:
    """A loopback TCP port bound and never listened on: every connection to it is refused.

    The browser's proxy. Holding the port keeps any other program from taking it
    while the crawl runs.
    """

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]

    @property
    def proxy(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._socket.close()


def sandbox_args(args: Iterable[str]) -> list[str]:
    """Chromium flags ``args`` without proxy flags (the sandbox sets the proxy), plus
    :data:`WEBRTC_ARGS`."""
    kept = []
    for arg in args:
        if arg.split("=", 1)[0] in PROXY_ARGS:
            logger.warning("RFI_BROWSER_ARGS: %s ignored (the sandbox sets the proxy)", arg)
        elif arg not in WEBRTC_ARGS:
            kept.append(arg)
    return [*kept, *WEBRTC_ARGS]


def context_proxy(origin: Origin, extra: Iterable[HostRule], proxy: str) -> dict[str, str]:
    """A browser context's ``proxy`` option: the refusing ``proxy`` for everything but
    ``origin`` and the allowed hosts.

    ``<-loopback>`` comes first: in Chromium's bypass list the last matching rule
    wins, so the allowed hosts (a loopback ``base_url`` too) still bypass the proxy
    while any other loopback or private address goes to it.
    """
    bypass = ["<-loopback>", origin.netloc, *(rule.bypass for rule in extra)]
    return {"server": proxy, "bypass": ",".join(bypass)}


class PageGuard:
    """``playwright_page_init_callback``: the routes that keep one page on its origin.

    Registered after scrapy-playwright's own ``page.route("**")``, this route runs
    first (Playwright runs the last registered match first): a request of the
    origin or of an allowed host falls back to scrapy-playwright's handler, any
    other is aborted before it leaves. The same guard routes the page's context
    (popups, other pages) and WebSockets. If the routes cannot be set, the page is
    closed: it never loads unguarded.
    """

    def __init__(self, origin: Origin, extra: tuple[HostRule, ...], stats: StatsCollector) -> None:
        self.origin = origin
        self.extra = extra
        self.stats = stats
        self.request: Request | None = None

    def allows(self, url: str) -> bool:
        """A request to ``url`` may leave: same origin, an allowed host, or browser-local."""
        scheme = url.split(":", 1)[0].lower()
        if scheme in LOCAL_SCHEMES:
            return True
        origin = Origin.of(url)
        if origin is None:
            return False
        return origin == self.origin or any(rule.matches(origin) for rule in self.extra)

    async def __call__(self, page: Page, request: Request) -> None:
        self.request = request
        try:
            context = page.context
            if context not in GUARDED_CONTEXTS:
                await context.route("**", self.route_context)
                await context.route_web_socket("**", self.websocket)
                GUARDED_CONTEXTS.add(context)
            await page.route("**", self.route)
            await page.route_web_socket("**", self.websocket)
        except Exception:
            logger.error("could not fence the browser page for %s: closing it", request.url)
            await page.close()
            raise

    async def route(self, route: Route, request: PlaywrightRequest) -> None:
        """The page's route: other origins aborted; a main-frame navigation marks the page."""
        if await self.route_context(route, request):
            return
        if request.is_navigation_request() and self._is_main_frame(request):
            self.main_frame_left(request.url)

    async def route_context(self, route: Route, request: PlaywrightRequest) -> bool:
        """The context's route (popups, other pages): True if the request may go."""
        url = request.url
        if self.allows(url):
            await route.fallback()
            return True
        try:
            await route.abort("blockedbyclient")
        except PlaywrightError as error:  # the page closed meanwhile: nothing left
            logger.debug("aborting %s: %s", url, error)
        self.stats.inc_value("rfi/browser/sandbox/aborted")
        self.stats.inc_value(f"rfi/browser/sandbox/aborted/{request.resource_type}")
        logger.debug("browser sandbox: aborted %s %s", request.resource_type, url)
        return False

    async def websocket(self, socket_route: WebSocketRoute) -> None:
        if self.allows(socket_route.url):
            socket_route.connect_to_server()
            return
        self.stats.inc_value("rfi/browser/sandbox/aborted")
        self.stats.inc_value("rfi/browser/sandbox/aborted/websocket")
        logger.debug("browser sandbox: closed WebSocket %s", socket_route.url)
        try:
            await socket_route.close(code=1008, reason="blocked")
        except PlaywrightError as error:
            logger.debug("closing WebSocket %s: %s", socket_route.url, error)

    def _is_main_frame(self, request: PlaywrightRequest) -> bool:
        try:
            return request.frame.parent_frame is None
        except PlaywrightError:  # a service worker's request has no frame
            return False

    def main_frame_left(self, url: str) -> None:
        """The page tried to navigate to ``url``, another origin: the page is not used."""
        if self.request is not None and OFFSITE_META not in self.request.meta:
            self.request.meta[OFFSITE_META] = url
