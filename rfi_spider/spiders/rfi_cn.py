"""``scrapy crawl rfi_cn``: RFI's Chinese site, from listings and feeds to articles.

The spider crawls one edition (``editions.py``): ``rfi_cn`` the simplified /cn,
``rfi_tw`` (``spiders/rfi_tw.py``, the same class) the traditional /tw. It never
requests or exports an article of another edition, even when a page links to one.

Arguments (``-a name=value``):

- ``url=URL``: crawl exactly this one article.
- ``since=YYYY-MM-DD`` (or ``all``), ``until=YYYY-MM-DD``: backfill from the site's
  sitemap index (the monthly maps that overlap the range; the daily archive too with
  ``RFI_BACKFILL_ARCHIVE``), keeping only articles published (Paris time) in that range.
- ``base_url=http://host:port``: fetch every site URL from this root instead of
  https://www.rfi.fr; items keep their canonical https://www.rfi.fr URLs.
- ``mirrors=URL,URL``: full-text feed mirrors (empty: none); default ``RFI_MIRRORS``.
  Their entries stand in for the articles the site refuses (see ``parse_mirror``).
- ``demo=1`` (or ``true``, ``yes``; ``0``, ``false``, ``no``: off; anything else is
  refused): serve the bundled sample site on loopback and crawl it (and read its
  mirror feed, unless ``mirrors=`` is given).
- ``from_warc=PATH[,PATH...]``: re-extract from WARC files (or folders of them) with no
  network: every request is answered from the archive (``fetch/warc_replay.py``); the
  fetch root and mirrors are those the archive's ``warcinfo`` names, unless given.

Sources: the home and section listings, the RSS feed, the news sitemap (a plain run)
or the sitemap index (a backfill), both found through ``robots.txt``
(``crawl/sitemaps.py``), and the feed mirrors.

The spider holds the sources and the callbacks; two collaborators hold the run's
state: the article window (``crawl/window.py``: URLs found, the pending queue on
disk, at most ``RFI_ARTICLE_WINDOW`` requests out at once, so that memory does
not grow with the queue and a rerun after a kill fetches first what was left) and
the mirror fallbacks (``mirrors/fallbacks.py``: entries waiting for the site's
answer).
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import date, timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, DownloadCancelledError, IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.settings import BaseSettings, get_settings_priority
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.job import job_dir
from scrapy.utils.misc import load_object
from twisted.python.failure import Failure

from rfi_spider.archive.failures import FailedArticles
from rfi_spider.archive.pipelines import ExportStopped, InvalidItem
from rfi_spider.archive.sitemap_listing import ListedUrl, SitemapListings
from rfi_spider.archive.state import STATE_FILE, PendingArticles, SeenStore, output_dirs
from rfi_spider.archive.warc_capture import WarcCapture
from rfi_spider.crawl import meta_keys
from rfi_spider.crawl.arguments import (
    ArgumentError,
    backfill_range,
    check_mirrors,
    check_names,
    http_url,
    switch,
)
from rfi_spider.crawl.canonical import (
    SITE_ROOT,
    FetchRoot,
    article_date,
    canonical_url,
    is_article_url,
)
from rfi_spider.crawl.distributed import SharedCrawl
from rfi_spider.crawl.distributed import enabled as distributed
from rfi_spider.crawl.jobdir import close_job, open_job
from rfi_spider.crawl.revisits import Revisits, is_revisit, validators
from rfi_spider.crawl.sitemaps import (
    INDEX_DEPTH,
    BadSitemapError,
    ChildMap,
    Entry,
    MapBudget,
    edition_maps,
    entries,
    is_news_map,
    month_key,
    parse_lastmod,
    read_entry,
    read_sitemap,
)
from rfi_spider.crawl.window import ArticleWindow
from rfi_spider.dates import now_iso, paris_day, today_in_paris
from rfi_spider.demo.localsite import LocalSite
from rfi_spider.demo.sample_site import EDITION_SECTIONS as SAMPLE_SECTIONS
from rfi_spider.demo.sample_site import MIRROR_FEEDS as SAMPLE_MIRROR_FEEDS
from rfi_spider.editions import CN, EDITIONS, Edition, edition_of
from rfi_spider.extract import selectors as sel
from rfi_spider.extract.listing import read_links
from rfi_spider.extract.processors import unique
from rfi_spider.extract.workers import PageExtractor, PageFacts, PageJob, extract_page, worker_count
from rfi_spider.fetch.middlewares import BLOCK_STATUSES, ChallengePage
from rfi_spider.fetch.warc_replay import (
    WARC_DATE_META,
    WarcReplayHandler,
    read_info,
    warc_paths,
)
from rfi_spider.items import ArticleItem
from rfi_spider.mirrors.entrypage import mirror_item
from rfi_spider.mirrors.fallbacks import MirrorFallbacks
from rfi_spider.mirrors.feeds import BadFeedError, read_feed
from rfi_spider.runtime import default_output_dir

logger = logging.getLogger(__name__)
# How many days back a Google News sitemap lists articles (two, by Google's rules).
NEWS_DAYS = 3


def _split_list(value: str | list[str] | None) -> list[str]:
    if isinstance(value, list):
        return [v.strip() for v in value if v.strip()]
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def may_be_site_link(href: str) -> bool:
    """A link worth classifying: an article's (a YYYYMMDD- date in it), one under an
    edition's prefix (/cn/, /tw/), or a relative one."""
    prefixes = "|".join(re.escape(key) for key in EDITIONS)
    pattern = rf"\d{{8}}-|/(?:{prefixes})/|^(?:%[0-9A-Fa-f]{{2}}|[^:/?#])+/"
    return re.search(pattern, href) is not None  # re caches the compiled pattern


def listing_links(response: TextResponse) -> list[str]:
    """The hrefs of a listing page, minus its sponsored and highlighted asides."""
    return read_links(response.body, response.encoding)


_DOCUMENT_END = re.compile(rb"</(?:body|html)\s*>", re.IGNORECASE)


def is_truncated(body: bytes) -> bool:
    """A page whose HTML stops before ``</body>`` or ``</html>``: cut short on the way."""
    return _DOCUMENT_END.search(body, max(0, len(body) - 65536)) is None


