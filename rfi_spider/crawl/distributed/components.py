"""The Scrapy components of distributed mode: the add-on that switches it on with
``REDIS_URL``, scrapy-redis's scheduler and dupefilter as the crawl uses them, the spider
and downloader middlewares of the shared start and pages, and the extension that renews
claims and keeps an idle node open while the crawl has work."""

from __future__ import annotations

import logging
import warnings
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import redis
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, ScrapyDeprecationWarning
from scrapy.http import Response
from scrapy.settings import BaseSettings, get_settings_priority
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from rfi_spider import meta_keys
from rfi_spider.config import RfiSettings
from rfi_spider.crawl.distributed.config import check_names, enabled
from rfi_spider.crawl.distributed.node import PAGE, TAKEOVER, SharedCrawl
from rfi_spider.crawl.redis_codec import (
    BadValueError,
    UnencodableError,
)

logger = logging.getLogger(__name__)


class SharedCrawlAddon:
    """Add-on: with ``REDIS_URL`` set, scrapy-redis's scheduler and dupefilter, the shared
    start, extension and export pipeline; without it, nothing."""

    def __init__(self, crawler: Crawler | None = None) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedCrawlAddon:
        return cls(crawler)

    def update_settings(self, settings: BaseSettings) -> None:
        if not enabled(settings):
            return
        config = RfiSettings.for_addon(self.crawler, settings)
        check_names(config)
        # Unset: the spider's name, which scrapy-redis puts in place of %(spider)s.
        crawl_id = config.crawl_id or "%(spider)s"
        crawl = f"{config.redis_prefix}:{crawl_id}"
        for name, value in {
            "SCHEDULER": "rfi_spider.crawl.distributed.components.SharedScheduler",
            "DUPEFILTER_CLASS": "rfi_spider.crawl.distributed.components.SharedDupeFilter",
            # A node that finishes must not clear the queue the others work from.
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_QUEUE_KEY": f"{crawl}:requests",
            "SCHEDULER_DUPEFILTER_KEY": f"{crawl}:dupefilter",
            # JSON, never pickle: a value in Redis is data, not code (crawl/redis_codec.py).
            "SCHEDULER_QUEUE_CLASS": "rfi_spider.crawl.redis_codec.RequestQueue",
            "SCHEDULER_SERIALIZER": "rfi_spider.crawl.redis_codec",
        }.items():
            _override(settings, name, value)
        pipelines = dict(settings.getdict("ITEM_PIPELINES"))
        order = pipelines.pop("rfi_spider.archive.pipelines.ArchivePipeline", 800)
        pipelines["rfi_spider.crawl.distributed.export.SharedArchivePipeline"] = order
        _override(settings, "ITEM_PIPELINES", pipelines)
        middlewares = dict(settings.getdict("SPIDER_MIDDLEWARES"))
        middlewares["rfi_spider.crawl.distributed.components.SharedStart"] = 50
        _override(settings, "SPIDER_MIDDLEWARES", middlewares)
        downloader = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
        downloader["rfi_spider.crawl.distributed.components.SharedPagesMiddleware"] = 40
        _override(settings, "DOWNLOADER_MIDDLEWARES", downloader)
        extensions = dict(settings.getdict("EXTENSIONS"))
        extensions["rfi_spider.crawl.distributed.components.SharedCrawlExtension"] = 500
        _override(settings, "EXTENSIONS", extensions)


def _override(settings: BaseSettings, name: str, value: Any) -> None:
    """Set ``name`` over the project's value (distributed mode needs these components)."""
    priority = max(settings.getpriority(name) or 0, get_settings_priority("addon"))
    settings.set(name, value, priority=priority)


