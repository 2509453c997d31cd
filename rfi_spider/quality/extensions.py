"""Extensions: the end-of-crawl summary (one block in the log), and a count of articles
exported twice for the monitors (``monitors.py``, run by Spidermon)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from itemadapter import ItemAdapter
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from rfi_spider.crawl.failure_book import FailureBook
from rfi_spider.quality.qa.report import visible
from rfi_spider.urlset import UrlSet

logger = logging.getLogger(__name__)


# The summary names this many given-up articles, then says how many more there are.
GIVEN_UP_SHOWN = 20


class _Counts:
    """The crawl's stats as the summary reads them: integers only, by key or by prefix."""

    def __init__(self, stats: Mapping[str, object]) -> None:
        self.stats = stats

    def __call__(self, key: str) -> int:
        value = self.stats.get(key, 0)
        return value if isinstance(value, int) else 0

    def by_prefix(self, prefix: str) -> list[tuple[str, int]]:
        return sorted(
            (key[len(prefix) :], value)
            for key, value in self.stats.items()
            if key.startswith(prefix) and isinstance(value, int)
        )


def summary_lines(
    stats: dict[str, object],
    reason: str,
    spider_name: str,
    given_up: Mapping[str, str] | None = None,
) -> list[str]:
    """The summary as lines: found, exported, duplicates, skipped and dropped by reason;
    ``given_up``: the articles given up in this run or found given up (URL -> last cause),
    named with their cause, at most :data:`GIVEN_UP_SHOWN` of them."""
    count = _Counts(stats)
    return [
        *_exported_lines(count, reason, spider_name),
        *_source_lines(count),
        *_failure_lines(count, given_up),
    ]


def _exported_lines(count: _Counts, reason: str, spider_name: str) -> list[str]:
    """Found, fetched, exported (by source), duplicates, skipped and dropped by reason."""
    by_prefix = count.by_prefix
    lines = [
        f"{spider_name} crawl summary ({reason})",
        f"  articles found:            {count('rfi/articles/found')}",
        f"  articles fetched:          {count('rfi/articles/fetched')}",
        f"  exported:                  {count('rfi/exported')}",
        f"  duplicates (not exported): {count('rfi/duplicates')}",
        f"  skipped, already exported: {count('rfi/skipped/already_exported')}",
    ]
    for source, value in by_prefix("rfi/exported/source/"):
        lines.append(f"  exported from {source}: {value}")
    for key, value in by_prefix("rfi/skipped/"):
        if key != "already_exported":
            lines.append(f"  skipped, {key}: {value}")
    dropped = by_prefix("rfi/dropped/")
    lines.append(f"  dropped: {sum(v for _, v in dropped)}")
    lines.extend(f"    {key}: {value}" for key, value in dropped)
    return lines


def _source_lines(count: _Counts) -> list[str]:
    """The sitemaps, the revisits, the feed mirrors, blocked answers and the browser
    fallback: a line each, when they had anything to count."""
    by_prefix = count.by_prefix
    lines: list[str] = []
    if count("rfi/sitemap/listed"):
        lines.append(
            f"  sitemaps: {count('rfi/sitemap/listed')} articles listed in scope,"
            f" {count('rfi/sitemap/archived')} archived, {count('rfi/sitemap/missing')} missing"
        )
    if count("rfi/revisits/scheduled") or count("rfi/revisits/over_budget"):
        over = count("rfi/revisits/over_budget")
        lines.append(
            f"  revisited: {count('rfi/revisits/checked')} checked again,"
            f" {count('rfi/revisits/not_modified')} not modified,"
            f" {count('rfi/versions/unchanged')} unchanged,"
            f" {count('rfi/versions/changed')} changed"
            + (f" ({over} left for a later run: RFI_REVISIT_MAX)" if over else "")
        )
    refused = by_prefix("rfi/sitemap/bad/")
    if refused:
        lines.append("  sitemaps refused: " + ", ".join(f"{k} {v}" for k, v in refused))
    mirror = by_prefix("rfi/mirror/")
    if mirror:
        lines.append("  feed mirrors:")
        lines.extend(f"    {key}: {value}" for key, value in mirror)
    blocked = by_prefix("rfi/blocked/")
    if blocked:
        lines.append("  blocked answers: " + ", ".join(f"{k} {v}" for k, v in blocked))
    if count("rfi/browser/requests") or count("rfi/browser/unavailable"):
        lines.append(
            f"  browser fallback: {count('rfi/browser/succeeded')} fetched"
            f" ({count('rfi/browser/succeeded/article')} articles,"
            f" {count('rfi/browser/succeeded/listing')} listings),"
            f" {count('rfi/browser/failed')} failed,"
            f" {count('rfi/browser/unavailable')} without a browser"
        )
    return lines


def _failure_lines(count: _Counts, given_up: Mapping[str, str] | None) -> list[str]:
    """Failed requests, the articles given up, errors logged, a hint when nothing could be
    fetched at all, and the peak memory."""
    by_prefix = count.by_prefix
    lines: list[str] = []
    failed = by_prefix("rfi/failed/")
    if failed:
        lines.append(f"  requests failed: {sum(v for _, v in failed)}")
        lines.extend(f"    {key}: {value}" for key, value in failed)
    if given_up:
        lines.append(
            f"  given up (failed RFI_MAX_ATTEMPTS times, not requested again): {len(given_up)}"
        )
        shown = sorted(given_up.items())[:GIVEN_UP_SHOWN]
        lines.extend(f"    {visible(url)}  (last: {visible(cause)})" for url, cause in shown)
        if len(given_up) > len(shown):
            lines.append(f"    ... and {len(given_up) - len(shown)} more")
    errors = count("log_count/ERROR")
    if errors:
        lines.append(f"  errors logged: {errors}")
    if failed and not count("response_received_count"):
        lines.append(
            "  nothing could be fetched at all: is the network up (rfi.fr is blocked in some"
            " countries), or is base_url right?"
        )
    if count("rfi/memory/peak_rss_mb"):
        lines.append(f"  peak memory (RSS): {count('rfi/memory/peak_rss_mb')} MB")
    return lines


def peak_rss_mb() -> int | None:
    """This process's peak resident memory (Linux ``VmHWM``), in MB; None elsewhere.

    ``VmHWM`` is the process's own high-water mark; ``ru_maxrss`` (what Scrapy's
    MemoryUsage extension reads) also carries the memory of the process that
    started this one, before ``exec``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024)
    except OSError:
        return None
    return None


class CrawlSummary:
    """Logs :func:`summary_lines` at the end of every crawl."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlSummary:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self, spider: Spider, reason: str) -> None:
        peak = peak_rss_mb()
        if peak is not None:
            self.stats.set_value("rfi/memory/peak_rss_mb", peak)
        book = self.crawler.get_extension(FailureBook)
        given_up = book.given_up_now if book is not None else None
        lines = summary_lines(self.stats.get_stats(), reason, spider.name, given_up)
        logger.info("\n".join(lines))


class ExportedOnce:
    """Counts, in ``rfi/exported/twice``, the items of this run whose canonical URL an
    earlier item of the run already had (exported means scraped: past every pipeline),
    for the "items" monitor. It keeps 8 to 16 bytes a URL (:class:`UrlSet`)."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats
        self.urls = UrlSet()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExportedOnce:
        extension = cls(crawler.stats)
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
        return extension

    def item_scraped(self, item: Any) -> None:
        url = ItemAdapter(item).get("url")
        if not isinstance(url, str):
            return
        if url in self.urls:
            self.stats.inc_value("rfi/exported/twice")
            logger.error("%s exported a second time in this run", url)
            return
        self.urls.add(url)
