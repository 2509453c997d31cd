"""``scrapy crawl rfi_cn``: RFI's Chinese site, from listings and feeds to articles.

Arguments (``-a name=value``):

- ``url=URL``: crawl exactly this one article.
- ``since=YYYY-MM-DD``, ``until=YYYY-MM-DD``: backfill from the daily archive,
  keeping only articles published (Paris time) in that range.
- ``base_url=http://host:port``: fetch every site URL from this root instead of
  https://www.rfi.fr; items keep their canonical https://www.rfi.fr URLs.
- ``mirrors=URL,URL``: full-text feed mirrors (empty: none).
- ``demo=1``: serve the bundled sample site on loopback and crawl it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from rfi_spider import selectors as sel
from rfi_spider.canonical import SITE_ROOT, SiteMap, article_date, canonical_url, is_article_url
from rfi_spider.items import ArticleItem
from rfi_spider.loaders import load_article
from rfi_spider.localsite import LocalSite
from rfi_spider.page import ArticlePage
from rfi_spider.processors import PARIS, iso_utc
from rfi_spider.state import SeenStore, output_dirs

logger = logging.getLogger(__name__)


def _parse_day(name: str, value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"-a {name}= takes a date as YYYY-MM-DD, not {value!r}") from None


def _split_list(value: str | list[str] | None) -> list[str]:
    if isinstance(value, list):
        return [v.strip() for v in value if v.strip()]
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def failure_cause(failure: Failure) -> str:
    """A short name for why a request failed: the HTTP status, or the error's class."""
    if failure.check(HttpError):
        return str(failure.value.response.status)
    return type(failure.value).__name__


