"""Extraction in worker processes (``extract/workers.py``): the same item as in-process, a
worker's exception and a worker's death recorded as the article's failure, and the pool
working again for the next article."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from rfi_spider import settings as project_settings
from rfi_spider.archive.failures import FailedArticles
from rfi_spider.crawl.failure_book import FailureBook
from rfi_spider.extract.worker_ipc import open_pipe, receive_job, send_job
from rfi_spider.extract.workers import (
    PageExtractor,
    PageFacts,
    PageJob,
    default_workers,
    extract_page,
    serve,
    worker_count,
)
from rfi_spider.spiders.rfi_cn import RfiCnSpider

BASE = "http://127.0.0.1:9"
SAMPLE = resources.files("rfi_spider.demo.sample_site")
ROUTES = json.loads(SAMPLE.joinpath("routes.json").read_text())
ARTICLES = sorted((p, n) for p, n in ROUTES.items() if n.startswith("article_"))
CRASH = b"<!-- crash the worker -->"
RAISE = b"<!-- raise in the worker -->"
PROJECT = {n: getattr(project_settings, n) for n in dir(project_settings) if n.isupper()}


def failures_of(spider: RfiCnSpider) -> FailedArticles:
    """The run's failures table, as the failure book (an extension) holds it."""
    failures = FailureBook.of(spider.crawler).failures
    assert failures is not None
    return failures


def job(index: int = 0, marker: bytes = b"") -> PageJob:
    path, name = ARTICLES[index]
    body = SAMPLE.joinpath(name).read_bytes() + marker
    return PageJob(body, "utf-8", "https://www.rfi.fr" + path, "2026-12-02T00:00:00+00:00")


def poisoned_extract(page: PageJob) -> PageFacts:
    """:func:`extract_page`, except that a page with a marker kills or fails its worker."""
    if CRASH in page.body:
        os._exit(3)  # as a segfault in a C extension would: no exception, no cleanup
    if RAISE in page.body:
        raise RecursionError("maximum recursion depth exceeded")
    return extract_page(page)


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


@pytest.fixture
def pool() -> Iterator[PageExtractor]:
    restarts: list[str] = []
    extractor = PageExtractor(1, function=poisoned_extract, on_restart=restarts.append)
    yield extractor
    extractor.close()


def test_a_worker_extracts_what_the_crawl_process_extracts(pool: PageExtractor) -> None:
    async def both() -> list[tuple[PageFacts, PageFacts]]:
        pairs = []
        for index in range(len(ARTICLES)):
            pairs.append((extract_page(job(index)), await pool.extract(job(index))))
        return pairs

    for here, there in run(both()):
        assert there == here
        assert there.fields and there.fields["title"] and there.fields["paragraphs"]
    assert pool.restarts == 0
    assert pool.running


def test_no_markup_is_no_page() -> None:
    facts = extract_page(PageJob(b"   ", "utf-8", "https://www.rfi.fr/cn/x/20240101-a", None))
    assert facts == PageFacts(fields=None, not_article="empty_body")


def test_a_workers_exception_is_raised_in_the_crawl_process(pool: PageExtractor) -> None:
    with pytest.raises(RecursionError, match="maximum recursion depth"):
        run(pool.extract(job(marker=RAISE)))
    assert pool.restarts == 0  # an exception does not break the pool
    assert run(pool.extract(job(1))).fields is not None


def test_in_process_mode_raises_the_same() -> None:
    extractor = PageExtractor(0, function=poisoned_extract)
    with pytest.raises(RecursionError, match="maximum recursion depth"):
        run(extractor.extract(job(marker=RAISE)))
    assert run(extractor.extract(job(1))) == extract_page(job(1))


def test_a_dead_worker_fails_its_page_only_and_is_replaced(pool: PageExtractor) -> None:
    async def crash_then_pages() -> tuple[BaseException | None, list[PageFacts]]:
        error = None
        try:
            await pool.extract(job(marker=CRASH))
        except Exception as caught:
            error = caught
        return error, [await pool.extract(job(index)) for index in (2, 3)]

    error, facts = run(crash_then_pages())
    assert type(error).__name__ == "BrokenProcessPool"
    assert "exit code 3" in str(error)
    assert pool.restarts == 1
    assert facts == [extract_page(job(2)), extract_page(job(3))]


def test_pages_wait_for_a_free_worker_and_each_gets_its_own_result() -> None:
    extractor = PageExtractor(2, function=poisoned_extract)

    async def many() -> list[Any]:
        jobs = [job(i % len(ARTICLES), RAISE if i == 4 else b"") for i in range(12)]
        return await asyncio.gather(*(extractor.extract(j) for j in jobs), return_exceptions=True)

    try:
        results = run(many())
    finally:
        extractor.close()
    assert isinstance(results[4], RecursionError)
    for i, result in enumerate(results):
        if i != 4:
            assert result == extract_page(job(i % len(ARTICLES)))
    assert not extractor.running


def test_a_worker_whose_crawl_died_exits_quietly() -> None:
    """The crawl's process killed while a worker extracts: the worker's answer has nowhere
    to go; it exits without a traceback (which would land in the crawl's log)."""
    jobs_read, jobs_write = os.pipe()
    results_read, results_write = os.pipe()
    send_job(jobs_write, job())
    os.close(jobs_write)
    os.close(results_read)  # the crawl is gone
    handler = signal.getsignal(signal.SIGINT)
    try:
        serve(jobs_read, results_write, "rfi_spider.extract.workers:extract_page")
    finally:
        signal.signal(signal.SIGINT, handler)
        os.close(jobs_read)
        os.close(results_write)


