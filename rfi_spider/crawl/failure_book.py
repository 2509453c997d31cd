"""The failure book: the articles that failed, and what the pipelines said of each item.

One Scrapy extension (``EXTENSIONS``) that the spider and other components reach through
the crawler (``crawler.get_extension(FailureBook)``, or :meth:`FailureBook.of` before the
extensions exist), never through spider attributes. It records an article's failed
attempt with its cause (:class:`~rfi_spider.archive.failures.FailedArticles`, with the
warning that says what comes next), and handles the item signals: an exported item
clears its article's failures; an item a pipeline refused or broke on is a failed
attempt; one a write error kept from being exported stays pending for the next run.
Either way the article's entry leaves the frontier's queue.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar
from weakref import WeakKeyDictionary

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector
from twisted.python.failure import Failure

from rfi_spider.archive.failures import FailedArticles
from rfi_spider.archive.pipelines import ExportStopped, InvalidItem
from rfi_spider.crawl.frontier import Frontier
from rfi_spider.items import ArticleItem

logger = logging.getLogger(__name__)


class FailureBook:
    """Failed attempts (recorded, logged) and the item signals of one crawl."""

    _of: ClassVar[WeakKeyDictionary[Crawler, FailureBook]] = WeakKeyDictionary()

    @classmethod
    def of(cls, crawler: Crawler) -> FailureBook:
        """The crawl's book, made at the first call (the spider is made before the
        extensions: it opens the book with the state it opened)."""
        book = cls._of.get(crawler)
        if book is None:
            book = cls._of[crawler] = cls(crawler)
        return book

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FailureBook:
        return cls.of(crawler)

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler  # its stats are made after the spider: read when counting
        self.failures: FailedArticles | None = None
        self.frontier: Frontier | None = None
        connect = crawler.signals.connect
        connect(self.item_scraped, signal=signals.item_scraped)
        connect(self.item_dropped, signal=signals.item_dropped)
        connect(self.item_error, signal=signals.item_error)

    def open(self, failures: FailedArticles, frontier: Frontier | None = None) -> None:
        """The run's failures table and frontier (the spider opens the state)."""
        self.failures = failures
        self.frontier = frontier

    @property
    def stats(self) -> StatsCollector:
        return self.crawler.stats

    @property
    def given_up_now(self) -> dict[str, str] | None:
        """The articles given up in this run (URL -> last cause); None with no state."""
        return self.failures.given_up_now if self.failures is not None else None

    def failed(self, url: str, cause: str) -> None:
        """Record one failed attempt of an article, with its cause; a warning says what
        comes next: another try next run, or none (given up, ``rfi/gave_up``)."""
        assert self.failures is not None
        failure = self.failures.record(url, cause)
        limit = self.failures.max_attempts
        if failure.attempts >= limit:
            self.stats.inc_value("rfi/gave_up")
            logger.warning(
                "%s failed (%s), attempt %d of %d (RFI_MAX_ATTEMPTS): given up, not requested"
                " again",
                url,
                failure.cause,
                failure.attempts,
                limit,
            )
        else:
            logger.warning(
                "%s failed (%s), attempt %d of %d (RFI_MAX_ATTEMPTS): tried again next run",
                url,
                failure.cause,
                failure.attempts,
                limit,
            )

    def unanswered(self, url: str) -> bool:
        """A request of ``url`` never got an answer: one failed attempt (unless this run
        already accounted for it). True when the article is now given up."""
        assert self.failures is not None
        if self.failures.accounted_for(url):
            return False
        self.failed(url, "no answer (no response, no error)")
        return self.failures.gave_up(url)

    # --- item signals ------------------------------------------------------------------
    def item_scraped(self, item: Any) -> None:
        """An item was exported: its article is done, and its failures are history."""
        if self.frontier is None or self.failures is None:
            return
        for url in self.frontier.item_done(item):
            self.failures.cleared(url)

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        """An item a pipeline dropped: a duplicate is done; an invalid one failed. One a
        write error kept from being exported stays pending, for the next run."""
        if self.frontier is None or self.failures is None:
            return
        if isinstance(exception, ExportStopped):
            if isinstance(item, ArticleItem):
                url = item.get("url")
                alias = self.frontier.aliases.get(url) if isinstance(url, str) else None
                self.failures.keep_pending(url, alias)
            return
        urls = self.frontier.item_done(item)
        if isinstance(exception, InvalidItem) and urls:
            self.failed(urls[-1], f"invalid item: {exception.details}")

    def item_error(self, item: Any, failure: Failure) -> None:
        """A pipeline raised on an item (not a drop): the article failed; the crawl goes on."""
        if self.frontier is None:
            return
        urls = self.frontier.item_done(item)
        if urls:
            error = failure.value
            self.stats.inc_value("rfi/failed/article/pipeline_error")
            self.failed(urls[-1], f"pipeline error: {type(error).__name__}: {error}")
