"""``scrapy crawl rfi_cn``: RFI's Chinese site, from listings and feeds to articles.

The spider crawls one edition (``editions.py``): ``rfi_cn`` the simplified /cn,
``rfi_tw`` (``spiders/rfi_tw.py``, the same class) the traditional /tw. It never
requests or exports an article of another edition, even when a page links to one.

Its arguments (``-a name=value``, the table in ``docs/crawling.md``): ``url`` (one
article), ``since`` and ``until`` (a backfill from the sitemaps, or the daily archive
with ``RFI_BACKFILL_ARCHIVE``), ``base_url`` (another fetch root; items keep their
canonical URLs), ``mirrors`` (default ``RFI_MIRRORS``, else the edition's), ``demo``
(the bundled sample site, on loopback), ``from_warc`` (re-extraction from WARC files,
with no network: ``fetch/warc_replay.py``).

The edition's block declares its sources (``Edition.sources``): the home, section and
column listings, the RSS feed, robots.txt and the sitemaps (the news map; the monthly
maps in a backfill), the feed mirrors, each a small class of ``rfi_spider/sources``.
The spider is the coordinator: it starts the sources and hands each response to its
source (``parse_source``, a spider method so that requests keep their callback under
JOBDIR and scrapy-redis), the article URLs they find to the frontier
(``crawl/frontier.py``: found, checked once, queued on disk, at most
``RFI_ARTICLE_WINDOW`` out at once), each article page to the extraction and the gate
(``extract/gate.py``, in a worker process when there are workers), and acts on the
gate's verdict: the item, or the mirror's copy (``sources/mirrors.py``), or a failed
attempt for the failure book (``crawl/failure_book.py``, an extension that also handles
the item signals).

Its arguments are checked by ``arguments.py``, the ``from_warc`` replay set up by
``fetch/warc_replay.py``, the demo's site by ``demo/crawl.py``; then the run's
``RFI_*`` settings are read, once (``config.py``: ``RfiSettings.of(crawler)``, which
every component reads); what the run is of (its edition, fetch root, mirrors) is
registered on the crawler (``crawl_target.py``) for the components that need it.
Requests queued by a run from before sources were objects keep their callbacks' old
names (``spiders/old_callbacks.py``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.utils.job import job_dir
from twisted.python.failure import Failure

from rfi_spider import meta_keys
from rfi_spider.archive.failures import FailedArticles
from rfi_spider.archive.sitemap_listing import SitemapListings
from rfi_spider.archive.state import STATE_FILE, PendingArticles, SeenStore
from rfi_spider.arguments import (
    SPIDER_ARGUMENTS,
    article_url,
    backfill_range,
    check_mirrors,
    check_names,
    check_spider_arguments,
    http_url,
    split_list,
    switch,
    warc_paths,
)
from rfi_spider.canonical import FetchRoot
from rfi_spider.config import RfiSettings, set_edition_output_dir
from rfi_spider.crawl.distributed.config import enabled as distributed
from rfi_spider.crawl.distributed.node import SharedCrawl
from rfi_spider.crawl.distributed.spider_state import PendingQueue, StateStore
from rfi_spider.crawl.failure_book import FailureBook
from rfi_spider.crawl.frontier import Frontier
from rfi_spider.crawl.jobdir import close_job, open_job
from rfi_spider.crawl.revisits import Revisits
from rfi_spider.crawl.scope import Scope
from rfi_spider.crawl_target import CrawlTarget
from rfi_spider.dates import today_in_paris
from rfi_spider.demo.crawl import DemoSite
from rfi_spider.editions import CN, Edition, SourceSpec
from rfi_spider.extract.gate import Gate
from rfi_spider.extract.processors import unique
from rfi_spider.extract.workers import PageExtractor, worker_count
from rfi_spider.fetch.causes import count_failure
from rfi_spider.fetch.warc_replay import archived_only, start_replay
from rfi_spider.sources import KINDS, Context, Found, Mirrors, Source
from rfi_spider.spiders.articles import ArticlePages
from rfi_spider.spiders.old_callbacks import SOURCE_OF_KIND, OldCallbacks

logger = logging.getLogger(__name__)
# A source's article URLs go to the frontier this many at a time (memory stays flat).
SOURCE_BATCH = 500


class RfiCnSpider(OldCallbacks, scrapy.Spider):
    """Walks an edition's listings, feeds and (for backfill) the daily archive; parses
    its articles. ``edition``: /cn here; a subclass sets another (``RfiTwSpider``)."""

    name = "rfi_cn"
    edition: Edition = CN
    # The spider arguments (-a name=value) it takes: any other name is refused.
    ARGUMENTS = SPIDER_ARGUMENTS
    # Set in from_crawler (they need the crawler's settings), not in __init__.
    mirrors: list[str]
    sources: dict[str, Source]
    articles: ArticlePages

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        """Each edition exports to its own folder by default (``output``, ``output-tw``):
        unless ``RFI_OUTPUT_DIR`` is given (``-s``, or the environment)."""
        super().update_settings(settings)
        set_edition_output_dir(settings, cls.edition.output_dir)

    def __init__(
        self,
        url: str | None = None,
        since: str | None = None,
        until: str | None = None,
        base_url: str | None = None,
        mirrors: str | None = None,
        demo: str | None = None,
        from_warc: str | None = None,
        **kwargs: Any,
    ) -> None:
        """The arguments checked (``crawl/arguments.py``); the demo's site started."""
        check_names(kwargs, self.ARGUMENTS)
        super().__init__(**kwargs)
        # The backfill's length is checked against RFI_MAX_BACKFILL_DAYS in from_crawler.
        self.since, self.until = backfill_range(since, until, today_in_paris(), 0)
        if base_url is not None:
            base_url = http_url("base_url", base_url, root=True)
        self.demo = switch("demo", demo)
        # from_warc= (empty) is an error, never a live crawl: None only means not given.
        self.from_warc = warc_paths(split_list(from_warc)) if from_warc is not None else []
        self.demo_site: DemoSite | None = None
        if self.demo and not base_url and not self.from_warc:
            self.demo_site = DemoSite(self.edition)
            base_url = self.demo_site.base_url
        self.site = FetchRoot(base_url)
        self.single_canonical = (
            article_url(url, self.site, self.edition, self.name) if url is not None else None
        )
        self.mirrors_arg = split_list(mirrors) if mirrors is not None else None
        self.allowed_domains = [self.site.fetch_host]
        self.jobdir: str | None = None
        self.jobdir_queue_aside: Path | None = None

    @classmethod
    def check_arguments(cls, args: dict[str, str], config: RfiSettings) -> None:
        """Raise :class:`ArgumentError` (one line) for a spider argument this spider cannot
        use; the project's ``crawl`` command calls it before the crawl starts."""
        check_spider_arguments(args, config, cls.edition, cls.name)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> RfiCnSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        replayed = spider.set_by_arguments(settings)
        config = RfiSettings.of(crawler)  # read once, after what the arguments set
        spider.mirrors = replayed if replayed is not None else spider.choose_mirrors(config)
        mirror_hosts = [urlsplit(mirror).hostname for mirror in check_mirrors(spider.mirrors)]
        # Mirrors pass the offsite filter as allowed domains, not with dont_filter.
        spider.allowed_domains = unique([*spider.allowed_domains, *mirror_hosts])
        if spider.since and spider.until:
            since, until = spider.since.isoformat(), spider.until.isoformat()
            backfill_range(since, until, spider.until, config.archive_days_limit)
        # What the crawl is of, for the components that need it (the WARC's warcinfo...).
        CrawlTarget(spider.edition, spider.site, tuple(spider.mirrors)).register(crawler)
        spider.jobdir = job_dir(settings)
        if spider.jobdir:  # before Scrapy opens the job's request queue
            spider.jobdir_queue_aside = open_job(spider.jobdir)
        spider.sources = spider.open_sources(crawler, spider.open_state(crawler, kwargs))
        spider.articles = spider.open_articles(crawler)
        spider.revisits.make = spider.articles.request
        # The workers start now, not at the opening: their interpreters' start-up (about
        # 0.9 s of CPU each) runs beside the rest of the crawl's set-up (the WARC index of
        # a re-extraction, the engine), not at the head of the crawl (issue 26). If the
        # crawl never opens, they exit with the crawl's process (their pipe closes).
        spider.articles.extractor.start()
        connect = crawler.signals.connect
        connect(spider.on_closed, signal=signals.spider_closed)
        connect(spider.on_idle, signal=signals.spider_idle)
        connect(spider.articles.dropped, signal=signals.request_dropped)
        return spider

    def set_by_arguments(self, settings: BaseSettings) -> list[str] | None:
        """The settings the arguments set, before they are read: the demo's; the
        ``from_warc`` replay's, which may take the archive's fetch root and returns the
        run's mirrors (None: no replay)."""
        if self.demo_site is not None:
            self.demo_site.configure(settings)
        if not self.from_warc:
            return None
        self.site, mirrors = start_replay(settings, self.from_warc, self.site, self.mirrors_arg)
        self.allowed_domains = [self.site.fetch_host]
        return mirrors

    def choose_mirrors(self, config: RfiSettings) -> list[str]:
        """The run's feed mirrors (but an archive's): ``-a mirrors=``; the demo's own;
        else ``RFI_MIRRORS``, or the edition's."""
        if self.mirrors_arg is not None:
            return self.mirrors_arg
        if self.demo_site is not None:  # the demo never reaches a real host
            return self.demo_site.mirrors()
        return config.mirrors_of(self.edition)

    def open_state(self, crawler: Crawler, kwargs: dict[str, Any]) -> SitemapListings:
        """The run's state (exported URLs, pending queue, failures: on disk, or in Redis
        with ``REDIS_URL``), its frontier and failure book; returns where the sitemaps'
        listings are recorded (this node's own state, under this run's id)."""
        config = RfiSettings.of(crawler)
        state_dir = config.state_dir
        local_seen = SeenStore(
            state_dir / STATE_FILE,
            cache_kib=config.state_cache_kib or None,
            mmap_mib=config.state_mmap_mib,
        )
        shared = SharedCrawl.open(crawler, kwargs) if distributed(crawler.settings) else None
        self.seen: StateStore = shared.seen(local_seen) if shared else local_seen
        shared_pending = shared.pending if shared else None
        self.pending: PendingQueue = (
            shared_pending if shared_pending is not None else PendingArticles(local_seen, state_dir)
        )
        self.distributed = shared is not None
        # The failures table is this node's own store's (SharedSeen's is the same).
        failures = FailedArticles(local_seen, config.max_attempts)
        self.scope = Scope(self.edition, self.single_canonical, self.since, self.until)
        self.gate = Gate(self.edition.key, self.since, self.until)
        window = config.article_window
        self.frontier = (
            shared.frontier(shared_pending, self.seen, failures, self.scope, window, crawler)
            if shared is not None and shared_pending is not None
            else Frontier(self.pending, self.seen, failures, self.scope, window, crawler)
        )
        # Failures and the item signals: an extension, reached through the crawler.
        self.book = FailureBook.of(crawler)
        self.book.open(failures, self.frontier)
        self.revisits = Revisits(local_seen, config, lambda: crawler.stats)
        if shared is not None:
            shared.revisits(self.revisits)
        return SitemapListings(local_seen, uuid.uuid4().hex)

    def open_sources(self, crawler: Crawler, listings: SitemapListings) -> dict[str, Source]:
        """The edition's sources (its block's ``sources``), one object per kind, in the
        order the block declares them."""
        context = Context(
            crawler,
            self.edition,
            self.site,
            self.scope,
            listings,
            self.parse_source,
            self.on_source_error,
            self.distributed,
            None if self.from_warc else self.revisits,
        )
        kinds: dict[str, list[SourceSpec]] = {}
        for spec in self.edition.sources:
            kinds.setdefault(spec.kind, []).append(spec)
        sources = {kind: KINDS[kind](context, specs) for kind, specs in kinds.items()}
        # -a mirrors= and RFI_MIRRORS apply even where the block declares no mirrors.
        mirrors = sources.setdefault(Mirrors.kind, Mirrors(context, ()))
        assert isinstance(mirrors, Mirrors)
        mirrors.urls, mirrors.seen = self.mirrors, self.seen
        self.mirrors_source = mirrors
        self.context = context
        return sources

    def open_articles(self, crawler: Crawler) -> ArticlePages:
        """The article pages' way (``spiders/articles.py``), with the run's extraction."""
        workers = RfiSettings.of(crawler).extract_workers
        extractor = PageExtractor(
            worker_count(workers, re_extracting=bool(self.from_warc)),
            on_restart=lambda _: crawler.stats.inc_value("rfi/extract/worker_restarts"),
        )
        return ArticlePages(
            self.context,
            self.frontier,
            self.book,
            self.mirrors_source,
            extractor,
            self.gate,
            (self.on_article, self.on_article_error),
        )

    def on_closed(self) -> None:
        """After the pipelines closed (everything exported is in the state): the sources'
        figures (sitemap coverage), then the state closed. Before the summary (connected
        first)."""
        for source in self.sources.values():
            source.close()
        self.articles.extractor.close()
        if self.jobdir:
            close_job(self.jobdir)
        self.pending.close()
        self.seen.close()
        if self.demo_site is not None:
            self.demo_site.stop()

    # --- sources -------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.jobdir_queue_aside:
            self.crawler.stats.set_value("rfi/repaired/jobdir_queue", 1)
        if self.pending.adopted:
            self.crawler.stats.set_value("rfi/resumed/articles", self.pending.adopted)
            logger.info(
                "resuming: %d article(s) an interrupted run left unfinished come first",
                self.pending.adopted,
            )
        first = [source for source in self.sources.values() if source.first]
        for source in first:  # the mirrors: their entries are the fallbacks
            for request in source.start():
                yield request
        for request in self.articles.next():  # what an interrupted run left, first
            yield request
        requests = self.initial_requests()
        if self.from_warc:  # a start page this archive never fetched: skipped
            requests = archived_only(requests, self.crawler)
        for request in requests:
            yield request
        if not (self.single_canonical or self.from_warc):
            for request in self.revisits.due():  # the revisit window, after the rest
                yield request

    def initial_requests(self) -> Iterator[scrapy.Request]:
        """The requests a run starts from: one URL, or the edition's sources."""
        if self.single_canonical:
            yield from self.article_requests([self.single_canonical])
            return
        for source in self.sources.values():
            if not source.first:
                yield from source.start()

    def parse_source(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        """A listing, feed, sitemap or mirror: read by its source."""
        source = self.source_of(response.meta, response.url)
        return self.follow(source.parse(response, **kwargs)) if source else iter(())

    def on_source_error(self, failure: Failure) -> Iterator[Any]:
        """A source's request that failed for good: logged, counted, then its source's say."""
        count_failure(failure, self.crawler.stats)
        request = failure.request  # type: ignore[attr-defined]  # Scrapy sets it on errbacks
        source = self.source_of(request.meta, request.url)
        return self.follow(source.failed(failure)) if source else iter(())

    def source_of(self, meta: dict[str, Any], url: str) -> Source | None:
        """The source a request is for (``meta_keys.SOURCE``); a request queued before
        sources were objects names only its kind (``meta_keys.KIND``). None (logged,
        counted) for a source this run does not have."""
        name = meta.get(meta_keys.SOURCE) or SOURCE_OF_KIND.get(meta.get(meta_keys.KIND, ""))
        source = self.sources.get(name or "")
        if source is None:
            self.crawler.stats.inc_value("rfi/dropped/unknown_source")
            logger.warning("%s: a request of no source of this run (%s): dropped", url, name)
        return source

    def follow(self, found: Iterable[Found]) -> Iterator[Any]:
        """What a source found: article URLs to the frontier (then the next article
        requests), its own requests as they are, mirror copies standing in for articles."""
        urls: list[str] = []
        for thing in found:
            if isinstance(thing, str):
                urls.append(thing)
                if len(urls) < SOURCE_BATCH:
                    continue
            if urls:
                yield from self.article_requests(urls)
                urls = []
            if not isinstance(thing, str):
                yield thing
        if urls:
            yield from self.article_requests(urls)

    # --- articles: the spider's callbacks, the work ArticlePages' (spiders/articles.py) ---
    def article_requests(self, urls: Iterable[str]) -> Iterator[scrapy.Request]:
        """Article URLs found: to the frontier, then the next article requests."""
        return self.articles.requests(urls)

    async def on_article(self, response: Response, site_url: str) -> AsyncIterator[Any]:
        """An article page: extracted, judged, and acted on; then the next articles."""
        async for output in self.articles.answered(response, site_url):
            yield output

    def on_article_error(self, failure: Failure) -> Iterator[Any]:
        """An article the site would not serve: its mirror entry, if any, stands in."""
        return self.articles.failed(failure)

    def on_idle(self) -> None:
        """Nothing left in Scrapy: hand out more of the queue, or settle it and close."""
        requests = self.articles.at_idle()
        for request in requests:
            self.crawler.engine.crawl(request)
        if requests:
            raise DontCloseSpider
