"""What every source has: the run's context, and the shape of what a source finds.

A source (``listings.py``, ``rss.py``, ``sitemaps.py``, ``mirrors.py``) is a small class:
its start requests (:meth:`Source.start`) and the reading of its responses
(:meth:`Source.parse`) into what it found: article URLs (``str``, canonical site URLs,
for the frontier), further requests of its own, or a mirror's copy standing in for an
article the site refused (an item). Sources never request an article themselves
and never see the spider: the spider hands each response to its source (its one
``parse_source`` callback, which ``Request.to_dict`` can keep under JOBDIR and
scrapy-redis) and the article URLs to the frontier.

An edition declares its sources as data (``Edition.sources``, :class:`~rfi_spider.
editions.SourceSpec`); each kind is the class here whose ``kind`` it names (a subclass
registers itself in :data:`KINDS`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector
from twisted.python.failure import Failure

from rfi_spider import meta_keys
from rfi_spider.archive.sitemap_listing import SitemapListings
from rfi_spider.canonical import FetchRoot, canonical_url, is_article_url
from rfi_spider.config import RfiSettings
from rfi_spider.crawl.revisits import Revisits
from rfi_spider.crawl.scope import Scope
from rfi_spider.dates import now_iso, paris_day
from rfi_spider.editions import EDITIONS, Edition, SourceSpec
from rfi_spider.fetch.warc_replay import WARC_DATE_META
from rfi_spider.items import ArticleItem

logger = logging.getLogger(__name__)


# What a source finds: article URLs, its own further requests, mirror copies (items).
Found = str | scrapy.Request | ArticleItem


def may_be_site_link(href: str) -> bool:
    """A link worth classifying: an article's (a YYYYMMDD- date in it), one under an
    edition's prefix (/cn/, /tw/), or a relative one."""
    prefixes = "|".join(re.escape(key) for key in EDITIONS)
    pattern = rf"\d{{8}}-|/(?:{prefixes})/|^(?:%[0-9A-Fa-f]{{2}}|[^:/?#])+/"
    return re.search(pattern, href) is not None  # re caches the compiled pattern


# A root-relative link ``urljoin`` returns as the base's origin followed by the link
# itself: non-empty segments (no "//"), none starting with a dot (no "." or ".."), no
# query, fragment or ";" (urllib splits them off and drops them when empty), no white
# space or control character (urllib strips or removes them).
_PLAIN_ROOT_RELATIVE = re.compile(r"(?:/[^/.?#;\\\x00-\x20\x7f][^/?#;\\\x00-\x20\x7f]*)+/?|/")


def joiner(response: Response) -> Callable[[str], str]:
    """``response.urljoin``, without urllib's parse for the links most pages hold: a plain
    root-relative one (:data:`_PLAIN_ROOT_RELATIVE`) is the origin of the page's base
    URL (``response.urljoin("/")``, which honours ``<base href>``) and the link, the same
    string ``urljoin`` makes (about 5 µs a link; a listing holds hundreds, issue 26)."""
    origin = response.urljoin("/")[:-1]
    if not origin.startswith(("http://", "https://")) or "/" in origin[8:]:
        return response.urljoin

    def join(href: str) -> str:
        if _PLAIN_ROOT_RELATIVE.fullmatch(href):
            return origin + href
        return response.urljoin(href)

    return join


