"""The frontier: which article URLs a run has found, which it fetches, and how many are out.

One object owns the whole way of an article URL from found to done, so that each check is
made once and in one place:

- :meth:`Frontier.add`: an URL found by a source is checked once (found before in this
  run, of another edition, out of the backfill range, exported already, given up) and
  queued in the state's pending queue (:class:`~rfi_spider.archive.state.PendingArticles`),
  on disk.
- :meth:`Frontier.hand_out`: at most ``size`` queued URLs are out at a time, so that memory
  does not grow with the queue and a rerun after a kill fetches first what the interrupted
  run left. A URL such a run left was never checked by this one: it is checked here (exported
  since, outside this run's scope, given up).
- An article leaves the queue when its request ended without an item, or when its item went
  through the pipelines (exported or dropped): :meth:`finished`, :meth:`item_done`.

Nothing here calls back into the spider; what is skipped is counted (``rfi/skipped/...``,
``rfi/gave_up``) and logged here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from rfi_spider.archive.failures import FailedArticles
from rfi_spider.archive.state import PendingArticles, SeenStore
from rfi_spider.canonical import article_date
from rfi_spider.crawl.scope import Scope
from rfi_spider.items import ArticleItem
from rfi_spider.urlset import UrlSet

logger = logging.getLogger(__name__)


class Frontier:
    """Found article URLs, the pending queue, the requests out at once, and the checks."""

    def __init__(
        self,
        pending: PendingArticles | Any,
        seen: SeenStore | Any,
        failures: FailedArticles | Any,
        scope: Scope,
        size: int,
        crawler: Crawler,
    ) -> None:
        self.pending = pending
        self.seen = seen
        self.failures = failures
        self.scope = scope
        self.size = max(1, size)
        self.crawler = crawler  # its stats are made after the spider: read when counting
        self.found = UrlSet()  # article URLs found in this run (as digests: see urlset.py)
        self.outstanding = 0  # article requests handed out and not finished
        # Items in the pipelines whose URL is not the one requested: item URL -> requested.
        self.aliases: dict[str, str] = {}

    @property
    def stats(self) -> StatsCollector:
        return self.crawler.stats

    # --- found -----------------------------------------------------------------------
    def add(self, urls: Iterable[str]) -> None:
        """Queue the new article URLs (canonical) a source found; the others are skipped
        (counted): found before, another edition's, out of range, exported, given up."""
        new: list[str] = []
        for url in urls:
            if url in self.found:
                continue
            self.found.add(url)
            if not self.scope.edition.owns(url):  # a twin in the other edition: never fetched
                self.stats.inc_value("rfi/skipped/other_edition")
                logger.debug(
                    "%s is not an article of %s: not followed", url, self.scope.edition.home
                )
                continue
            self.stats.inc_value("rfi/articles/found")
            if not self.scope.in_range(article_date(url), slack=1):
                self.stats.inc_value("rfi/skipped/out_of_range")
                continue
            if self.seen.probably_known(url):
                self.stats.inc_value("rfi/skipped/already_exported")
                continue
            if self.failures.gave_up(url):
                self.skip_given_up(url)
                continue
            new.append(url)
        self.queue(new)

    def queue(self, urls: list[str]) -> None:
        """Queue new article URLs on disk (duplicates of the queue are ignored there)."""
        self.pending.add(urls)

    def skip_given_up(self, url: str) -> None:
        """Not requested: the article failed ``RFI_MAX_ATTEMPTS`` times (``rfi/gave_up``)."""
        self.stats.inc_value("rfi/gave_up")
        cause = self.failures.skipped(url)
        logger.info("%s not requested: given up after failing (last: %s)", url, cause)

    # --- out ---------------------------------------------------------------------------
    def hand_out(self) -> Iterator[tuple[str, bool]]:
        """Queued URLs (and whether an interrupted run left them) while the window has room."""
        while self.outstanding < self.size:
            batch = self.pending.take(self.size - self.outstanding)
            if not batch:
                return
            for url, resumed in batch:
                if resumed and not self.take_left(url):
                    continue
                self.outstanding += 1
                yield url, resumed

    def take_left(self, url: str) -> bool:
        """Whether to fetch a URL an interrupted run left, checked here since this run did
        not find it: one exported since is done, one outside this run's scope stays queued
        for another run (e.g. a full crawl's, in ``-a url=``), one given up is done."""
        if self.seen.probably_known(url):  # exported since it was queued (a killed run)
            self.stats.inc_value("rfi/skipped/already_exported")
            self.pending.done(url)
            return False
        if not self.scope.in_run(url):
            self.pending.leave(url)
            return False
        if self.given_up_left(url):
            self.pending.done(url)
            return False
        self.found.add(url)  # an interrupted run's URL is found now
        return True

    def given_up_left(self, url: str) -> bool:
        """True (and counted once) for a left article that failed too often."""
        if not self.failures.gave_up(url):
            return False
        if url not in self.found:
            self.found.add(url)
            self.skip_given_up(url)
        return True

    def finished(self, url: str, produced_item: bool) -> None:
        """One article request is over; its queue entry is done now, or once its item is."""
        self.outstanding = max(0, self.outstanding - 1)
        if not produced_item:
            self.pending.done(url)

    # --- items -------------------------------------------------------------------------
    def item_for(self, requested: str, item_url: str) -> None:
        """An item of ``requested`` goes to the pipelines under another URL (a redirect)."""
        if item_url != requested:
            self.aliases[item_url] = requested

    def item_done(self, item: Any) -> list[str]:
        """An item went through the pipelines: its article is off the queue. Its URLs (the
        item's, then the one requested when they differ); none for an item of no article."""
        if not (isinstance(item, ArticleItem) and item.get("url")):
            return []
        url = item["url"]
        self.pending.done(url)
        requested = self.aliases.pop(url, None)
        if requested:
            self.pending.done(requested)
            return [url, requested]
        return [url]

    # --- the end -----------------------------------------------------------------------
    def idle(self) -> None:
        """Scrapy has nothing left: whatever was out has ended (some requests end unannounced)."""
        self.outstanding = 0

    def settle(self) -> int:
        """At the end: the number of handed-out URLs that never got an answer (kept queued)."""
        return self.pending.finish()

    def unanswered(self) -> list[str]:
        """The URLs handed out in this run that never got an answer."""
        return list(self.pending.unanswered())
