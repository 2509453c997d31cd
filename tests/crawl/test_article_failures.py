"""An article request that failed for good is one failed attempt when the failure is the
article's (an HTTP error the site answered with, a page too large), and none when it is the
network's or a block (issue 13: no article fetched again forever, none given up for an outage).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy import signals
from scrapy.exceptions import CannotResolveHostError, DownloadCancelledError, DownloadTimeoutError
from scrapy.http import HtmlResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from rfi_spider import settings as project_settings
from rfi_spider.archive.failures import FailedArticles
from rfi_spider.crawl.failure_book import FailureBook
from rfi_spider.fetch.blocking import ChallengePage
from rfi_spider.fetch.causes import attempt_cause
from rfi_spider.items import ArticleItem
from rfi_spider.mirrors.entrypage import mirror_item
from rfi_spider.mirrors.feeds import MirrorEntry
from rfi_spider.spiders.rfi_cn import RfiCnSpider

BASE = "http://127.0.0.1:9"
URL = "https://www.rfi.fr/cn/%E5%9B%BD%E9%99%85/20240307-gone"
PROJECT = {
    name: getattr(project_settings, name) for name in dir(project_settings) if name.isupper()
}


def failures_of(spider: RfiCnSpider) -> FailedArticles:
    """The run's failures table, as the failure book (an extension) holds it."""
    failures = FailureBook.of(spider.crawler).failures
    assert failures is not None
    return failures


@pytest.fixture
def spider(tmp_path: Path) -> Iterator[RfiCnSpider]:
    crawler = get_crawler(
        RfiCnSpider, {**PROJECT, "RFI_OUTPUT_DIR": str(tmp_path), "RFI_MAX_ATTEMPTS": 1}
    )
    made = RfiCnSpider.from_crawler(crawler, base_url=BASE, mirrors="")
    yield made
    made.on_closed()


def failed(spider: RfiCnSpider, error: Exception | None = None, status: int = 404) -> Failure:
    """The failure an errback gets for the article request of :data:`URL`."""
    request = spider.articles.request(URL)
    if error is None:
        response = HtmlResponse(request.url, status=status, body=b"<html></html>", request=request)
        error = HttpError(response, "Ignoring non-200 response")
    failure = Failure(error)
    failure.request = request  # type: ignore[attr-defined]  # as Scrapy sets it
    return failure


@pytest.mark.parametrize(
    ("error", "status", "cause"),
    [
        (None, 404, "HTTP 404"),
        (None, 410, "HTTP 410"),
        (None, 500, "HTTP 500"),
        (DownloadCancelledError("over DOWNLOAD_MAXSIZE"), 0, "too_large"),
        (None, 403, None),  # blocked: not the article's fault
        (None, 429, None),
        (None, 503, None),
        (None, 408, None),
        (ChallengePage(URL), 0, None),
        (CannotResolveHostError("no such host"), 0, None),  # the network's
        (DownloadTimeoutError("took too long"), 0, None),
    ],
)
def test_which_failures_are_attempts(
    spider: RfiCnSpider, error: Exception | None, status: int, cause: str | None
) -> None:
    assert attempt_cause(failed(spider, error, status), spider.settings) == cause


def test_a_404_article_is_recorded_and_given_up(spider: RfiCnSpider) -> None:
    assert list(spider.on_article_error(failed(spider))) == []
    record = failures_of(spider).get(URL)
    assert record is not None and record.cause == "could not fetch: HTTP 404"
    assert failures_of(spider).gave_up(URL)  # RFI_MAX_ATTEMPTS = 1
    assert failures_of(spider).given_up_now == {URL: "could not fetch: HTTP 404"}
    assert spider.crawler.stats.get_value("rfi/gave_up") == 1
    assert list(spider.article_requests([URL])) == []  # found again: not requested


def test_a_network_failure_is_no_attempt(spider: RfiCnSpider) -> None:
    list(spider.on_article_error(failed(spider, CannotResolveHostError("no such host"))))
    list(spider.on_article_error(failed(spider, status=503)))
    assert failures_of(spider).get(URL) is None and not failures_of(spider).given_up_now


def copy() -> ArticleItem:
    """A mirror's copy of :data:`URL`."""
    html = "<div>07/03/2024 - 18:02</div><p><strong>摘要</strong></p><div><p>正文。</p></div>"
    entry = MirrorEntry("镜像标题", URL, html, 1709830920000, "feedx.net")
    return mirror_item(entry, crawled_at="2026-11-27T12:00:00+00:00")


def test_a_404_with_a_mirror_copy_is_no_failure(spider: RfiCnSpider) -> None:
    item = copy()
    assert list(spider.sources["mirrors"].use_entry(item)) == [URL]  # type: ignore[attr-defined]
    assert item in list(spider.on_article_error(failed(spider)))  # the copy stands in
    assert failures_of(spider).get(URL) is None and not failures_of(spider).given_up_now


def test_a_mirror_copy_after_the_404_clears_the_record(spider: RfiCnSpider) -> None:
    list(spider.on_article_error(failed(spider)))
    assert failures_of(spider).given_up_now  # RFI_MAX_ATTEMPTS = 1
    item = copy()
    mirrors = spider.sources["mirrors"]
    assert list(mirrors.use_entry(item)) == [item]  # type: ignore[attr-defined]  # used at once
    spider.crawler.signals.send_catch_log(signals.item_scraped, item=item)  # exported
    assert failures_of(spider).get(URL) is None and not failures_of(spider).given_up_now