@dataclass
class Context:
    """What the sources of one run share: the crawler (stats, settings: ``config``), the
    edition, the fetch root, the scope, the sitemaps' record of what they list, and the spider's two
    source callbacks (requests keep them by name under JOBDIR)."""

    crawler: Crawler
    edition: Edition
    site: FetchRoot
    scope: Scope
    listings: SitemapListings
    callback: Callable[..., Any]
    errback: Callable[[Failure], Any]
    distributed: bool = False  # several processes on one crawl (crawl/distributed.py)
    # Revisits of archived articles a sitemap dates later (crawl/revisits.py); None: none.
    revisits: Revisits | None = None

    @property
    def stats(self) -> StatsCollector:
        return self.crawler.stats

    @property
    def config(self) -> RfiSettings:
        """The run's ``RFI_*`` settings (the edition's defaults: its ``*_of`` methods)."""
        return RfiSettings.of(self.crawler)

    def request(
        self,
        url: str,
        source: Source,
        kind: str,
        priority: int,
        meta: dict[str, Any] | None = None,
        cb_kwargs: dict[str, Any] | None = None,
    ) -> scrapy.Request:
        """A request of ``source`` for ``url`` (as fetched). Read again when a job resumes
        (REFETCH): what a source lists lives in memory only."""
        return scrapy.Request(
            url,
            callback=self.callback,
            errback=self.errback,
            cb_kwargs=cb_kwargs or {},
            meta={meta_keys.KIND: kind, meta_keys.SOURCE: source.kind, meta_keys.REFETCH: True}
            | (meta or {}),
            priority=priority,
        )

    def crawled_at(self, response: Response) -> str:
        """When the page was fetched: its WARC record's date in ``from_warc``, else now."""
        request = response.request  # None for a response built by hand (tests, tools)
        return (request.meta.get(WARC_DATE_META) if request else None) or now_iso()

    def out_of_range(self, item: ArticleItem) -> None:
        """An article (the site's or a mirror's) published outside the backfill range:
        counted, logged, not exported."""
        self.stats.inc_value("rfi/skipped/out_of_range")
        published_day = paris_day(item["published_at"])
        logger.info("%s published %s, outside the backfill range", item["url"], published_day)
        self.listings.unlist(item["url"])  # a sitemap may list it by its URL's day

    def article_links(
        self, response: Response, hrefs: Iterable[str], is_listing: Callable[[str], bool]
    ) -> tuple[list[str], list[str]]:
        """Split a page's links into article URLs (canonical) and listing URLs (site URLs,
        those ``is_listing`` accepts)."""
        stats = self.stats
        limit = self.crawler.settings.getint("URLLENGTH_LIMIT")  # 0: no limit
        articles: list[str] = []
        listings: list[str] = []
        join = joiner(response)
        for href in hrefs:
            href = href.strip()
            if not may_be_site_link(href):  # menus' hundreds of other links: no work
                continue
            try:
                absolute = join(href)
            except ValueError:
                stats.inc_value("rfi/links/invalid")
                continue
            site_url = self.site.to_site(absolute)
            if site_url is None:
                stats.inc_value("rfi/links/offsite")
                continue
            canonical = canonical_url(site_url)
            if canonical and is_article_url(canonical):
                if 0 < limit < len(canonical):
                    stats.inc_value("rfi/links/too_long")
                    logger.warning(
                        "%s links to an article URL of %d characters (over URLLENGTH_LIMIT):"
                        " not followed",
                        response.url,
                        len(canonical),
                    )
                    continue
                articles.append(canonical)
            elif is_listing(site_url):
                listings.append(site_url)
        return articles, listings


class Source:
    """One kind of source of article URLs; ``specs``: the edition's declarations of it."""

    kind: ClassVar[str] = ""
    # Started before the article queue an interrupted run left (the mirrors' entries are
    # the fallbacks of articles that may be among them).
    first: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            KINDS[cls.kind] = cls

    def __init__(self, context: Context, specs: Iterable[SourceSpec]) -> None:
        self.context = context
        self.specs = tuple(specs)

    @property
    def stats(self) -> StatsCollector:
        return self.context.stats

    def start(self) -> Iterator[scrapy.Request]:
        """The requests this source starts from, in this run's mode."""
        return iter(())

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Found]:
        """What one of this source's responses gives."""
        return iter(())

    def failed(self, failure: Failure) -> Iterator[Found]:
        """One of this source's requests failed for good (already logged and counted)."""
        return iter(())

    def close(self) -> None:
        """The run is over (its state still open)."""


# kind -> class; filled by the subclasses (the package imports every module).
KINDS: dict[str, type[Source]] = {}