class RfiCnSpider(scrapy.Spider):
    """Walks /cn listings, feeds and (for backfill) the daily archive; parses articles."""

    name = "rfi_cn"

    def __init__(
        self,
        url: str | None = None,
        since: str | None = None,
        until: str | None = None,
        base_url: str | None = None,
        mirrors: str | None = None,
        demo: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.single_url = url
        self.since = _parse_day("since", since)
        self.until = _parse_day("until", until)
        if self.until and not self.since:
            raise ValueError("-a until= needs -a since= as well")
        if self.since and not self.until:
            self.until = datetime.now(PARIS).date()
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since={self.since} is after until={self.until}")
        self.demo = str(demo or "").lower() in {"1", "true", "yes"}
        self.demo_site: LocalSite | None = None
        if self.demo and not base_url:
            self.demo_site = LocalSite.sample()
            base_url = self.demo_site.start()
        self.site = SiteMap(base_url)
        self.mirrors_arg = mirrors
        self.found: set[str] = set()
        self.allowed_domains = [self.site.fetch_host]

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> RfiCnSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.mirrors = (
            _split_list(spider.mirrors_arg)
            if spider.mirrors_arg is not None
            else _split_list(settings.getlist("RFI_MIRRORS"))
        )
        if spider.demo_site is not None:
            # The demo site is ours, on loopback: no need to be slow with it.
            settings.set("DOWNLOAD_DELAY", 0, priority="spider")
            settings.set("AUTOTHROTTLE_ENABLED", False, priority="spider")
            logger.info("demo: serving the bundled sample site at %s", spider.site.base_url)
        if spider.since and spider.until:
            days = (spider.until - spider.since).days + 1
            if days > settings.getint("RFI_MAX_BACKFILL_DAYS"):
                raise ValueError(
                    f"backfill of {days} days is over RFI_MAX_BACKFILL_DAYS; raise the setting"
                )
        _, state_dir = output_dirs(settings)
        spider.seen = SeenStore(state_dir / "seen.sqlite3")
        crawler.signals.connect(spider.on_closed, signal=signals.spider_closed)
        return spider

    def on_closed(self) -> None:
        self.seen.close()
        if self.demo_site is not None:
            self.demo_site.stop()

    # --- sources -------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.initial_requests():
            yield request

    def initial_requests(self) -> Iterator[scrapy.Request]:
        """The requests a run starts from, by mode: one URL, backfill, or the listings."""
        settings = self.settings
        if self.single_url:
            site_url = self.site.to_site(self.single_url)
            canonical = canonical_url(site_url) if site_url else None
            if not canonical or not is_article_url(canonical):
                raise ValueError(f"-a url= is not an RFI /cn article URL: {self.single_url!r}")
            yield from self.article_requests([canonical])
            return
        if self.since and self.until:
            day = self.since
            while day <= self.until:
                path = settings.get("RFI_ARCHIVE_URL").format(
                    year=day.year, month=day.month, day=day.day
                )
                yield self.listing_request(SITE_ROOT + path, depth=self.max_depth)
                day += timedelta(days=1)
            return
        yield self.listing_request(SITE_ROOT + settings.get("RFI_HOME"), depth=0)
        for section in settings.getlist("RFI_SECTIONS"):
            yield self.listing_request(f"{SITE_ROOT}/cn/{section.strip('/')}/", depth=0)
        for feed in settings.getlist("RFI_FEEDS"):
            yield scrapy.Request(
                self.site.to_fetch(SITE_ROOT + feed),
                callback=self.parse_feed,
                errback=self.on_error,
                meta={"rfi_kind": "feed"},
                priority=10,
            )

    @property
    def max_depth(self) -> int:
        return self.settings.getint("RFI_LISTING_DEPTH")

    def listing_request(self, site_url: str, depth: int) -> scrapy.Request:
        return scrapy.Request(
            self.site.to_fetch(site_url),
            callback=self.parse_listing,
            errback=self.on_error,
            meta={"rfi_depth": depth, "rfi_kind": "listing"},
            priority=5,
        )

    def article_requests(self, urls: Iterable[str]) -> Iterator[scrapy.Request]:
        """Requests for new article URLs (canonical); those already exported are skipped."""
        stats = self.crawler.stats
        for url in urls:
            if url in self.found:
                continue
            self.found.add(url)
            stats.inc_value("rfi/articles/found")
            if not self.in_backfill_window(article_date(url), slack=1):
                stats.inc_value("rfi/skipped/out_of_range")
                continue
            if url in self.seen:
                stats.inc_value("rfi/skipped/already_exported")
                continue
            yield scrapy.Request(
                self.site.to_fetch(url),
                callback=self.parse_article,
                errback=self.on_error,
                cb_kwargs={"site_url": url},
                meta={"rfi_kind": "article"},
            )

    def in_backfill_window(self, day: date | None, slack: int = 0) -> bool:
        if not (self.since and self.until) or day is None:
            return True
        margin = timedelta(days=slack)
        return self.since - margin <= day <= self.until + margin

    def on_error(self, failure: Failure) -> None:
        """A request that failed for good (after retries): log it and count it by cause."""
        request = failure.request  # type: ignore[attr-defined]
        kind = request.meta.get("rfi_kind", "request")
        cause = failure_cause(failure)
        self.crawler.stats.inc_value(f"rfi/failed/{kind}/{cause}")
        logger.warning("could not fetch %s %s: %s", kind, request.url, cause)

    # --- listings and feeds --------------------------------------------------
    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value("rfi/dropped/not_html")
            logger.warning(
                "listing %s is not HTML (%s)", response.url, response.headers.get("Content-Type")
            )
            return
        depth = response.meta.get("rfi_depth", 0)
        articles, listings = self.classify_links(
            response, sel.LISTING_LINKS(response.selector.root)
        )
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
            if not href or href.startswith("#"):
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
                articles.append(canonical)
            elif self.is_listing(site_url):
                listings.append(site_url)
        return articles, listings

    def is_listing(self, site_url: str) -> bool:
        """Section and column listings (never tag, author, video or podcast hubs)."""
        parts = urlsplit(site_url)
        if parts.query:
            return False
        path = unquote(parts.path).strip("/")
        sections = {s.strip("/") for s in self.settings.getlist("RFI_SECTIONS")}
        return path.startswith("cn/") and (
            path[3:] in sections or (path.startswith("cn/专栏检索/") and path.count("/") == 2)
        )

    # --- articles ------------------------------------------------------------
    def parse_article(self, response: Response, site_url: str) -> Iterator[ArticleItem]:
        stats = self.crawler.stats
        stats.inc_value("rfi/articles/fetched")
        if not isinstance(response, TextResponse):
            yield from self.drop(response, "not_html")
            return
        fetched_as = self.site.to_site(response.url) or site_url
        page = ArticlePage(response.selector.root, fetched_as)
        item = load_article(page, crawled_at=iso_utc(datetime.now(UTC)))
        if page.json_ld_errors:
            stats.inc_value("rfi/page/bad_json_ld")
            logger.warning("%s: JSON-LD that does not parse was ignored", site_url)
        reason = self.missing(item)
        if reason:
            yield from self.drop(response, reason)
            return
        published_day = datetime.fromisoformat(item["published_at"]).astimezone(PARIS).date()
        if not self.in_backfill_window(published_day):
            stats.inc_value("rfi/skipped/out_of_range")
            logger.info("%s published %s, outside the backfill range", item["url"], published_day)
            return
        yield item

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

    def drop(self, response: Response, reason: str) -> Iterator[Any]:
        self.crawler.stats.inc_value(f"rfi/dropped/{reason}")
        logger.warning("dropped %s: %s (status %d)", response.url, reason, response.status)
        return iter(())