def failure_cause(failure: Failure) -> str:
    """A short name for why a request failed: the HTTP status, or the error's class.

    ``too_large``: over ``DOWNLOAD_MAXSIZE``, as sent or once decompressed (Scrapy
    cancels such a download, or ignores the response of a gzip bomb);
    ``too_many_redirects``: more than ``REDIRECT_MAX_TIMES``.
    """
    if failure.check(HttpError):
        return str(failure.value.response.status)
    if failure.check(DownloadCancelledError):
        return "too_large"  # Scrapy's HTTP handlers cancel a download only for its size
    if failure.check(IgnoreRequest):
        message = str(failure.value)
        if "DOWNLOAD_MAXSIZE" in message:
            return "too_large"
        if "max redirections" in message:
            return "too_many_redirects"
    return type(failure.value).__name__


@lru_cache(maxsize=8)
def exception_classes(names: tuple[str | type, ...]) -> tuple[type, ...]:
    """``RETRY_EXCEPTIONS``' classes, imported once (not at every failed request)."""
    return tuple(load_object(name) if isinstance(name, str) else name for name in names)


def attempt_cause(failure: Failure, settings: BaseSettings) -> str | None:
    """What an article request's failure is recorded with (``HTTP 404``, ``too_large``);
    None when it says nothing about the article: no answer (an exception of
    ``RETRY_EXCEPTIONS``: DNS, refused, timeout, connection lost), a block (403, 429, 503,
    a challenge page) or a 408. Such a failure is no attempt: fetched again next run."""
    network = exception_classes(tuple(settings.getlist("RETRY_EXCEPTIONS")))
    if failure.check(ChallengePage, *network):
        return None
    cause = failure_cause(failure)
    if cause.isdigit():
        return None if int(cause) in BLOCK_STATUSES | {408} else f"HTTP {cause}"
    return cause


