"""Unit tests of the blocked-page middlewares: challenge detection, Retry-After, back-off."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import format_datetime
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy import Request
from scrapy.core.downloader import Slot
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.utils.test import get_crawler

from rfi_spider import settings as project_settings
from rfi_spider.config import RfiSettings
from rfi_spider.demo.localsite import LocalSite
from rfi_spider.fetch import middlewares
from rfi_spider.fetch.blocking import ChallengePage, has_site_markup, is_challenge
from rfi_spider.fetch.browser import (
    MainDocument,
    browser_path,
    launch_options,
    skip_heavy_resources,
    wait_for_markup,
)
from rfi_spider.fetch.middlewares import (
    BlockedPagesMiddleware,
    RetryAfterMiddleware,
    retry_after_seconds,
)

SAMPLE = LocalSite.sample().pages
ARTICLE = SAMPLE[
    "/cn/%E5%9B%BD%E9%99%85/20240307-%E7%91%9E%E5%85%B8%E6%AD%A3%E5%BC%8F%E5%8A%A0%E5%85%A5"
    "%E5%8C%97%E7%BA%A6-%E6%88%90%E4%B8%BA%E7%AC%AC32%E4%B8%AA%E6%88%90%E5%91%98%E5%9B%BD"
].body
LISTING = SAMPLE["/cn/%E6%B3%95%E5%9B%BD/"].body
URL = "http://127.0.0.1:8000/cn/%E5%9B%BD%E9%99%85/20240307-x"


def html(body: bytes | str, status: int = 200, url: str = URL, **kwargs: Any) -> HtmlResponse:
    data = body.encode() if isinstance(body, str) else body
    return HtmlResponse(url=url, status=status, body=data, encoding="utf-8", **kwargs)


def crawler(**overrides: Any) -> Any:
    project = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    return get_crawler(settings_dict={**project, **overrides})


# --- challenge pages ------------------------------------------------------------
CLOUDFLARE = "<html><head><title>Just a moment...</title></head><body></body></html>"
DATADOME = (
    "<html><head><title>rfi.fr</title></head><body>"
    "<script src='https://ct.captcha-delivery.com/c.js'></script></body></html>"
)


@pytest.mark.parametrize("body", [CLOUDFLARE, DATADOME])
def test_challenge_pages_are_recognised(body: str) -> None:
    assert is_challenge(html(body, status=403))
    assert not has_site_markup(html(body))


@pytest.mark.parametrize("body", [ARTICLE, LISTING])
def test_pages_of_the_site_are_no_challenge(body: bytes) -> None:
    assert has_site_markup(html(body))
    assert not is_challenge(html(body))


def test_site_markup_wins_over_a_challenge_like_title() -> None:
    page = ARTICLE.replace(b"<title>", b"<title>Please wait: ", 1)
    assert b"Please wait" in page
    assert not is_challenge(html(page))


def test_a_page_without_markers_is_no_challenge() -> None:
    assert not is_challenge(html("<html><head><title>Oops</title></head><body>x</body></html>"))
    assert not is_challenge(Response(URL, body=b"\x89PNG"))


# --- Retry-After -------------------------------------------------------------------
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (b" 7 ", 7.0),
        (format_datetime(NOW.replace(second=30), usegmt=True), 30.0),
        ("Sun, 01 Mar 2026 11:59:00 GMT", 0.0),  # in the past: no wait
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_values(value: Any, seconds: float | None) -> None:
    assert retry_after_seconds(value, now=NOW) == seconds


def retry_middleware(**overrides: Any) -> tuple[RetryAfterMiddleware, Any]:
    c = crawler(**overrides)
    c.spider = SimpleNamespace(crawler=c)
    return RetryAfterMiddleware.from_crawler(c), c


def test_a_429_waits_retry_after_then_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    waited: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(middlewares.asyncio, "sleep", fake_sleep)
    middleware, c = retry_middleware(RFI_RETRY_AFTER_MAX=60)
    request = Request(URL)
    for retry_after, expected in (("12", 12.0), ("3600", 60.0)):
        response = Response(URL, status=429, headers={"Retry-After": retry_after})
        retry = asyncio.run(middleware.process_response(request, response))
        assert isinstance(retry, Request) and retry.meta["retry_times"] == 1
        assert waited[-1] == expected  # capped by RFI_RETRY_AFTER_MAX
    assert c.stats.get_value("rfi/backoff/retry_after") == 2


def test_no_wait_when_no_retry_is_left(monkeypatch: pytest.MonkeyPatch) -> None:
    waited: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(middlewares.asyncio, "sleep", fake_sleep)
    middleware, _ = retry_middleware()
    request = Request(URL, meta={"retry_times": project_settings.RETRY_TIMES})
    response = Response(URL, status=429, headers={"Retry-After": "30"})
    assert asyncio.run(middleware.process_response(request, response)) is response
    assert waited == []


# --- back-off on the download slot --------------------------------------------------
def backoff(**overrides: Any) -> tuple[BlockedPagesMiddleware, Slot, Any]:
    """The middleware with one download slot (delay 1 s); no browser unless given one."""
    c = crawler(
        **{
            "RFI_BACKOFF_START": 5,
            "RFI_BACKOFF_FACTOR": 2,
            "RFI_BACKOFF_MAX_DELAY": 60,
            "RFI_BROWSER_PATH": "",
            **overrides,
        }
    )
    slot = Slot(concurrency=2, delay=1.0, jitter=0)
    c.engine = SimpleNamespace(downloader=SimpleNamespace(slots={"site": slot}))
    return BlockedPagesMiddleware.from_crawler(c), slot, c


def answer(
    middleware: BlockedPagesMiddleware,
    status: int,
    kind: str = "article",
    latency: float = 0.0,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    **meta: Any,
) -> Response | Request:
    """What the downloader does with an answer: the signal, then process_response."""
    request = Request(
        URL,
        meta={"download_slot": "site", "download_latency": latency, "rfi_kind": kind, **meta},
    )
    if body is None:
        body = ARTICLE if status == 200 else b"<html><title>Forbidden</title></html>"
    response = html(body, status=status, headers=headers, request=request)
    middleware.response_downloaded(response, request)
    return middleware.process_response(request, response)


def test_a_run_of_blocks_doubles_the_delay_up_to_the_cap() -> None:
    middleware, slot, c = backoff()
    delays = []
    for _ in range(6):
        answer(middleware, 403)
        delays.append(slot.delay)
    assert delays == [5, 10, 20, 40, 60, 60]
    assert c.stats.get_value("rfi/blocked/403") == 6
    assert c.stats.get_value("rfi/backoff/max_delay") == 60


def test_a_burst_of_answers_in_flight_counts_once() -> None:
    middleware, slot, _ = backoff()
    answer(middleware, 403)
    answer(middleware, 403, latency=30)  # sent before the delay was raised
    assert slot.delay == 5


def test_successes_let_the_delay_recover() -> None:
    middleware, slot, c = backoff()
    for _ in range(3):
        answer(middleware, 403)
    assert slot.delay == 20
    answer(middleware, 200)
    assert slot.delay == 10
    answer(middleware, 403)  # a block after a success: no doubling
    assert slot.delay == 10
    answer(middleware, 200)
    answer(middleware, 200)
    assert slot.delay == 1.0  # DOWNLOAD_DELAY again
    assert c.stats.get_value("rfi/backoff/recovered") == 1
    assert middleware.backoff.hosts == {}


def test_a_delay_held_by_autothrottle_is_not_lowered() -> None:
    middleware, slot, _ = backoff()
    answer(middleware, 403)
    slot.delay = 45.0  # AutoThrottle's doing
    answer(middleware, 200)
    assert slot.delay == 45.0


def test_retry_after_raises_the_slot_delay() -> None:
    middleware, slot, c = backoff()
    answer(middleware, 429, headers={"Retry-After": "30"})
    assert slot.delay == 30
    assert c.stats.get_value("rfi/blocked/429") == 1


def test_a_challenge_served_with_200_is_a_block() -> None:
    middleware, slot, c = backoff()
    with pytest.raises(ChallengePage):  # no browser: not an article either
        answer(middleware, 200, kind="listing", body=CLOUDFLARE.encode())
    assert slot.delay == 5
    assert c.stats.get_value("rfi/blocked/challenge") == 1


def test_403s_the_browser_gets_past_hold_the_delay_without_escalating() -> None:
    middleware, slot, _ = backoff(RFI_BROWSER_PATH="/bin/sh")
    for _ in range(4):
        browser_request = answer(middleware, 403, body=CLOUDFLARE.encode())
        assert isinstance(browser_request, Request)
        assert slot.delay == 5  # held, not doubled: the browser's outcome decides
    # The browser fails: now it is a run of blocks.
    answer(middleware, 403, body=CLOUDFLARE.encode(), **browser_request.meta)
    assert slot.delay == 10
    # The browser gets a page (with the challenge's status): the delay recovers.
    page = answer(middleware, 403, body=ARTICLE, **browser_request.meta)
    assert page.status == 200
    assert slot.delay == 5


# --- the browser fallback -----------------------------------------------------------
def fallback(**overrides: Any) -> tuple[BlockedPagesMiddleware, Any]:
    # Any executable will do as the browser here: nothing is launched.
    c = crawler(**{"RFI_BROWSER_PATH": "/bin/sh", **overrides})
    return BlockedPagesMiddleware.from_crawler(c), c


def article_request(**meta: Any) -> Request:
    return Request(
        URL,
        callback=lambda response: None,
        errback=lambda failure: None,
        cb_kwargs={"site_url": "https://www.rfi.fr/cn/x"},
        meta={"rfi_kind": "article", "is_start_request": True, **meta},
    )


def test_a_403_article_is_retried_once_in_the_browser() -> None:
    middleware, c = fallback()
    request = article_request()
    retry = middleware.process_response(request, html(CLOUDFLARE, status=403))
    assert isinstance(retry, Request)
    assert retry.url == request.url and retry.dont_filter
    assert retry.callback is request.callback and retry.errback is request.errback
    assert retry.cb_kwargs == request.cb_kwargs
    assert retry.meta["playwright"] is True and retry.meta["dont_retry"] is True
    assert "playwright_include_page" not in retry.meta  # scrapy-playwright closes the page
    assert "is_start_request" not in retry.meta
    assert retry.meta["playwright_page_methods"][0].method is wait_for_markup
    assert c.stats.get_value("rfi/browser/requests") == 1


@pytest.mark.parametrize(
    ("kind", "status", "body"),
    [("feed", 403, CLOUDFLARE), ("article", 200, ARTICLE), ("article", 404, b"<h1>404</h1>")],
)
def test_other_answers_go_on_untouched(kind: str, status: int, body: Any) -> None:
    middleware, _ = fallback()
    response = html(body, status=status)
    assert middleware.process_response(article_request(rfi_kind=kind), response) is response


def test_the_browser_page_is_judged_by_its_content() -> None:
    middleware, c = fallback()
    browser_request = middleware.process_response(article_request(), html(CLOUDFLARE, 403))
    # scrapy-playwright reports the first navigation's 403 with the real page.
    page = middleware.process_response(browser_request, html(ARTICLE, status=403))
    assert page.status == 200 and has_site_markup(page)
    assert c.stats.get_value("rfi/browser/succeeded") == 1
    assert c.stats.get_value("rfi/browser/succeeded/article") == 1


def test_the_served_html_is_preferred_to_the_rendered_dom() -> None:
    middleware, _ = fallback()
    browser_request = middleware.process_response(article_request(), html(CLOUDFLARE, 403))
    document: MainDocument = browser_request.meta["rfi_document"]
    document.url, document.body = URL, ARTICLE
    document.headers = {"content-type": "text/html; charset=utf-8", "content-encoding": "br"}
    rendered = ARTICLE.replace(b"</article>", b"<p>written by a script</p></article>")
    page = middleware.process_response(browser_request, html(rendered, status=403))
    assert page.body == ARTICLE and "Content-Encoding" not in page.headers


def test_a_page_the_browser_cannot_pass_goes_on_as_the_original_failure() -> None:
    middleware, c = fallback()
    browser_request = middleware.process_response(article_request(), html(CLOUDFLARE, 403))
    failed = middleware.process_response(browser_request, html(CLOUDFLARE, status=200))
    assert failed.status == 403 and not isinstance(failed, Request)
    assert c.stats.get_value("rfi/browser/failed") == 1
    # A challenge first served with 200 is not passed on as an article either.
    browser_request = middleware.process_response(article_request(), html(CLOUDFLARE, 200))
    with pytest.raises(ChallengePage):
        middleware.process_response(browser_request, html(CLOUDFLARE, status=200))


def test_a_browser_that_fails_to_start_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    middleware, c = fallback()
    browser_request = middleware.process_response(article_request(), html(CLOUDFLARE, 403))
    error = middlewares.BrowserUnavailableError("chromium crashed")
    failed = middleware.process_exception(browser_request, error)
    assert failed.status == 403
    # Made up after the failure: passed on untouched on its way out.
    assert middleware.process_response(browser_request, failed) is failed
    # No browser any more: the next 403 goes on as it is.
    response = html(CLOUDFLARE, status=403)
    assert middleware.process_response(article_request(), response) is response
    assert caplog.text.count("browser fallback unavailable") == 1
    assert "chromium crashed" in caplog.text
    assert c.stats.get_value("rfi/browser/unavailable") == 2
    assert c.stats.get_value("rfi/browser/failed") is None


def test_a_missing_browser_leaves_the_403_as_it_was(caplog: pytest.LogCaptureFixture) -> None:
    middleware, c = fallback(RFI_BROWSER_PATH="/nowhere/chromium")
    response = html(CLOUDFLARE, status=403)
    assert middleware.process_response(article_request(), response) is response
    assert middleware.process_response(article_request(), response) is response
    assert caplog.text.count("RFI_BROWSER_PATH=/nowhere/chromium is not an executable") == 1
    assert c.stats.get_value("rfi/browser/unavailable") == 2


# --- browser settings ---------------------------------------------------------------
def test_launch_options_follow_the_settings() -> None:
    c = crawler(RFI_BROWSER_PATH="/opt/chromium/chrome")
    options = launch_options(c.settings, RfiSettings.of(c))
    assert options["executable_path"] == "/opt/chromium/chrome"
    assert options["headless"] is True
    assert "--no-sandbox" in options["args"] and "--disable-component-update" in options["args"]
    explicit = crawler(PLAYWRIGHT_LAUNCH_OPTIONS={"headless": False})
    assert launch_options(explicit.settings, RfiSettings.of(explicit))["headless"] is False


def test_browser_path_must_be_an_executable(tmp_path: Any) -> None:
    assert browser_path(RfiSettings.of(crawler(RFI_BROWSER_PATH="/bin/sh"))) is not None
    assert browser_path(RfiSettings.of(crawler(RFI_BROWSER_PATH=str(tmp_path)))) is None
    assert browser_path(RfiSettings.of(crawler(RFI_BROWSER_PATH=""))) is None


@pytest.mark.parametrize(
    ("resource_type", "skipped"),
    [("image", True), ("font", True), ("media", True), ("document", False), ("script", False)],
)
def test_the_browser_skips_images_fonts_and_media(resource_type: str, skipped: bool) -> None:
    assert skip_heavy_resources(SimpleNamespace(resource_type=resource_type)) is skipped


def test_text_response_helpers_ignore_binary() -> None:
    assert not has_site_markup(Response(URL, body=ARTICLE))
    assert has_site_markup(TextResponse(URL, body=ARTICLE, encoding="utf-8"))
