"""The failure book: an extension that records failed attempts and handles the item signals,
reached through the crawler (no spider attribute)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from rfi_spider.archive.failures import FailedArticles
from rfi_spider.archive.pipelines import ExportStopped, InvalidItem
from rfi_spider.archive.state import PendingArticles, SeenStore
from rfi_spider.crawl.failure_book import FailureBook
from rfi_spider.crawl.frontier import Frontier
from rfi_spider.crawl.scope import Scope
from rfi_spider.editions import CN
from rfi_spider.items import ArticleItem

URL = "https://www.rfi.fr/cn/%E5%9B%BD%E9%99%85/20240307-a"
MOVED = "https://www.rfi.fr/cn/%E5%9B%BD%E9%99%85/20240307-b"


@pytest.fixture
def crawler(tmp_path: Path) -> Iterator[Crawler]:
    made = get_crawler(settings_dict={"EXTENSIONS": {FailureBook: 0}})
    seen = SeenStore(tmp_path / "seen.sqlite3")
    pending = PendingArticles(seen, tmp_path)
    failures = FailedArticles(seen, max_attempts=2)
    frontier = Frontier(pending, seen, failures, Scope(CN), 10, made)
    FailureBook.of(made).open(failures, frontier)
    frontier.add([URL])
    list(frontier.hand_out())
    yield made
    pending.close()
    seen.close()


def book_of(crawler: Crawler) -> FailureBook:
    book = crawler.get_extension(FailureBook)
    assert book is not None and book is FailureBook.of(crawler)  # one per crawl
    return book


def failures_of(crawler: Crawler) -> FailedArticles:
    failures = book_of(crawler).failures
    assert failures is not None
    return failures


def send(crawler: Crawler, signal: object, **kwargs: object) -> None:
    crawler.signals.send_catch_log(signal, **kwargs)


def test_a_failure_is_recorded_and_given_up_at_the_limit(
    crawler: Crawler, caplog: pytest.LogCaptureFixture
) -> None:
    book = book_of(crawler)
    book.failed(URL, "could not fetch: HTTP 404")
    assert "attempt 1 of 2 (RFI_MAX_ATTEMPTS): tried again next run" in caplog.text
    assert crawler.stats.get_value("rfi/gave_up") is None
    book.failed(URL, "could not fetch: HTTP 404")
    assert "attempt 2 of 2 (RFI_MAX_ATTEMPTS): given up" in caplog.text
    assert crawler.stats.get_value("rfi/gave_up") == 1
    assert book.given_up_now == {URL: "could not fetch: HTTP 404"}


def test_an_exported_item_clears_its_articles_failures(crawler: Crawler) -> None:
    book = book_of(crawler)
    book.failed(URL, "no answer")
    send(crawler, signals.item_scraped, item=ArticleItem(url=URL))
    assert failures_of(crawler).get(URL) is None
    assert book.frontier is not None and book.frontier.settle() == 0  # off the queue


def test_an_invalid_item_is_a_failed_attempt_of_the_url_requested(crawler: Crawler) -> None:
    book = book_of(crawler)
    assert book.frontier is not None
    book.frontier.item_for(URL, MOVED)  # URL redirected to MOVED
    error = InvalidItem("invalid", "title: empty")
    send(crawler, signals.item_dropped, item=ArticleItem(url=MOVED), exception=error)
    record = failures_of(crawler).get(URL)
    assert record is not None and record.cause == "invalid item: title: empty"
    assert failures_of(crawler).get(MOVED) is None


def test_a_duplicate_is_done_and_no_failure(crawler: Crawler) -> None:
    send(crawler, signals.item_dropped, item=ArticleItem(url=URL), exception=DropItem("dup"))
    assert failures_of(crawler).get(URL) is None
    frontier = book_of(crawler).frontier
    assert frontier is not None and frontier.settle() == 0


def test_an_item_a_write_error_kept_stays_pending(crawler: Crawler) -> None:
    error = ExportStopped("disk full")
    send(crawler, signals.item_dropped, item=ArticleItem(url=URL), exception=error)
    failures = failures_of(crawler)
    assert failures.get(URL) is None and failures.accounted_for(URL)
    assert not book_of(crawler).unanswered(URL)  # no failed attempt at the end either
    frontier = book_of(crawler).frontier
    assert frontier is not None and frontier.settle() == 1  # still pending


def test_a_pipeline_error_is_a_failed_attempt(crawler: Crawler) -> None:
    failure = Failure(OSError("boom"))
    send(crawler, signals.item_error, item=ArticleItem(url=URL), response=None, failure=failure)
    record = failures_of(crawler).get(URL)
    assert record is not None and record.cause == "pipeline error: OSError: boom"
    assert crawler.stats.get_value("rfi/failed/article/pipeline_error") == 1


def test_a_crawl_without_state_has_nothing_to_say() -> None:
    crawler = get_crawler(settings_dict={"EXTENSIONS": {FailureBook: 0}})
    send(crawler, signals.item_scraped, item=ArticleItem(url=URL))  # no state: ignored
    assert book_of(crawler).given_up_now is None