class RfiCnSpider(scrapy.Spider):
    """Walks an edition's listings, feeds and (for backfill) the daily archive; parses
    its articles. ``edition``: /cn here; a subclass sets another (``RfiTwSpider``)."""

    name = "rfi_cn"
    edition: Edition = CN
    # The spider arguments (-a name=value) it takes: any other name is refused.
    ARGUMENTS = ("url", "since", "until", "base_url", "mirrors", "demo", "from_warc")

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        """Each edition exports to its own folder by default (``output``, ``output-tw``):
        unless ``RFI_OUTPUT_DIR`` is given (``-s``, or the environment)."""
        super().update_settings(settings)
        if (
            cls.edition.output_dir != "output"
            and not os.environ.get("RFI_OUTPUT_DIR")
            and settings.get("RFI_OUTPUT_DIR") == default_output_dir()
            and (settings.getpriority("RFI_OUTPUT_DIR") or 0) <= get_settings_priority("project")
        ):
            settings.set(
                "RFI_OUTPUT_DIR", default_output_dir(cls.edition.output_dir), priority="spider"
            )

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
        check_names(kwargs, self.ARGUMENTS)
        super().__init__(**kwargs)
        # The backfill's length is checked against RFI_MAX_BACKFILL_DAYS in from_crawler.
        self.since, self.until = backfill_range(since, until, today_in_paris(), 0)
        if base_url is not None:
            base_url = http_url("base_url", base_url, root=True)
        self.demo = switch("demo", demo)
        self.demo_site: LocalSite | None = None
        # from_warc= (empty) is an error, never a live crawl: None only means not given.
        self.from_warc = warc_paths(_split_list(from_warc)) if from_warc is not None else []
        self.base_url_arg = base_url
        if self.demo and not base_url and not self.from_warc:
            self.demo_site = LocalSite.sample()
            base_url = self.demo_site.start()
        self.site = FetchRoot(base_url)
        self.single_canonical = self.single_article(url) if url is not None else None
        self.mirrors_arg = mirrors
        self.allowed_domains = [self.site.fetch_host]
        self.fallbacks = MirrorFallbacks()  # mirror entries standing in for refused articles
        self.jobdir: str | None = None
        self.jobdir_queue_aside: Path | None = None

    def single_article(self, url: str) -> str:
        """The canonical URL of ``-a url=`` (see :meth:`article_argument`)."""
        return self.article_argument(url, self.site)

    @classmethod
    def article_argument(cls, url: str, site: FetchRoot) -> str:
        """The canonical URL of ``-a url=``; :class:`ArgumentError` unless it is an article
        of the edition (as a site URL, or under ``base_url``)."""
        site_url = site.to_site(http_url("url", url))
        canonical = canonical_url(site_url) if site_url else None
        if not canonical or not is_article_url(canonical, cls.edition):
            raise ArgumentError(
                f"-a url= is not an RFI {cls.edition.prefix} article URL: {url!r}"
                f" ({cls.name} crawls {SITE_ROOT}{cls.edition.home})"
            )
        return canonical

    @classmethod
    def check_arguments(cls, args: dict[str, str], settings: BaseSettings) -> None:
        """Raise :class:`ArgumentError` (one line) for a spider argument this spider cannot
        use; the project's ``crawl`` command calls it before the crawl starts."""
        check_names(args, cls.ARGUMENTS)
        switch("demo", args.get("demo"))
        backfill_range(
            args.get("since"),
            args.get("until"),
            today_in_paris(),
            cls.archive_days_limit(settings),
        )
        base_url = args.get("base_url")
        if base_url is not None:
            base_url = http_url("base_url", base_url, root=True)
        if args.get("url") is not None:
            cls.article_argument(args["url"], FetchRoot(base_url))
        if args.get("from_warc") is not None:
            warc_paths(_split_list(args["from_warc"]))
        if args.get("mirrors") is not None:
            check_mirrors(_split_list(args["mirrors"]))
        elif settings.get("RFI_MIRRORS") is not None:
            check_mirrors(_split_list(settings.getlist("RFI_MIRRORS")))

    @staticmethod
    def archive_days_limit(settings: BaseSettings) -> int:
        """The longest backfill: ``RFI_MAX_BACKFILL_DAYS`` when it walks the daily archive
        (one request a day); none through the sitemaps (one map a month)."""
        if settings.getbool("RFI_BACKFILL_ARCHIVE"):
            return settings.getint("RFI_MAX_BACKFILL_DAYS")
        return 0

    def edition_setting(self, name: str, default: Any) -> Any:
        """A where-to-start setting, or the edition's own value when it is unset (None)."""
        value = self.settings.get(name)
        return default if value is None else value

    def edition_list(self, name: str, default: Iterable[str]) -> list[str]:
        """A list setting, or the edition's list when it is unset; empty: none."""
        if self.settings.get(name) is None:
            return list(default)
        return _split_list(self.settings.getlist(name))

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> RfiCnSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        if spider.from_warc:
            spider.replay_from_warc(settings)
        elif spider.mirrors_arg is not None:
            spider.mirrors = _split_list(spider.mirrors_arg)
        elif spider.demo_site is not None:  # the demo never reaches a real host
            feeds = SAMPLE_MIRROR_FEEDS.get(spider.edition.key, [])
            spider.mirrors = [spider.demo_site.url + feed for feed in feeds]
        else:
            spider.mirrors = spider.edition_list("RFI_MIRRORS", spider.edition.mirrors)
        mirror_hosts = [urlsplit(mirror).hostname for mirror in check_mirrors(spider.mirrors)]
        # Mirrors pass the offsite filter as allowed domains, not with dont_filter.
        spider.allowed_domains = unique([*spider.allowed_domains, *mirror_hosts])
        if spider.demo_site is not None:
            # The demo site is ours, on loopback: no need to be slow with it.
            settings.set("DOWNLOAD_DELAY", 0, priority="spider")
            settings.set("AUTOTHROTTLE_ENABLED", False, priority="spider")
            sections = SAMPLE_SECTIONS.get(spider.edition.key, [])
            settings.set("RFI_SECTIONS", sections, priority="spider")
            logger.info("demo: serving the bundled sample site at %s", spider.site.base_url)
        if spider.since and spider.until:
            backfill_range(
                spider.since.isoformat(),
                spider.until.isoformat(),
                spider.until,
                spider.archive_days_limit(settings),
            )
        spider.jobdir = job_dir(settings)
        if spider.jobdir:  # before Scrapy opens the job's request queue
            spider.jobdir_queue_aside = open_job(spider.jobdir)
        _, state_dir = output_dirs(settings)
        spider.seen = SeenStore(
            state_dir / STATE_FILE,
            cache_kib=settings.getint("RFI_STATE_CACHE_KIB") or None,
            mmap_mib=settings.getint("RFI_STATE_MMAP_MIB"),
        )
        local_seen = spider.seen
        # -s REDIS_URL=...: the queue and the "exported" state are the crawl's, in Redis.
        shared = SharedCrawl.open(crawler, kwargs) if distributed(settings) else None
        if shared is not None:
            spider.seen = shared.seen(spider.seen)  # type: ignore[assignment]
        spider.pending = shared.pending if shared else PendingArticles(spider.seen, state_dir)
        spider.failures = FailedArticles(spider.seen, settings.getint("RFI_MAX_ATTEMPTS"))
        spider.window = (shared.window if shared else ArticleWindow)(
            spider.pending, spider.seen, settings.getint("RFI_ARTICLE_WINDOW")
        )
        # What the sitemaps list is recorded in this node's own state, under this run's id.
        spider.listings = SitemapListings(local_seen, uuid.uuid4().hex)
        spider.revisits = Revisits(local_seen, settings, lambda: crawler.stats)
        if shared is not None:
            shared.revisits(spider.revisits)
        spider.distributed = shared is not None
        spider.map_budget = MapBudget(settings.getint("RFI_SITEMAP_MAX_CHILDREN"))
        spider.url_length_limit = settings.getint("URLLENGTH_LIMIT")  # 0: no limit
        spider.extractor = PageExtractor(
            worker_count(settings.get("RFI_EXTRACT_WORKERS"), re_extracting=bool(spider.from_warc)),
            on_restart=lambda _: crawler.stats.inc_value("rfi/extract/worker_restarts"),
        )
        connect = crawler.signals.connect
        connect(spider.extractor.start, signal=signals.spider_opened)
        connect(spider.on_closed, signal=signals.spider_closed)
        connect(spider.on_idle, signal=signals.spider_idle)
        connect(spider.on_request_dropped, signal=signals.request_dropped)
        connect(spider.on_item_scraped, signal=signals.item_scraped)
        connect(spider.on_item_dropped, signal=signals.item_dropped)
        connect(spider.on_item_error, signal=signals.item_error)
        return spider

    def replay_from_warc(self, settings: BaseSettings) -> None:
        """``-a from_warc=``: every request answered from the archive, none from a network.

        The fetch root and the mirrors are those of the crawl that wrote the archive
        (its ``warcinfo``), unless ``-a base_url=`` or ``-a mirrors=`` say otherwise;
        no capture, no browser, no delays (nothing is fetched).
        """
        info = read_info(self.from_warc)
        if self.base_url_arg is None and info.base_url and info.base_url != SITE_ROOT:
            self.site = FetchRoot(info.base_url)
            self.allowed_domains = [self.site.fetch_host]
        if self.mirrors_arg is not None:
            self.mirrors = _split_list(self.mirrors_arg)
        else:
            self.mirrors = info.mirrors or []
        replay = "rfi_spider.fetch.warc_replay.WarcReplayHandler"
        handlers = dict.fromkeys(("http", "https", "ftp", "s3", "file", "data"), replay)
        for name, value in {
            "DOWNLOAD_HANDLERS": handlers,
            "RFI_WARC_REPLAY": [str(p) for p in self.from_warc],
            # Only the site's records (and the mirrors') answer: see WarcArchive.
            "RFI_WARC_REPLAY_SITE": self.site.base_url or SITE_ROOT,
            "RFI_WARC_REPLAY_HOSTS": [urlsplit(m).hostname or "" for m in self.mirrors],
            "RFI_WARC": False,
            "RFI_BROWSER_PATH": "",
            "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False,
            "RFI_BACKOFF_START": 0,
            "RFI_RETRY_AFTER_MAX": 0,
        }.items():
            settings.set(name, value, priority="spider")
        logger.info(
            "from_warc: re-extracting from %d WARC file(s), fetch root %s, no network",
            len(self.from_warc),
            self.site.base_url,
        )

    def crawled_at(self, response: Response) -> str:
        """When the page was fetched: its WARC record's date in ``from_warc``, else now."""
        request = response.request  # None for a response built by hand (tests, tools)
        return (request.meta.get(WARC_DATE_META) if request else None) or now_iso()

    def on_closed(self) -> None:
        """After the pipelines closed (everything exported is in the state): the run's
        sitemap figure, then the state closed. Before the summary (connected first)."""
        self.sitemap_coverage()
        self.extractor.close()
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
        for request in self.mirror_requests():
            yield request
        for request in self.next_articles():  # what an interrupted run left, first
            yield request
        skipped = 0
        for request in self.initial_requests():
            if self.from_warc and not self.archived(request.url):
                skipped += 1  # a start page this archive never fetched
                continue
            yield request
        if skipped:
            self.crawler.stats.set_value("rfi/warc/start_pages_not_archived", skipped)
            logger.info("from_warc: %d start page(s) not in the archive: skipped", skipped)
        if not (self.single_canonical or self.from_warc):
            for request in self.revisits.due(self.article_request):  # after the rest
                yield request

    def archived(self, url: str) -> bool:
        """``from_warc``: whether the archive answers ``url``."""
        return WarcReplayHandler.shared_archive(self.crawler).find(url) is not None

    def mirror_requests(self) -> Iterator[scrapy.Request]:
        """The feed mirrors, first and ahead of the rest: their entries are the fallbacks."""
        for url in self.mirrors:
            yield scrapy.Request(
                url,
                callback=self.parse_mirror,
                errback=self.on_mirror_error,
                # entries live in memory only: read again when a job resumes
                meta={
                    meta_keys.KIND: "mirror",
                    meta_keys.REFETCH: True,
                    "download_maxsize": self.settings.getint("RFI_MIRROR_MAX_BYTES"),
                },
                priority=20,
            )

    def initial_requests(self) -> Iterator[scrapy.Request]:
        """The requests a run starts from, by mode: one URL, backfill, or the listings."""
        if self.single_canonical:
            yield from self.article_requests([self.single_canonical])
            return
        sitemaps = self.settings.getbool("RFI_SITEMAPS")
        if self.since and self.until:
            if sitemaps:
                yield self.robots_request()
            if not self.settings.getbool("RFI_BACKFILL_ARCHIVE"):
                return
            day = self.since
            while day <= self.until:
                archive = self.edition_setting("RFI_ARCHIVE_URL", self.edition.archive_url)
                path = archive.format(year=day.year, month=day.month, day=day.day)
                yield self.listing_request(SITE_ROOT + path, depth=self.max_depth)
                day += timedelta(days=1)
            return
        home = self.edition_setting("RFI_HOME", self.edition.home)
        if home:
            yield self.listing_request(SITE_ROOT + home, depth=0)
        for section in self.edition_list("RFI_SECTIONS", self.edition.listings):
            yield self.listing_request(
                f"{SITE_ROOT}{self.edition.prefix}/{section.strip('/')}/", depth=0
            )
        for feed in self.edition_list("RFI_FEEDS", self.edition.feeds):
            yield scrapy.Request(
                self.site.to_fetch(SITE_ROOT + feed),
                callback=self.parse_feed,
                errback=self.on_error,
                meta={meta_keys.KIND: "feed", meta_keys.REFETCH: True},
                priority=10,
            )
        if sitemaps:
            yield self.robots_request()

    @property
    def max_depth(self) -> int:
        return self.settings.getint("RFI_LISTING_DEPTH")

    def listing_request(self, site_url: str, depth: int) -> scrapy.Request:
        # Listings are walked again when a job (JOBDIR) resumes: REFETCH.
        return scrapy.Request(
            self.site.to_fetch(site_url),
            callback=self.parse_listing,
            errback=self.on_error,
            meta={meta_keys.DEPTH: depth, meta_keys.KIND: "listing", meta_keys.REFETCH: True},
            priority=5,
        )

    def article_requests(self, urls: Iterable[str]) -> Iterator[scrapy.Request]:
        """Queue new article URLs (canonical), those already exported skipped; then
        the next requests of the queue, as many as the window has room for."""
        stats = self.crawler.stats
        new: list[str] = []
        for url in urls:
            if not self.window.first_sight(url):
                continue
            if not self.edition.owns(url):  # a twin in the other edition: never fetched
                stats.inc_value("rfi/skipped/other_edition")
                logger.debug("%s is not an article of %s: not followed", url, self.edition.home)
                continue
            stats.inc_value("rfi/articles/found")
            if not self.in_backfill_window(article_date(url), slack=1):
                stats.inc_value("rfi/skipped/out_of_range")
                continue
            if self.seen.probably_known(url):
                stats.inc_value("rfi/skipped/already_exported")
                continue
            if self.failures.gave_up(url):
                self.skip_given_up(url)
                continue
            new.append(url)
        self.window.queue(new)
        yield from self.next_articles()

    def next_articles(self) -> Iterator[scrapy.Request]:
        """Requests for queued articles while fewer than ``RFI_ARTICLE_WINDOW`` are out."""
        stats = self.crawler.stats
        for url, resumed in self.window.hand_out(
            self.in_run_scope,
            lambda: stats.inc_value("rfi/skipped/already_exported"),
            drop=self.left_given_up,
        ):
            yield self.article_request(url, resumed)

    def left_given_up(self, url: str) -> bool:
        """True (and counted once) for a queued article that failed too often: not requested."""
        if not self.failures.gave_up(url):
            return False
        if self.window.first_sight(url):
            self.skip_given_up(url)
        return True

    def article_request(self, url: str, resumed: bool = False) -> scrapy.Request:
        """The request of one article; one an interrupted run left goes first, and past
        the fingerprints that run left in a JOBDIR (REFETCH)."""
        return scrapy.Request(
            self.site.to_fetch(url),
            callback=self.on_article,
            errback=self.on_article_error,
            cb_kwargs={"site_url": url},
            meta={meta_keys.KIND: "article", meta_keys.REFETCH: resumed},
            priority=6 if resumed else 0,
        )

    async def on_article(self, response: Response, site_url: str) -> AsyncIterator[Any]:
        """:meth:`parse_article` on the page extracted by a worker process
        (``RFI_EXTRACT_WORKERS``, ``extract/workers.py``), then the next articles of the queue.

        Whatever the page makes the extraction raise (in a worker or not, a worker's
        death included), the article is finished: its failure is recorded with the cause
        (:meth:`article_failed`), and the crawl goes on.
        """
        produced = False
        try:
            facts = None
            if is_revisit(response) and self.revisits.fetched(response):  # a 304
                self.window.finished(site_url, False)
                return
            if isinstance(response, TextResponse):
                capture = WarcCapture.of(self.crawler)
                if capture is not None:  # hold downloads back while the WARC writer catches up
                    await capture.room()
                facts = await self.extractor.extract(self.page_job(response, site_url))
            for output in self.parse_article(response, site_url, facts):
                produced = True
                yield output
        except Exception as error:  # a page must never stop the crawl
            self.crawler.stats.inc_value("rfi/failed/article/extraction_error")
            logger.debug("extraction of %s failed", site_url, exc_info=True)
            self.article_failed(site_url, f"extraction error: {type(error).__name__}: {error}")
        self.window.finished(site_url, produced)
        for request in self.next_articles():
            yield request

    def skip_given_up(self, url: str) -> None:
        """Not requested: the article failed ``RFI_MAX_ATTEMPTS`` times (``rfi/gave_up``)."""
        self.crawler.stats.inc_value("rfi/gave_up")
        cause = self.failures.skipped(url)
        logger.info("%s not requested: given up after failing (last: %s)", url, cause)

    def article_failed(self, url: str, cause: str) -> None:
        """Record one failed attempt of an article, with its cause; a warning says what
        comes next: another try next run, or none (given up, ``rfi/gave_up``)."""
        failure = self.failures.record(url, cause)
        limit = self.failures.max_attempts
        if failure.attempts >= limit:
            self.crawler.stats.inc_value("rfi/gave_up")
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

    def on_item_scraped(self, item: Any) -> None:
        """An item was exported: its article is done, and its failures are history."""
        for url in self.item_done(item):
            self.failures.cleared(url)

    def on_item_dropped(self, item: Any, exception: BaseException) -> None:
        """An item a pipeline dropped: a duplicate is done; an invalid one failed. One a
        write error kept from being exported stays pending, for the next run."""
        if isinstance(exception, ExportStopped):
            if isinstance(item, ArticleItem):
                url = item.get("url")
                self.failures.keep_pending(url, self.window.aliases.get(url))
            return
        urls = self.item_done(item)
        if isinstance(exception, InvalidItem) and urls:
            self.article_failed(urls[-1], f"invalid item: {exception.details}")

    def on_item_error(self, item: Any, failure: Failure) -> None:
        """A pipeline raised on an item (not a drop): the article failed; the crawl goes on."""
        urls = self.item_done(item)
        if urls:
            error = failure.value
            self.crawler.stats.inc_value("rfi/failed/article/pipeline_error")
            self.article_failed(urls[-1], f"pipeline error: {type(error).__name__}: {error}")

    def item_done(self, item: Any) -> list[str]:
        """Take an item's article off the pending queue; returns its URLs (the item's,
        then the one requested when they differ), none for an item of no article."""
        if not (isinstance(item, ArticleItem) and item.get("url")):
            return []
        urls = [item["url"]]
        requested = self.window.aliases.get(item["url"])
        if requested:
            urls.append(requested)
        self.window.item_done(item["url"])
        return urls

    def on_request_dropped(self, request: scrapy.Request) -> None:
        """A request the scheduler refused: a redirect back to a page already asked for."""
        kind = request.meta.get(meta_keys.KIND)
        redirects = request.meta.get("redirect_urls")
        if kind == "article":
            self.window.finished(request.cb_kwargs["site_url"], produced_item=False)
        if redirects and kind:
            loop = request.url in redirects
            cause = "redirect_loop" if loop else "redirect_to_known_page"
            self.crawler.stats.inc_value(f"rfi/failed/{kind}/{cause}")
            logger.warning(
                "%s %s redirects %s %s",
                kind,
                redirects[0],
                "in a loop back to" if loop else "to a page already requested:",
                request.url,
            )

    def on_idle(self) -> None:
        """Nothing left in Scrapy: hand out more of the queue, or settle it and close."""
        self.window.idle()
        requests = list(self.next_articles())
        if requests:
            for request in requests:
                self.crawler.engine.crawl(request)
            raise DontCloseSpider
        unanswered = self.window.settle()
        for url in self.pending.unanswered():  # each such request is one failed attempt
            if self.failures.accounted_for(url):
                continue
            self.article_failed(url, "no answer (no response, no error)")
            if self.failures.gave_up(url):
                self.pending.done(url)
        self.pending.flush()
        if unanswered:
            self.crawler.stats.set_value("rfi/pending/unanswered", unanswered)
            logger.warning(
                "%d article request(s) ended without an answer (no response, no error):"
                " they stay in the pending queue, and the next run fetches them first",
                unanswered,
            )

    def in_run_scope(self, url: str) -> bool:
        """What this run fetches: its edition's; with ``-a url=``, that article; in a
        backfill, its range."""
        return (
            self.edition.owns(url)
            and self.in_scope(url)
            and self.in_backfill_window(article_date(url), slack=1)
        )

    def in_backfill_window(self, day: date | None, slack: int = 0) -> bool:
        if not (self.since and self.until) or day is None:
            return True
        margin = timedelta(days=slack)
        return self.since - margin <= day <= self.until + margin

    def on_error(self, failure: Failure) -> None:
        """A request that failed for good (after retries): log it and count it by cause."""
        request = failure.request  # type: ignore[attr-defined]
        kind = request.meta.get(meta_keys.KIND, "request")
        cause = failure_cause(failure)
        self.crawler.stats.inc_value(f"rfi/failed/{kind}/{cause}")
        logger.warning("could not fetch %s %s: %s", kind, request.url, cause)

    def on_article_error(self, failure: Failure) -> Iterator[Any]:
        """An article the site would not serve: its mirror entry, if any, stands in."""
        self.on_error(failure)
        request = failure.request  # type: ignore[attr-defined]
        site_url = request.cb_kwargs["site_url"]
        cause = attempt_cause(failure, self.settings)
        if cause and not self.fallbacks.is_waiting(site_url):  # no mirror copy: it failed
            self.article_failed(site_url, f"could not fetch: {cause}")
        produced = False
        for item in self.site_refused(site_url, failure_cause(failure)):
            produced = True
            yield item
        self.window.finished(site_url, produced)
        yield from self.next_articles()

    def on_mirror_error(self, failure: Failure) -> None:
        """An unreachable mirror costs a warning and a counter, never the crawl."""
        self.on_error(failure)
        self.crawler.stats.inc_value("rfi/mirror/unreachable")

    # --- listings and feeds --------------------------------------------------
    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value("rfi/dropped/not_html")
            logger.warning(
                "listing %s is not HTML (%s)", response.url, response.headers.get("Content-Type")
            )
            return
        depth = response.meta.get(meta_keys.DEPTH, 0)
        articles, listings = self.classify_links(response, listing_links(response))
        yield from self.article_requests(articles)
        if depth < self.max_depth:
            for listing in listings:
                yield self.listing_request(listing, depth=depth + 1)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value("rfi/feed/not_text")
            logger.warning("feed %s is not text", response.url)
            return
        root = scrapy.Selector(response, type="xml").root
        links = sel.FEED_LINKS(root) if root is not None else []
        if not links:
            self.crawler.stats.inc_value("rfi/feed/empty")
            logger.warning("feed %s has no item links", response.url)
        articles, _ = self.classify_links(response, (str(link) for link in links))
        yield from self.article_requests(articles)

    def classify_links(
        self, response: Response, hrefs: Iterable[str]
    ) -> tuple[list[str], list[str]]:
        """Split a page's links into article URLs and listing URLs (both site URLs)."""
        stats = self.crawler.stats
        articles: list[str] = []
        listings: list[str] = []
        for href in hrefs:
            href = href.strip()
            if not may_be_site_link(href):  # menus' hundreds of other links: no work
                continue
            try:
                absolute = response.urljoin(href)
            except ValueError:
                stats.inc_value("rfi/links/invalid")
                continue
            site_url = self.site.to_site(absolute)
            if site_url is None:
                stats.inc_value("rfi/links/offsite")
                continue
            canonical = canonical_url(site_url)
            if canonical and is_article_url(canonical):
                if 0 < self.url_length_limit < len(canonical):
                    stats.inc_value("rfi/links/too_long")
                    logger.warning(
                        "%s links to an article URL of %d characters (over URLLENGTH_LIMIT):"
                        " not followed",
                        response.url,
                        len(canonical),
                    )
                    continue
                articles.append(canonical)
            elif self.is_listing(site_url):
                listings.append(site_url)
        return articles, listings

    @cached_property
    def sections(self) -> frozenset[str]:
        listings = self.edition_list("RFI_SECTIONS", self.edition.listings)
        return frozenset(s.strip("/") for s in listings)

    def is_listing(self, site_url: str) -> bool:
        """The edition's section and column listings (never tag, author, video or podcast
        hubs, never another edition's)."""
        return self.edition.is_listing(site_url, self.sections)

    # --- sitemaps ------------------------------------------------------------
    def robots_request(self) -> scrapy.Request:
        """``robots.txt``: it names the edition's sitemaps (read again when a job resumes)."""
        return scrapy.Request(
            self.site.to_fetch(SITE_ROOT + "/robots.txt"),
            callback=self.parse_robots,
            errback=self.on_robots_error,
            meta={meta_keys.KIND: "robots", meta_keys.REFETCH: True},
            priority=15,
        )

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        """The edition's maps that ``robots.txt`` names; its declared ones if it names none."""
        maps = edition_maps(response.body, self.edition, self.site)
        if not maps:
            self.crawler.stats.inc_value("rfi/sitemap/not_in_robots")
            logger.info(
                "robots.txt names no sitemap of %s: reading its usual ones", self.edition.home
            )
        yield from self.sitemap_requests(maps)

    def on_robots_error(self, failure: Failure) -> Iterator[scrapy.Request]:
        """No ``robots.txt``: the edition's declared sitemaps."""
        self.on_error(failure)
        yield from self.sitemap_requests([])

    def sitemap_requests(self, maps: list[str]) -> Iterator[scrapy.Request]:
        """A plain run reads the news sitemap(s); a backfill, the index(es)."""
        if not maps:
            maps = [SITE_ROOT + self.edition.news_sitemap, SITE_ROOT + self.edition.sitemap_index]
        news = self.settings.getlist("RFI_SITEMAP_NEWS")
        if self.since and self.until:
            # The news map lists the last days, which a month's map may not list yet: a
            # backfill reaching them reads it too.
            recent = self.until >= today_in_paris() - timedelta(days=NEWS_DAYS)
            wanted = [url for url in maps if recent or not is_news_map(url, news)]
        else:
            wanted = [url for url in maps if is_news_map(url, news)]
        for url in wanted:
            yield self.sitemap_request(url, month=None)

    def sitemap_request(self, site_url: str, month: date | None, depth: int = 0) -> scrapy.Request:
        """A map to read; ``depth``: how many indexes led to it (0: robots.txt named it)."""
        return scrapy.Request(
            self.site.to_fetch(site_url),
            callback=self.parse_sitemap,
            errback=self.on_error,
            cb_kwargs={"site_url": site_url, "month": month, "depth": depth},
            meta={
                meta_keys.KIND: "sitemap",
                meta_keys.REFETCH: True,  # listings of URLs: read again when a job resumes
                "download_maxsize": self.settings.getint("RFI_SITEMAP_MAX_BYTES"),
            },
            priority=3,
        )

    def parse_sitemap(
        self, response: Response, site_url: str, month: date | None, depth: int = 0
    ) -> Iterator[scrapy.Request]:
        """A sitemap index (its children) or an URL set (its articles); a map that is not
        a sitemap, declares entities or is too large is refused (``rfi/sitemap/bad/...``),
        and so is an index listed by an index (``too_deep``: ``INDEX_DEPTH``)."""
        stats = self.crawler.stats
        try:
            sitemap = read_sitemap(response.body, self.settings.getint("RFI_SITEMAP_MAX_BYTES"))
        except BadSitemapError as error:
            stats.inc_value(f"rfi/sitemap/bad/{error.reason}")
            logger.warning("sitemap %s refused: %s", response.url, error)
            return
        if sitemap.type == "sitemapindex" and depth >= INDEX_DEPTH:
            stats.inc_value("rfi/sitemap/bad/too_deep")
            logger.warning(
                "sitemap %s refused: an index %d level(s) below robots.txt (at most %d)",
                response.url,
                depth,
                INDEX_DEPTH,
            )
            return
        stats.inc_value("rfi/sitemap/read")
        if sitemap.type == "sitemapindex":
            yield from self.sitemap_children(response.url, entries(sitemap), depth + 1)
        else:
            yield from self.sitemap_articles(response.url, site_url, month, entries(sitemap))

    def sitemap_children(
        self, map_url: str, children: Iterable[dict[str, str]], depth: int = 1
    ) -> Iterator[scrapy.Request]:
        """Request the index's article maps of the edition whose month meets the range,
        as many as the run's budget of maps allows (``RFI_SITEMAP_MAX_CHILDREN``)."""
        stats = self.crawler.stats
        contents = re.compile(self.settings.get("RFI_SITEMAP_CONTENTS"))
        refused = self.map_budget.refused
        skip = self.settings.getlist("RFI_SITEMAP_SKIP")
        folder = self.edition.sitemap_folder
        for child in children:
            loc = (child.get("loc") or "").strip()
            site_url = self.site.to_site(loc) if loc else None
            if site_url is None:  # not an URL, or another host's: never fetched
                stats.inc_value("rfi/sitemap/child/bad_loc")
                logger.warning(
                    "sitemap index %s: child %r is not a map of the site: skipped",
                    map_url,
                    loc[:200],
                )
                continue
            if not urlsplit(site_url).path.startswith(folder):  # another language's map
                stats.inc_value("rfi/sitemap/child/other_edition")
                continue
            try:
                lastmod = parse_lastmod(child.get("lastmod"))
            except ValueError:
                stats.inc_value("rfi/sitemap/child/bad_lastmod")
                logger.warning("sitemap index %s: child %s has a bad lastmod", map_url, site_url)
                continue
            found = ChildMap.classify(site_url, lastmod, contents, skip)
            if not found.articles:
                stats.inc_value("rfi/sitemap/child/not_articles")
                continue
            if not found.overlaps(self.since, self.until):
                stats.inc_value("rfi/sitemap/child/out_of_range")
                continue
            if not self.map_budget.take():
                stats.inc_value("rfi/sitemap/child/over_limit")
                continue
            if found.month is None:
                stats.inc_value("rfi/sitemap/child/undated")
            yield self.sitemap_request(site_url, found.month, depth)
        if self.map_budget.refused > refused:
            logger.warning(
                "sitemap index %s: %d article map(s) not read: a run reads at most %d"
                " (RFI_SITEMAP_MAX_CHILDREN)",
                map_url,
                self.map_budget.refused - refused,
                self.map_budget.limit,
            )

    def sitemap_articles(
        self,
        map_url: str,
        site_url: str,
        month: date | None,
        items: Iterable[dict[str, str]],
        batch: int = 500,
    ) -> Iterator[scrapy.Request]:
        """Queue an URL set's articles in scope (edition, range) and record them as listed."""
        stats = self.crawler.stats
        recorded = 0
        listed: list[ListedUrl] = []
        found: list[str] = []
        edited: list[tuple[str, Any]] = []  # (url, lastmod): revisited if archived before it
        skipped: dict[str, int] = {}
        for raw in items:
            entry = read_entry(raw, self.site)
            if isinstance(entry, str):
                skipped[entry] = skipped.get(entry, 0) + 1
                stats.inc_value(f"rfi/sitemap/entry/{entry}")
                continue
            if not self.edition.owns(entry.url):
                stats.inc_value("rfi/sitemap/entry/other_edition")
                continue
            if not self.may_be_in_range(entry):
                stats.inc_value("rfi/sitemap/entry/out_of_range")
                continue
            stats.inc_value("rfi/sitemap/entries")
            listed.append(ListedUrl(entry.url, month_key(entry.day), entry.lastmod))
            found.append(entry.url)
            edited.append((entry.url, entry.modified))
            if len(found) >= batch:  # a batch at a time: a map's entries are never all held
                recorded += self.listings.add(site_url, listed)
                listed = []
                yield from self.article_requests(found)
                found = []
                if not self.from_warc:
                    yield from self.revisits.from_sitemap(edited, self.article_request)
                edited = []
        if skipped:
            logger.warning(
                "sitemap %s: entries skipped: %s",
                map_url,
                ", ".join(f"{reason} {count}" for reason, count in sorted(skipped.items())),
            )
        recorded += self.listings.add(site_url, listed)
        self.listings.map_read(site_url, month_key(month) if month else None, recorded)
        yield from self.article_requests(found)
        if not self.from_warc:
            yield from self.revisits.from_sitemap(edited, self.article_request)

    def may_be_in_range(self, entry: Entry) -> bool:
        """Whether a listed article may have been published (Paris time) in the backfill
        range, so that it is fetched (and then judged on its page's date).

        An article is published on its URL's day or later (the URL's day is its creation
        day, in Paris or in UTC, never after the Paris day of publication): one dated after
        the range is out of it. One dated before it is fetched only when its ``lastmod``
        (never before publication) falls in or after the range: modified since, it may have
        been published since.
        """
        if not (self.since and self.until) or self.since <= entry.day <= self.until:
            return True
        if entry.day > self.until or entry.modified is None:
            return False
        return paris_day(entry.modified) >= self.since

    def sitemap_coverage(self) -> None:
        """The run's figure (stats, log): articles its sitemaps listed, archived, missing.

        Not in a distributed crawl: the other nodes export part of what this one listed,
        and ``scrapy qa`` over every node's folder gives the figure of the union.
        """
        if self.distributed:
            logger.info(
                "sitemap coverage of a distributed crawl: scrapy qa over every node's folder"
            )
            return
        coverage = self.listings.run_coverage()
        if not coverage.listed:
            return
        stats = self.crawler.stats
        stats.set_value("rfi/sitemap/listed", coverage.listed)
        stats.set_value("rfi/sitemap/archived", coverage.archived)
        stats.set_value("rfi/sitemap/missing", coverage.missing_count)
        if coverage.missing_count:
            logger.warning(
                "sitemaps listed %d article(s) in scope; %d not in the archive: %s%s",
                coverage.listed,
                coverage.missing_count,
                ", ".join(coverage.missing),
                " ..." if coverage.missing_count > len(coverage.missing) else "",
            )

    # --- articles ------------------------------------------------------------
    def page_job(self, response: TextResponse, site_url: str) -> PageJob:
        """What the extraction of an article page needs; the item's URL is the one fetched
        (requested, or the site's redirect target)."""
        fetched_as = self.site.to_site(response.url) or site_url
        return PageJob(response.body, response.encoding, fetched_as, self.crawled_at(response))

    def parse_article(
        self, response: Response, site_url: str, facts: PageFacts | None = None
    ) -> Iterator[ArticleItem]:
        """The article of a page, or why there is none; ``facts``: the page extracted
        already (by a worker), else it is extracted here."""
        stats = self.crawler.stats
        stats.inc_value("rfi/articles/fetched")
        if not isinstance(response, TextResponse):
            yield from self.not_article(response, site_url, "not_html")
            return
        if facts is None:
            facts = extract_page(self.page_job(response, site_url))
        if facts.fields is None:
            yield from self.not_article(response, site_url, facts.not_article or "empty_body")
            return
        if is_truncated(response.body):  # half an article is not the article
            yield from self.not_article(response, site_url, "truncated")
            return
        item = ArticleItem(facts.fields)
        if is_revisit(response):
            item["revisit"] = True
        if any(found := validators(response)):
            item["validators"] = found
        if facts.json_ld_errors:
            stats.inc_value("rfi/page/bad_json_ld")
            logger.warning("%s: JSON-LD that does not parse was ignored", site_url)
        reason = self.missing(item)
        if reason:  # a 200 page that is not the article: the mirror's copy, if any
            yield from self.not_article(response, site_url, reason)
            return
        self.check_claims(facts.claimed_urls, item["url"])
        if edition_of(item["url"]) != self.edition:  # redirected to a twin
            yield from self.refuse(response, site_url, "other_edition")
            return
        self.fallbacks.site_served(site_url)  # the site's version wins
        if self.in_range(item):
            self.fallbacks.deliver(site_url, item["url"])
            self.window.item_for(site_url, item["url"])  # its queue entry is done with the item
            yield item

    def in_range(self, item: ArticleItem) -> bool:
        """False (counted, logged) for an article published outside the backfill range."""
        published_day = paris_day(item["published_at"])
        if self.in_backfill_window(published_day):
            return True
        self.crawler.stats.inc_value("rfi/skipped/out_of_range")
        logger.info("%s published %s, outside the backfill range", item["url"], published_day)
        self.listings.unlist(item["url"])  # a sitemap may list it by its URL's day
        return False

    @staticmethod
    def missing(item: ArticleItem) -> str | None:
        """Why a parsed page is not an article, or None when it is one."""
        if not item.get("title"):
            return "no_title"
        if not item.get("paragraphs"):
            return "no_paragraphs"
        if not item.get("published_at"):
            return "no_date"
        if not item.get("url"):
            return "no_url"
        return None

    def check_claims(self, claimed_urls: Iterable[tuple[str, str]], url: str) -> None:
        """Log and count (``rfi/page/canonical_mismatch``) a canonical link or ``og:url``
        naming another URL than ``url``, the one fetched: a page cannot take another
        article's place. Spellings of the same URL (http, old host, encoding) agree."""
        for name, claimed in claimed_urls:
            if canonical_url(urljoin(url, claimed)) == url:
                continue
            self.crawler.stats.inc_value("rfi/page/canonical_mismatch")
            logger.warning(
                "%s: its %s names another URL, %s: ignored, the article is kept under the"
                " URL fetched",
                url,
                name,
                claimed[:300],
            )

    def not_article(self, response: Response, site_url: str, reason: str) -> Iterator[Any]:
        """A page that gives no article (``rfi/dropped/<reason>``): its mirror copy stands
        in if there is one; otherwise the article failed (recorded, tried again later)."""
        if not self.fallbacks.is_waiting(site_url):
            self.article_failed(site_url, f"not an article: {reason}")
        yield from self.refuse(response, site_url, reason)

    def refuse(self, response: Response, site_url: str, reason: str) -> Iterator[ArticleItem]:
        """A page that is not the article: dropped (counted, logged); its mirror copy, if
        any, stands in."""
        self.crawler.stats.inc_value(f"rfi/dropped/{reason}")
        logger.warning("dropped %s: %s (status %d)", response.url, reason, response.status)
        yield from self.site_refused(site_url, reason)

    # --- feed mirrors --------------------------------------------------------
    def parse_mirror(self, response: Response) -> Iterator[Any]:
        """A mirror's feed: each good entry becomes the fallback of its article.

        The site's article is still requested (the site's version wins); an entry
        already exported, this run or earlier, is skipped without a request.
        """
        stats = self.crawler.stats
        try:
            feed = read_feed(
                response.body, response.url, self.settings.getint("RFI_MIRROR_MAX_ENTRIES")
            )
        except BadFeedError as exc:
            stats.inc_value("rfi/mirror/bad_feed")
            logger.warning("mirror feed %s refused: %s", response.url, exc)
            return
        if feed.capped:
            stats.inc_value("rfi/mirror/entries_capped", feed.capped)
            logger.warning(
                "mirror feed %s: %d entries past RFI_MIRROR_MAX_ENTRIES (%d) not read",
                response.url,
                feed.capped,
                self.settings.getint("RFI_MIRROR_MAX_ENTRIES"),
            )
        if not feed.entries and not feed.problems:
            stats.inc_value("rfi/mirror/empty")
            logger.warning("mirror feed %s has no entries", response.url)
        for link in feed.sanitized:
            stats.inc_value("rfi/mirror/sanitized")
            logger.warning(
                "mirror feed %s: entry %s held scripts, frames, forms or event handlers: removed",
                response.url,
                link,
            )
        crawled_at = self.crawled_at(response)
        for problem in feed.problems:
            self.bad_entry(response.url, problem.reason, problem.where)
            if problem.url and self.in_scope(problem.url):  # the link is good: ask the site
                yield from self.article_requests([problem.url])
        for entry in feed.entries:
            item = mirror_item(entry, crawled_at)
            reason = self.missing(item)
            if reason:
                self.bad_entry(response.url, reason, entry.link)
                if self.in_scope(entry.url):
                    yield from self.article_requests([entry.url])
                continue
            stats.inc_value("rfi/mirror/entries")
            yield from self.use_entry(item)

    def bad_entry(self, feed_url: str, reason: str, where: str) -> None:
        self.crawler.stats.inc_value(f"rfi/mirror/bad_entry/{reason}")
        logger.warning("mirror feed %s: entry %s skipped: %s", feed_url, where, reason)

    def in_scope(self, url: str) -> bool:
        """With ``-a url=``, a mirror only stands in for that one article."""
        return self.single_canonical is None or url == self.single_canonical

    def use_entry(self, item: ArticleItem) -> Iterator[Any]:
        """Keep a mirror item as its article's fallback and ask the site for the article."""
        stats = self.crawler.stats
        url = item["url"]
        if not self.edition.owns(url):  # the other edition's copy: never exported here
            stats.inc_value("rfi/mirror/skipped/other_edition")
            return
        if not self.in_scope(url):
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
            yield from self.fall_back(item, cause)
            return
        yield from self.article_requests([url])

    def site_refused(self, url: str, cause: str) -> Iterator[ArticleItem]:
        """The site did not give the article: use its mirror entry, now or when it comes."""
        item = self.fallbacks.site_refused(url, cause)
        if item is not None:
            yield from self.fall_back(item, cause)

    def fall_back(self, item: ArticleItem, cause: str) -> Iterator[ArticleItem]:
        if not self.in_range(item):
            return
        self.crawler.stats.inc_value(f"rfi/mirror/fallback/{cause}")
        logger.info(
            "%s: the site gave %s; exporting the copy of %s", item["url"], cause, item["source"]
        )
        self.fallbacks.deliver(item["url"])
        yield item
