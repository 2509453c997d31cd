"""Feed mirrors: full-text feeds whose entries stand in for the articles the site refuses.

Each good entry is kept as its article's fallback (``mirrors/fallbacks.py``) and the site's
article is still asked for (the site's version wins); an entry already exported, this run
or earlier, is skipped without a request. The mirrors are the edition's (its block's
``mirrors``), ``RFI_MIRRORS`` or ``-a mirrors=``: the spider says which.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from rfi_spider.archive.state import SeenStore
from rfi_spider.extract.gate import missing
from rfi_spider.items import ArticleItem
from rfi_spider.mirrors.entrypage import mirror_item
from rfi_spider.mirrors.fallbacks import MirrorFallbacks
from rfi_spider.mirrors.feeds import BadFeedError, read_feed
from rfi_spider.sources.base import Context, Found, Source

logger = logging.getLogger(__name__)


class Mirrors(Source):
    """The run's mirror feeds, read first: their entries are the fallbacks."""

    kind = "mirrors"
    first = True

    def __init__(self, context: Context, specs: Iterable[Any]) -> None:
        super().__init__(context, specs)
        self.urls: list[str] = []  # set by the spider: the run's mirrors
        self.fallbacks = MirrorFallbacks()
        self.seen: SeenStore | Any = None  # the "exported" state (set by the spider)

    def start(self) -> Iterator[scrapy.Request]:
        limit = self.context.config.mirror_max_bytes
        for url in self.urls:
            yield self.context.request(url, self, "mirror", 20, {"download_maxsize": limit})

    def failed(self, failure: Failure) -> Iterator[Found]:
        """An unreachable mirror costs a warning and a counter, never the crawl."""
        self.stats.inc_value("rfi/mirror/unreachable")
        return iter(())

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Found]:
        """A mirror's feed: each good entry becomes the fallback of its article."""
        stats, scope = self.stats, self.context.scope
        limit = self.context.config.mirror_max_entries
        try:
            feed = read_feed(response.body, response.url, limit)
        except BadFeedError as exc:
            stats.inc_value("rfi/mirror/bad_feed")
            logger.warning("mirror feed %s refused: %s", response.url, exc)
            return
        self.report(response.url, feed, limit)
        crawled_at = self.context.crawled_at(response)
        for problem in feed.problems:
            self.bad_entry(response.url, problem.reason, problem.where)
            if problem.url and scope.wanted(problem.url):  # the link is good: ask the site
                yield problem.url
        for entry in feed.entries:
            item = mirror_item(entry, crawled_at)
            reason = missing(item)
            if reason:
                self.bad_entry(response.url, reason, entry.link)
                if scope.wanted(entry.url):
                    yield entry.url
                continue
            stats.inc_value("rfi/mirror/entries")
            yield from self.use_entry(item)

    def report(self, url: str, feed: Any, limit: int) -> None:
        """Count and log what a feed was short of or cleaned of."""
        stats = self.stats
        if feed.capped:
            stats.inc_value("rfi/mirror/entries_capped", feed.capped)
            logger.warning(
                "mirror feed %s: %d entries past RFI_MIRROR_MAX_ENTRIES (%d) not read",
                url,
                feed.capped,
                limit,
            )
        if not feed.entries and not feed.problems:
            stats.inc_value("rfi/mirror/empty")
            logger.warning("mirror feed %s has no entries", url)
        for link in feed.sanitized:
            stats.inc_value("rfi/mirror/sanitized")
            logger.warning(
                "mirror feed %s: entry %s held scripts, frames, forms or event handlers: removed",
                url,
                link,
            )

    def bad_entry(self, feed_url: str, reason: str, where: str) -> None:
        self.stats.inc_value(f"rfi/mirror/bad_entry/{reason}")
        logger.warning("mirror feed %s: entry %s skipped: %s", feed_url, where, reason)

    def use_entry(self, item: ArticleItem) -> Iterator[Found]:
        """Keep a mirror item as its article's fallback and ask the site for the article."""
        stats = self.stats
        url = item["url"]
        if not self.context.edition.owns(url):  # the other edition's copy: never exported
            stats.inc_value("rfi/mirror/skipped/other_edition")
            return
        if not self.context.scope.wanted(url):
            stats.inc_value("rfi/mirror/skipped/out_of_scope")
            return
        if self.fallbacks.was_delivered(url) or self.seen.probably_known(url):
            stats.inc_value("rfi/mirror/skipped/already_exported")
            return
        if self.fallbacks.is_waiting(url):
            stats.inc_value("rfi/mirror/skipped/duplicate")
            return
        cause = self.fallbacks.keep(item)
        if cause is not None:  # the site refused it before this entry arrived
            yield from self.stand_in(item, cause)
            return
        yield url

    def site_refused(self, url: str, cause: str) -> Iterator[ArticleItem]:
        """The site did not give the article: its mirror entry, now or when it comes."""
        item = self.fallbacks.site_refused(url, cause)
        if item is not None:
            yield from self.stand_in(item, cause)

    def stand_in(self, item: ArticleItem, cause: str) -> Iterator[ArticleItem]:
        """A mirror's copy exported for an article the site refused (``cause``), if it was
        published in the backfill range."""
        if not self.context.scope.published_in_range(item["published_at"]):
            self.context.out_of_range(item)
            return
        self.stats.inc_value(f"rfi/mirror/fallback/{cause}")
        logger.info(
            "%s: the site gave %s; exporting the copy of %s", item["url"], cause, item["source"]
        )
        self.fallbacks.deliver(item["url"])
        yield item
