"""What the reactor's thread does for the WARC capture of a response: take plain data of it
(``Exchange.of``) and hand it to the writer thread, as little as it can (issue 26)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import scrapy
from conftest import BARE
from scrapy.http import Headers, HtmlResponse, Request
from scrapy.utils.test import get_crawler

from rfi_spider.fetch import warc_capture
from rfi_spider.fetch.warc_capture import WarcCapture
from rfi_spider.fetch.warc_exchange import Exchange, header_pairs


def capture_of(tmp_path: Path) -> tuple[WarcCapture, scrapy.Spider]:
    crawler = get_crawler(
        scrapy.Spider, {**BARE, "RFI_WARC": True, "RFI_OUTPUT_DIR": str(tmp_path)}
    )
    capture = WarcCapture(crawler)
    spider = scrapy.Spider(name="handoff")
    capture.spider_opened(spider)
    return capture, spider


def download(capture: WarcCapture, spider: scrapy.Spider, n: int) -> None:
    url = f"http://127.0.0.1:9/cn/page-{n}"
    response = HtmlResponse(url=url, body=b"<html><body>x</body></html>")
    capture.response_downloaded(response, Request(url), spider)


def test_header_pairs_are_those_of_scrapys_items_however_the_headers_were_set() -> None:
    headers = Headers({"content-type": "text/html", "SET-COOKIE": ["a=1", "b=2"]})
    headers["x-count"] = 3
    headers.appendlist("set-cookie", "c=3")  # a list grown in place
    headers.setdefault("Vary", "Accept-Encoding")
    headers.setlist("x-empty", [])
    expected = [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    ]
    assert header_pairs(headers) == expected
    assert ("Set-Cookie", "c=3") in expected and ("X-Count", "3") in expected
    assert header_pairs(Headers({"X-Bytes": b"caf\xe9"})) == [("X-Bytes", "café")]


def test_the_writer_writes_in_order_and_drains_at_close(tmp_path: Path) -> None:
    capture, spider = capture_of(tmp_path)
    release = threading.Event()
    written: list[str] = []
    capture.write = lambda exchange: (release.wait(30), written.append(exchange.url))  # type: ignore[method-assign]
    for n in range(5):
        download(capture, spider, n)
    assert capture.backlog == 5
    release.set()
    capture.spider_closed(spider)  # returns once every exchange handed over is written
    assert written == [f"http://127.0.0.1:9/cn/page-{n}" for n in range(5)]
    assert capture.backlog == 0
    assert capture.thread is not None and not capture.thread.is_alive()


def test_a_writer_error_costs_one_exchange_not_the_thread(tmp_path: Path) -> None:
    capture, spider = capture_of(tmp_path)
    written: list[str] = []

    def write(exchange: Exchange) -> None:
        if exchange.url.endswith("page-0"):
            raise RuntimeError("boom")
        written.append(exchange.url)

    capture.write = write  # type: ignore[method-assign]
    for n in range(3):
        download(capture, spider, n)
    capture.spider_closed(spider)
    assert written == ["http://127.0.0.1:9/cn/page-1", "http://127.0.0.1:9/cn/page-2"]
    assert capture.backlog == 0  # else the article callbacks would wait for room for ever
    assert capture.stats.get_value("rfi/warc/record_error") == 1


def test_a_response_that_cannot_be_taken_leaves_no_backlog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    capture, spider = capture_of(tmp_path)

    def broken(request: Request, response: HtmlResponse) -> Exchange:
        raise ValueError("a response that cannot be read")

    monkeypatch.setattr(warc_capture.Exchange, "of", broken)
    with pytest.raises(ValueError):  # Scrapy's signal logs it
        download(capture, spider, 0)
    assert capture.backlog == 0  # counted only once handed over: room() does not wait on it
    capture.spider_closed(spider)


def test_a_record_that_cannot_be_built_costs_itself_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    capture, spider = capture_of(tmp_path)
    pair = capture.pair

    def broken_first(exchange: Exchange) -> object:
        if exchange.url.endswith("page-0"):
            raise ValueError("a record that cannot be built")
        return pair(exchange)

    monkeypatch.setattr(capture, "pair", broken_first)
    for n in range(3):
        download(capture, spider, n)
    capture.spider_closed(spider)
    assert capture.backlog == 0
    assert capture.stats.get_value("rfi/warc/record_error") == 1
    assert capture.stats.get_value("rfi/warc/records") == 4  # two pages, two records each