class SharedScheduler(Scheduler):
    """scrapy-redis's scheduler; an article request is fetched only by the node that claims
    it (:meth:`SharedCrawl.take`), and never once its article is exported."""

    shared: SharedCrawl
    # Requests that are not data (the browser fallback's, holding live objects): they stay
    # in this process. Each is a retry of a request this node claimed: killed, its claim
    # lapses and another node takes the article over.
    local: deque[Request]

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.shared = SharedCrawl.of(crawler)
        scheduler.local = deque()
        # scrapy-redis 0.9.1 passes spider= to the stats and calls Spider.log, both
        # deprecated in Scrapy 2.19: this class counts and logs instead.
        scheduler.stats = None
        scheduler.crawler_stats = crawler.stats
        return scheduler

    def open(self, spider: Spider) -> None:
        try:
            queued = self.server.zcard(self.queue_key % {"spider": spider.name})
        except redis.RedisError as error:
            self.shared.lost(error)
            queued = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScrapyDeprecationWarning)
            super().open(spider)
        if queued:
            logger.info("the crawl's queue in Redis holds %d request(s)", queued)

    def enqueue_request(self, request: Request) -> bool:
        """scrapy-redis's enqueue, with a page request recorded in the crawl's pages
        before it can be popped (``SharedCrawl.record_page``)."""
        if self.shared.stopped:
            return False
        try:
            if not request.dont_filter and self.df.request_seen(request):
                self.df.log(request, self.spider)
                return False
            try:
                self.shared.record_page(request, self.spider)
                self.queue.push(request)
            except UnencodableError as error:
                self.local.append(request)
                self.crawler_stats.inc_value("rfi/redis/kept_local")
                logger.debug("%s stays in this process (%s)", request, error)
        except redis.RedisError as error:
            self.shared.lost(error)
            return False
        self.crawler_stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        while not self.shared.stopped:
            try:
                request = self.local.popleft() if self.local else super().next_request()
            except BadValueError as error:  # taken off the queue, never run
                self.shared.bad_value(self.queue.key, error)
                continue
            except redis.RedisError as error:
                self.shared.lost(error)
                return None
            if request is None:
                return None
            self.crawler_stats.inc_value("scheduler/dequeued/redis")
            if not self.shared.busy:  # say so at once: idle nodes wait for busy ones
                self.shared.busy = True
                self.shared.renew()
            if PAGE in request.meta:
                if self.shared.take_page(request):
                    return request
            elif request.meta.get(meta_keys.KIND) != "article" or self.shared.take(request):
                return request
        return None

    def has_pending_requests(self) -> bool:
        if self.shared.stopped:
            return False
        if self.local:
            return True
        try:
            return bool(super().has_pending_requests())
        except redis.RedisError as error:
            self.shared.lost(error)
            return False


class SharedDupeFilter(RFPDupeFilter):
    """scrapy-redis's dupefilter with 8-byte fingerprints; an article request marked
    :data:`meta_keys.REFETCH` (a takeover of a killed node's article) gets past it."""

    def request_seen(self, request: Request) -> bool:
        if request.meta.get(TAKEOVER):  # a page a killed node had taken from the queue
            return False
        if request.meta.get(meta_keys.REFETCH) and request.meta.get(meta_keys.KIND) == "article":
            return False
        return bool(super().request_seen(request))

    def request_fingerprint(self, request: Request) -> bytes:
        return bytes.fromhex(super().request_fingerprint(request))[:8]


class SharedStart:
    """Spider middleware: the start requests (listings, feeds, sitemaps, mirrors) go out
    from the first node of a crawl only; a node joining later works from the queue."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedStart:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        shared = SharedCrawl.of(self.crawler)
        shared.first = shared.state.start_once()
        if not shared.first:
            shared.stat("joined")
            logger.info(
                "joining crawl %s: its listings, feeds and mirrors are read already",
                shared.state.crawl,
            )
        skipped = 0
        async for output in start:
            kind = output.meta.get(meta_keys.KIND) if isinstance(output, Request) else None
            if shared.first or not isinstance(output, Request) or kind == "article":
                yield output
            else:
                skipped += 1
        if shared.first:
            shared.state.finish_start()
        if skipped:
            shared.stat("start/skipped", skipped)

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        """A page's output: once it is all out (its links queued), the page is read."""
        try:
            yield from result
        finally:
            SharedCrawl.of(self.crawler).page_done(response.request or Request(response.url))

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        try:
            async for output in result:
                yield output
        finally:
            SharedCrawl.of(self.crawler).page_done(response.request or Request(response.url))


class SharedPagesMiddleware:
    """Downloader middleware: a page request that failed for good (no retry left, or
    ignored) is read, as far as the crawl's pages go: no node takes it over."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedPagesMiddleware:
        return cls(crawler)

    def process_exception(self, request: Request, exception: BaseException) -> None:
        SharedCrawl.of(self.crawler).page_done(request)


class SharedCrawlExtension:
    """Renews the node's claims and heartbeat; keeps an idle node open while the crawl
    has work; leaves the crawl when the spider closes."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.loop: task.LoopingCall | None = None
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.idle, signal=signals.spider_idle)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)
        crawler.signals.connect(self.dropped, signal=signals.request_dropped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedCrawlExtension:
        return cls(crawler)

    @property
    def shared(self) -> SharedCrawl:
        return SharedCrawl.of(self.crawler)

    def opened(self) -> None:
        interval = max(0.05, RfiSettings.of(self.crawler).redis_lease_seconds / 3)
        self.loop = task.LoopingCall(self.shared.renew)
        self.loop.start(interval, now=True)

    def idle(self) -> None:
        if self.shared.should_wait():
            raise DontCloseSpider

    def dropped(self, request: Request) -> None:
        """A page's redirect to a page already queued: the page is read."""
        self.shared.page_done(request)

    def closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.shared.close()
