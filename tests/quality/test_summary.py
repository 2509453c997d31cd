"""The end-of-crawl summary, from the stats alone."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from scrapy import Spider
from scrapy.utils.test import get_crawler

from rfi_spider.archive.failures import FailedArticles
from rfi_spider.archive.state import SeenStore
from rfi_spider.crawl.failure_book import FailureBook
from rfi_spider.quality.extensions import GIVEN_UP_SHOWN, CrawlSummary, summary_lines


def test_summary_counts_by_reason() -> None:
    stats = {
        "rfi/articles/found": 9,
        "rfi/articles/fetched": 7,
        "rfi/exported": 5,
        "rfi/exported/source/rfi.fr": 4,
        "rfi/exported/source/feedx.net": 1,
        "rfi/duplicates": 1,
        "rfi/skipped/already_exported": 2,
        "rfi/dropped/no_title": 1,
        "rfi/dropped/no_paragraphs": 2,
        "rfi/failed/article/404": 1,
        "response_received_count": 12,
    }
    text = "\n".join(summary_lines(stats, "finished", "rfi_tw"))
    assert "rfi_tw crawl summary (finished)" in text
    assert "articles found:            9" in text
    assert "exported:                  5" in text
    assert "exported from feedx.net: 1" in text
    assert "skipped, already exported: 2" in text
    assert "dropped: 3\n    no_paragraphs: 2\n    no_title: 1" in text
    assert "requests failed: 1\n    article/404: 1" in text
    assert "nothing could be fetched" not in text


def test_summary_says_when_nothing_could_be_fetched() -> None:
    stats = {"rfi/failed/listing/CannotResolveHostError": 17}
    text = "\n".join(summary_lines(stats, "finished", "rfi_tw"))
    assert "nothing could be fetched at all" in text


GONE = "https://www.rfi.fr/cn/%E5%9B%BD%E9%99%85/20240307-gone"


def test_summary_names_the_articles_given_up_with_their_cause() -> None:
    given_up = {GONE: "could not fetch: HTTP 404", GONE + "-2": "extraction error: \x1b[2J"}
    text = "\n".join(summary_lines({"rfi/gave_up": 2}, "finished", "rfi_cn", given_up))
    assert "  given up (failed RFI_MAX_ATTEMPTS times, not requested again): 2\n" in text
    assert f"    {GONE}  (last: could not fetch: HTTP 404)\n" in text
    assert f"    {GONE}-2  (last: extraction error: \\x1b[2J)" in text  # no terminal escape
    assert "\x1b" not in text
    assert "given up" not in "\n".join(summary_lines({}, "finished", "rfi_cn", {}))


def test_summary_lists_at_most_so_many_given_up_articles() -> None:
    given_up = {f"{GONE}-{n:03d}": "could not fetch: HTTP 404" for n in range(GIVEN_UP_SHOWN + 7)}
    lines = summary_lines({}, "finished", "rfi_cn", given_up)
    named = [line for line in lines if line.startswith(f"    {GONE}-")]
    assert len(named) == GIVEN_UP_SHOWN
    assert lines[-1] == "    ... and 7 more"


def test_crawl_summary_reads_the_failure_books_given_up_articles(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    crawler = get_crawler(Spider, {"EXTENSIONS": {FailureBook: 0}})
    summary = CrawlSummary(crawler)
    spider = Spider("rfi_cn")
    store = SeenStore(tmp_path / "seen.sqlite3")
    book = crawler.get_extension(FailureBook)
    assert book is not None
    book.open(FailedArticles(store, max_attempts=1))
    book.failed(GONE, "could not fetch: HTTP 404")
    store.close()  # the spider closes its state first: the account is in memory
    with caplog.at_level(logging.INFO, logger="rfi_spider.quality.extensions"):
        summary.spider_closed(spider, "finished")
    assert f"    {GONE}  (last: could not fetch: HTTP 404)" in caplog.text