def sent_and_received(item: Any, monkeypatch: pytest.MonkeyPatch, step: int) -> tuple[Any, bytes]:
    """``item`` through a pipe by :func:`send_job` (each ``writev`` writing at most
    ``step`` bytes, as a signal or a full pipe may cut one short) and :func:`receive_job`;
    also the bytes that went down the pipe."""
    real_writev = os.writev
    wire = bytearray()

    def short_writev(fd: int, buffers: list[memoryview]) -> int:
        data = b"".join(bytes(b) for b in buffers)[:step]
        wire.extend(data)
        return real_writev(fd, [data])

    monkeypatch.setattr(os, "writev", short_writev)
    read_end, write_end = open_pipe()  # 1 MB: the whole job fits, the writer never waits
    try:
        send_job(write_end, item)
        os.close(write_end)  # a job cut short: the reader sees the end of the pipe
        return receive_job(read_end), bytes(wire)
    finally:
        os.close(read_end)
        with contextlib.suppress(OSError):
            os.close(write_end)


@pytest.mark.parametrize("step", [7, 4096, 1 << 30])
def test_a_page_crosses_the_pipe_whole_and_its_body_is_not_pickled(
    monkeypatch: pytest.MonkeyPatch, step: int
) -> None:
    """The body goes down the pipe as it is, beside the pickle of the rest of the job (a
    pickled body was two copies of 200 KB a page in the crawl's process); short writes
    resume where they stopped."""
    page = PageJob(bytes(range(256)) * 800, "gb18030", "https://www.rfi.fr/cn/x", None)
    received, wire = sent_and_received(page, monkeypatch, step)
    assert received == page
    assert wire.endswith(page.body) and len(wire) < len(page.body) + 1024


def test_other_jobs_and_an_empty_body_cross_the_pipe_pickled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    empty = PageJob(b"", "utf-8", "https://www.rfi.fr/cn/x", "2026-12-02T00:00:00+00:00")
    assert sent_and_received(empty, monkeypatch, 5)[0] == empty
    assert sent_and_received({"any": ["job"]}, monkeypatch, 5)[0] == {"any": ["job"]}


def test_worker_count_setting() -> None:
    assert worker_count(None) == worker_count("") == 0  # a crawl: in its process
    assert worker_count(None, re_extracting=True) == default_workers()  # -a from_warc=
    assert 1 <= default_workers() <= 4
    assert worker_count("0") == 0
    assert worker_count(3) == 3
    with pytest.raises(ValueError):
        worker_count("-1")


# --- through the spider --------------------------------------------------------------


def make_spider(tmp_path: Path, workers: int) -> RfiCnSpider:
    settings = {**PROJECT, "RFI_OUTPUT_DIR": str(tmp_path), "RFI_EXTRACT_WORKERS": workers}
    crawler = get_crawler(RfiCnSpider, settings)
    spider = RfiCnSpider.from_crawler(crawler, base_url=BASE, mirrors="")
    extractor = spider.articles.extractor
    extractor.close()  # its workers (started with the spider) for ones that can crash
    spider.articles.extractor = PageExtractor(
        extractor.workers, function=poisoned_extract, on_restart=extractor.on_restart
    )
    return spider


def test_the_workers_start_with_the_spider_before_it_opens(tmp_path: Path) -> None:
    """Their start-up runs beside the crawl's set-up (the WARC index, the engine), so that
    they are up when the first article comes; stopped when the spider closes."""
    settings = {**PROJECT, "RFI_OUTPUT_DIR": str(tmp_path), "RFI_EXTRACT_WORKERS": 1}
    spider = RfiCnSpider.from_crawler(get_crawler(RfiCnSpider, settings), base_url=BASE)
    try:
        assert spider.articles.extractor.running
    finally:
        spider.on_closed()
    assert not spider.articles.extractor.running


def response(index: int, marker: bytes = b"") -> tuple[HtmlResponse, str]:
    path, name = ARTICLES[index]
    body = SAMPLE.joinpath(name).read_bytes() + marker
    return HtmlResponse(url=BASE + path, body=body), "https://www.rfi.fr" + path


async def outputs(spider: RfiCnSpider, index: int, marker: bytes = b"") -> list[Any]:
    page, site_url = response(index, marker)
    return [output async for output in spider.on_article(page, site_url)]


@pytest.mark.parametrize("workers", [1, 0])
def test_the_spider_records_a_failed_extraction_and_goes_on(tmp_path: Path, workers: int) -> None:
    spider = make_spider(tmp_path, workers)
    try:
        _, raised = response(0)
        _, crashed = response(1)
        markers = [(0, RAISE), *([(1, CRASH)] if workers else []), (2, b"")]
        results = [run(outputs(spider, index, marker)) for index, marker in markers]
    finally:
        spider.on_closed()
    stats = spider.crawler.stats
    assert results[:-1] == [[]] * (len(markers) - 1)
    failures = 2 if workers else 1
    assert stats.get_value("rfi/failed/article/extraction_error") == failures
    assert failures_of(spider).failed_now[raised].cause == (
        "extraction error: RecursionError: maximum recursion depth exceeded"
    )
    if workers:
        assert (
            FailureBook.of(spider.crawler)
            .failures.failed_now[crashed]
            .cause.startswith(
                "extraction error: BrokenProcessPool: an extraction worker died (exit code 3)"
            )
        )
        assert stats.get_value("rfi/extract/worker_restarts") == 1
    (item,) = results[-1]
    assert item["url"] == response(2)[1] and item["paragraphs"]
    assert not spider.articles.extractor.running  # shut down on close
