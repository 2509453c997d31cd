"""The WARC writer's queue is bounded: past MAX_BACKLOG responses waiting, article
callbacks wait for room (``WarcCapture.room``) instead of the queue holding every page."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import scrapy
from conftest import BARE
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from rfi_spider.fetch.warc_capture import MAX_BACKLOG, WarcCapture


def test_callbacks_wait_while_the_writer_is_behind_and_go_on_when_it_catches_up(
    tmp_path: Path,
) -> None:
    crawler = get_crawler(
        scrapy.Spider, {**BARE, "RFI_WARC": True, "RFI_OUTPUT_DIR": str(tmp_path)}
    )
    capture = WarcCapture(crawler)
    assert WarcCapture.of(crawler) is capture
    spider = scrapy.Spider(name="backlog")
    capture.spider_opened(spider)
    release = threading.Event()
    written: list[str] = []
    capture.write = lambda exchange: (release.wait(30), written.append(exchange.url))  # type: ignore[method-assign]

    def download(n: int) -> None:
        url = f"http://127.0.0.1:9/cn/page-{n}"
        response = HtmlResponse(url=url, body=b"<html><body>x</body></html>")
        capture.response_downloaded(response, Request(url), spider)

    async def scenario() -> tuple[bool, bool]:
        for n in range(MAX_BACKLOG):
            download(n)
        await asyncio.wait_for(capture.room(), timeout=10)  # at the limit: room enough
        download(MAX_BACKLOG)
        waiting = asyncio.ensure_future(capture.room())
        done, _ = await asyncio.wait([waiting], timeout=0.3)
        blocked = not done
        release.set()
        await asyncio.wait_for(waiting, timeout=30)
        return blocked, capture.backlog <= MAX_BACKLOG // 2

    try:
        blocked, drained = asyncio.run(scenario())
    finally:
        release.set()
        capture.spider_closed(spider)
    assert blocked  # one response over the limit: the callback waited
    assert crawler.stats.get_value("rfi/warc/waits_for_writer") == 1  # and it is counted
    assert drained  # and went on once the writer had written half of the backlog
    assert len(written) == MAX_BACKLOG + 1
    assert capture.backlog == 0


class CountingLoop:
    """An event loop stand-in that counts the wake-ups the writer thread asks of it."""

    def __init__(self) -> None:
        self.wakes = 0

    def is_closed(self) -> bool:
        return False

    def call_soon_threadsafe(self, callback: object) -> None:
        self.wakes += 1


def test_the_writer_wakes_the_event_loop_only_when_a_callback_waits(tmp_path: Path) -> None:
    # A wake-up a record cost the reactor a turn of its loop a page (issue 26).
    crawler = get_crawler(
        scrapy.Spider, {**BARE, "RFI_WARC": True, "RFI_OUTPUT_DIR": str(tmp_path)}
    )
    capture = WarcCapture(crawler)
    capture.write = lambda exchange: None  # type: ignore[method-assign]
    loop = CountingLoop()
    capture.loop, capture.drained = loop, asyncio.Event()  # type: ignore[assignment]
    for _ in range(5):  # nobody waits: no wake-up
        capture.backlog += 1
        capture.write_one(None)  # type: ignore[arg-type]
    assert loop.wakes == 0
    capture.backlog, capture.waiting = MAX_BACKLOG + 1, True  # a callback waits for room
    capture.write_one(None)  # type: ignore[arg-type]
    assert loop.wakes == 0  # not yet half of the backlog free
    capture.backlog = MAX_BACKLOG // 2 + 1
    capture.write_one(None)  # type: ignore[arg-type]
    capture.write_one(None)  # type: ignore[arg-type]
    assert loop.wakes == 1 and not capture.waiting  # woken once
