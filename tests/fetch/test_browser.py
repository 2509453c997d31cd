"""Unit tests of the browser's wiring: settings, the lazy provider, context recycling."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler
from scrapy_playwright.handler import Config
from scrapy_playwright.provider import PlaywrightBrowserProvider

from rfi_spider import settings as project_settings
from rfi_spider.fetch.browser import (
    BrowserSettings,
    BrowserUnavailableError,
    ContextRecycler,
    LazyChromiumProvider,
)
from rfi_spider.fetch.sandbox import WEBRTC_ARGS, HostRule, Origin, context_proxy

SITE = Origin.of("https://www.rfi.fr/cn/")
LOCAL = Origin.of("http://127.0.0.1:8080/cn/")


def get_crawler_settings(**overrides: Any) -> Settings:
    """The project's settings with ``overrides``, add-ons applied."""
    values = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    return get_crawler(settings_dict={**values, **overrides}).settings


# --- settings ------------------------------------------------------------------------
def test_the_launch_options_come_from_the_rfi_settings() -> None:
    settings = get_crawler_settings(
        RFI_BROWSER_PATH="/opt/chromium/chrome",
        RFI_BROWSER_ARGS=["--no-sandbox", "--proxy-server=http://elsewhere:3128"],
        RFI_BROWSER_TIMEOUT=7,
    )
    options = settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS")
    assert options["executable_path"] == "/opt/chromium/chrome"
    assert options["headless"] is True and options["timeout"] == 7000
    # No flag replaces the sandbox's proxy; WebRTC sends nothing outside it.
    assert options["args"] == ["--no-sandbox", *WEBRTC_ARGS]
    assert settings.getfloat("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT") == 7000


def test_a_value_given_with_s_is_followed() -> None:
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    settings.set("RFI_BROWSER_PATH", "/usr/bin/chromium", priority="project")
    settings.set("RFI_BROWSER_TIMEOUT", 30, priority="project")
    settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", {}, priority="project")
    settings.set("RFI_BROWSER_PATH", "/elsewhere/chromium", priority="cmdline")
    settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", {"headless": False}, priority="cmdline")
    settings.set("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT", 5000, priority="cmdline")
    BrowserSettings().update_settings(settings)
    options = settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS")
    assert options["executable_path"] == "/elsewhere/chromium"
    assert options["headless"] is False  # PLAYWRIGHT_LAUNCH_OPTIONS entries win
    assert settings.getfloat("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT") == 5000


def test_a_context_proxy_lets_its_origin_and_the_allowed_hosts_through() -> None:
    proxy = context_proxy(LOCAL, (HostRule("cdn.example", None),), "http://127.0.0.1:9")
    assert proxy == {
        "server": "http://127.0.0.1:9",
        "bypass": "<-loopback>,127.0.0.1:8080,cdn.example",
    }
    assert context_proxy(SITE, (), "http://127.0.0.1:9")["bypass"] == "<-loopback>,www.rfi.fr:443"


# --- the provider: nothing starts before the first page ------------------------------
def provider(**launch: Any) -> LazyChromiumProvider:
    settings = Settings({"PLAYWRIGHT_LAUNCH_OPTIONS": launch})
    return LazyChromiumProvider(Config.from_settings(settings))


def test_the_provider_starts_nothing_with_the_crawl() -> None:
    lazy = provider()
    asyncio.run(lazy.start())
    assert lazy.playwright is None and not lazy.started
    asyncio.run(lazy.close())


def test_a_browser_that_does_not_start_is_unavailable_at_once_afterwards(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    starts = []

    async def broken_start(self: PlaywrightBrowserProvider) -> None:
        starts.append(self)
        raise RuntimeError("no driver here")

    monkeypatch.setattr(PlaywrightBrowserProvider, "start", broken_start)
    lazy = provider(executable_path="/nowhere/chromium")
    with pytest.raises(BrowserUnavailableError, match="no driver here"):
        asyncio.run(lazy.launch_browser())
    with pytest.raises(BrowserUnavailableError, match="no driver here"):
        asyncio.run(lazy.launch_browser())
    assert len(starts) == 1


# --- browser contexts -----------------------------------------------------------------
class FakeContext:
    def __init__(self) -> None:
        self.closed = False

    async def close(self) -> None:
        self.closed = True


class Stats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str) -> None:
        self.values[key] = self.values.get(key, 0) + 1


def open_page(recycler: ContextRecycler, origin: Origin, context: FakeContext) -> str:
    """One page through the recycler: its context name, and the init callback seeing it."""

    async def run() -> str:
        name = await recycler.context_for(origin)
        guarded = []

        async def guard(page: Any, request: Any) -> None:
            guarded.append(page)

        await recycler.watching(guard)(SimpleNamespace(context=context), None)  # type: ignore[arg-type]
        assert guarded
        return name

    return asyncio.run(run())


def test_a_context_is_closed_and_replaced_after_its_pages() -> None:
    stats = Stats()
    recycler = ContextRecycler(2, stats)
    first, second = FakeContext(), FakeContext()
    assert open_page(recycler, SITE, first) == "rfi-1"
    assert open_page(recycler, SITE, first) == "rfi-1"
    assert not first.closed
    assert open_page(recycler, SITE, second) == "rfi-2"
    assert first.closed and not second.closed
    assert stats.values == {"rfi/browser/contexts_recycled": 1}


def test_a_page_of_another_origin_gets_a_context_of_its_own() -> None:
    stats = Stats()
    recycler = ContextRecycler(0, stats)  # 0: no limit of pages
    first, second = FakeContext(), FakeContext()
    for _ in range(3):
        assert open_page(recycler, SITE, first) == "rfi-1"
    assert open_page(recycler, LOCAL, second) == "rfi-2"
    assert first.closed and not second.closed
    assert stats.values == {}  # a change of origin is no recycling


def test_a_context_never_seen_is_kept() -> None:
    recycler = ContextRecycler(1, Stats())
    # The first page failed before it existed: no context to close, none replaced
    # (a second one would wait for the first's place forever).
    assert asyncio.run(recycler.context_for(SITE)) == "rfi-1"
    assert asyncio.run(recycler.context_for(SITE)) == "rfi-1"
