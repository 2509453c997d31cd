"""Spidermon monitors: what a finished crawl must satisfy, and a watch on long crawls.

Two suites, named in the settings:

- :class:`CloseSuite` (``SPIDERMON_SPIDER_CLOSE_MONITORS``) runs when the spider closes:
  items seen and none exported twice, item validation (``spidermon/validation/...``,
  fed by :class:`~rfi_spider.archive.pipelines.ValidationPipeline`), field coverage
  (Spidermon's ``spidermon_field_coverage/...``: the schema's always-filled fields at
  100%, ``RFI_QA_MIN_COVERAGE`` for the others), finish reason, the blocked share, and the
  sitemap coverage (articles the sitemaps listed that the archive lacks).
- :class:`BlockedSuite` (``SPIDERMON_PERIODIC_MONITORS``, every N seconds) closes the
  spider (finish reason ``blocked``) once the site has answered nothing but blocks for
  ``RFI_BLOCKED_CLOSE_MINUTES``.

Each monitor's name is what a notification and the stats (``rfi/monitors/<name>``) show.
The notifications a failing suite sends are configured by settings only (``alerts.py``).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from scrapy.exceptions import ScrapyDeprecationWarning
from spidermon import MonitorSuite, monitors
from spidermon.contrib.scrapy.monitors.base import BaseScrapyMonitor

from rfi_spider.config import RfiSettings
from rfi_spider.item_schema import always_filled
from rfi_spider.quality import alerts

# A failed check is reported by its message alone: unittest leaves the frames of modules
# that set __unittest out of a failure's traceback, as it does for its own assert methods.
__unittest = True

# Spidermon 1.27 logs its reports through Spider.log(), which Scrapy 2.19 deprecates: a
# warning in every crawl's log that no operator can act on.
warnings.filterwarnings(
    "ignore", message=r"Spider\.log\(\) is deprecated", category=ScrapyDeprecationWarning
)

# Spidermon's field coverage of the project's item class.
COVERAGE_PREFIX = "spidermon_field_coverage/ArticleItem/"
SCRAPED_PREFIX = "spidermon_item_scraped_count/ArticleItem"
VALIDATION_ERRORS = "spidermon/validation/fields/errors/"
# What the blocking watch remembers between two runs of its suite (a new suite each time).
WATCH_PREFIX = "rfi/blocked_watch/"


def count(stats: Mapping[str, Any], key: str) -> int:
    value = stats.get(key, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def by_prefix(stats: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {
        key[len(prefix) :]: value for key, value in sorted(stats.items()) if key.startswith(prefix)
    }


def blocked_answers(stats: Mapping[str, Any]) -> int:
    """Answers the site's protection gave: 403, 429, 503 and challenge pages."""
    return sum(v for v in by_prefix(stats, "rfi/blocked/").values() if isinstance(v, int))


class RfiMonitor(BaseScrapyMonitor):
    """A monitor that reads the crawl's stats and the project's settings."""

    @property
    def settings(self) -> Any:
        return self.crawler.settings

    @property
    def config(self) -> RfiSettings:
        """The crawl's ``RFI_*`` settings."""
        return RfiSettings.of(self.crawler)


@monitors.name("items")
class ItemsMonitor(RfiMonitor):
    """Articles found against articles exported."""

    @monitors.name("enough articles seen")
    def test_enough_articles_seen(self) -> None:
        """At least ``RFI_QA_MIN_ITEMS`` articles, exported or already exported (skipped
        unrequested, or dropped by the pipeline as duplicates): an incremental run with
        nothing new passes."""
        exported = count(self.stats, "rfi/exported")
        known = count(self.stats, "rfi/skipped/already_exported") + count(
            self.stats, "rfi/duplicates"
        )
        minimum = self.config.qa_min_items
        if exported + known < minimum and count(self.stats, "rfi/redis/joined"):
            # A node that joined a distributed crawl may find its work done by the others.
            self.skipTest("joined a distributed crawl: scrapy qa over every node's folder")
        self.assertGreaterEqual(
            exported + known,
            minimum,
            f"{exported + known} articles ({exported} exported, {known} already exported), "
            f"need at least {minimum}; {count(self.stats, 'rfi/articles/found')} found",
        )

    @monitors.name("no article exported twice")
    def test_no_article_exported_twice(self) -> None:
        """Each canonical URL reaches the exports once per run (``rfi/exported/twice``)."""
        twice = count(self.stats, "rfi/exported/twice")
        self.assertEqual(twice, 0, f"{twice} articles exported a second time in this run")


@monitors.name("validation")
class ValidationMonitor(RfiMonitor):
    """No item broke the schema (Spidermon's validation stats)."""

    @monitors.name("no invalid items")
    def test_no_invalid_items(self) -> None:
        invalid = count(self.stats, "spidermon/validation/items/errors")
        by_field: dict[str, int] = {}
        for key, value in by_prefix(self.stats, VALIDATION_ERRORS).items():
            if "/" in key and isinstance(value, int):  # <error>/<field>
                field = key.split("/", 1)[1]
                by_field[field] = by_field.get(field, 0) + value
        fields = ", ".join(f"{name} {n}" for name, n in sorted(by_field.items()))
        self.assertEqual(
            invalid, 0, f"{invalid} invalid items not exported; errors by field: {fields}"
        )


@monitors.name("field coverage")
class FieldCoverageMonitor(RfiMonitor):
    """Every exported item has the fields the schema always fills; optional ones often
    enough (``RFI_QA_MIN_COVERAGE``, judged from ``RFI_QA_COVERAGE_MIN_ITEMS`` items)."""

    def _coverage(self) -> tuple[int, dict[str, float]]:
        exported = count(self.stats, SCRAPED_PREFIX)
        if not exported:
            self.skipTest("no items exported in this run")
        shares = {k: float(v) for k, v in by_prefix(self.stats, COVERAGE_PREFIX).items()}
        return exported, shares

    @monitors.name("always-filled fields at 100%")
    def test_always_filled_fields(self) -> None:
        exported, shares = self._coverage()
        low = [
            f"{name} {shares.get(name, 0):.0%}"
            for name in always_filled()
            if shares.get(name, 0) < 1
        ]
        self.assertFalse(low, f"too low (100% wanted) of {exported}: {', '.join(low)}")

    @monitors.name("optional fields at their minimum")
    def test_optional_fields(self) -> None:
        exported, shares = self._coverage()
        wanted = dict(self.config.qa_min_coverage)
        under = self.config.qa_coverage_min_items
        if exported < under:
            self.skipTest(f"{', '.join(wanted)} not judged under {under} items")
        low = [
            f"{name} {shares.get(name, 0):.0%} < {minimum:.0%}"
            for name, minimum in wanted.items()
            if shares.get(name, 0) < minimum
        ]
        self.assertFalse(low, f"too low of {exported}: {'; '.join(low)}")


@monitors.name("finish reason")
class FinishReasonMonitor(RfiMonitor):
    """The crawl ran to its end (``SPIDERMON_EXPECTED_FINISH_REASONS``, default ``finished``)."""

    @monitors.name("expected finish reason")
    def test_finish_reason(self) -> None:
        expected = self.settings.getlist("SPIDERMON_EXPECTED_FINISH_REASONS", ["finished"])
        reason = self.stats.get("finish_reason")
        detail = f"finished with {reason!r}, expected {' or '.join(expected)}"
        if reason == "write_error" and count(self.stats, "rfi/warc/write_error"):
            detail += (
                " (the WARC files could not be written: capture and crawl stopped; make the"
                " WARC folder writable or free space, then run again)"
            )
        elif reason == "write_error":
            detail += (
                f" ({count(self.stats, 'rfi/write_error')} write error: exports stopped at the"
                " first; free space or fix the disk, then run again)"
            )
        elif reason == alerts.BLOCKED:
            minutes = self.config.blocked_close_minutes
            detail += f" (the site answered only blocks for {minutes:g} minutes)"
        self.assertIn(reason, expected, detail)


@monitors.name("blocked share")
class BlockedShareMonitor(RfiMonitor):
    """Blocked answers (``rfi/blocked/*``) are at most ``RFI_QA_MAX_BLOCKED_SHARE`` of
    the responses."""

    @monitors.name("blocked answers under the limit")
    def test_blocked_share(self) -> None:
        responses = count(self.stats, "downloader/response_count")
        if not responses:
            self.skipTest("no responses")
        blocked = blocked_answers(self.stats)
        limit = self.config.qa_max_blocked_share
        share = blocked / responses
        self.assertLessEqual(
            share,
            limit,
            f"{blocked} of {responses} responses blocked ({share:.0%} > {limit:.0%})",
        )


@monitors.name("sitemap coverage")
class SitemapCoverageMonitor(RfiMonitor):
    """Of the articles the site's sitemaps listed in the run's scope (``rfi/sitemap/listed``),
    at most ``RFI_QA_MAX_SITEMAP_MISSING`` (a share) are missing from the archive."""

    @monitors.name("listed articles archived")
    def test_listed_articles_archived(self) -> None:
        listed = count(self.stats, "rfi/sitemap/listed")
        if not listed:
            self.skipTest("no sitemap listed an article in scope")
        missing = count(self.stats, "rfi/sitemap/missing")
        limit = self.config.qa_max_sitemap_missing
        share = missing / listed
        self.assertLessEqual(
            share,
            limit,
            f"{missing} of the {listed} articles the sitemaps list are not in the archive"
            f" ({share:.0%} > {limit:.0%})",
        )


@monitors.name("site blocking")
class BlockingWatchMonitor(RfiMonitor):
    """Run every few minutes: fails once the site has given nothing but blocked answers
    for ``RFI_BLOCKED_CLOSE_MINUTES`` (and at least one block in that time)."""

    # The clock (seconds); a test sets its own.
    clock: ClassVar[Callable[[], float]] = staticmethod(time.monotonic)

    @monitors.name("not blocked for too long")
    def test_not_blocked_for_too_long(self) -> None:
        stats = self.crawler.stats
        now = type(self).clock()
        blocked = blocked_answers(self.stats)
        good = count(self.stats, "downloader/response_count") - blocked
        last_good_at = stats.get_value(f"{WATCH_PREFIX}last_good_at")
        if last_good_at is None or good > stats.get_value(f"{WATCH_PREFIX}good", 0):
            # A good answer since the last check (or the first check): the clock restarts.
            stats.set_value(f"{WATCH_PREFIX}last_good_at", now)
            stats.set_value(f"{WATCH_PREFIX}good", good)
            stats.set_value(f"{WATCH_PREFIX}blocked", blocked)
            return
        new_blocks = blocked - stats.get_value(f"{WATCH_PREFIX}blocked", 0)
        limit = self.config.blocked_close_minutes * 60
        self.assertFalse(
            new_blocks > 0 and now - last_good_at >= limit,
            f"the site blocked everything for {(now - last_good_at) / 60:.0f} minutes"
            f" ({new_blocks} blocked answers, nothing else): closing the spider",
        )


class CloseSuite(MonitorSuite):
    """The end-of-crawl checks; the notifications of ``alerts.py`` when one fails."""

    monitors: ClassVar[list[Any]] = [
        ItemsMonitor,
        ValidationMonitor,
        FieldCoverageMonitor,
        FinishReasonMonitor,
        BlockedShareMonitor,
        SitemapCoverageMonitor,
    ]
    monitors_finished_actions: ClassVar[list[Any]] = [alerts.RecordResults]

    def __init__(self, *args: Any, crawler: Any = None, **kwargs: Any) -> None:
        failed = alerts.configured_notifications(crawler) if crawler else []
        kwargs["monitors_failed_actions"] = [*kwargs.get("monitors_failed_actions", []), *failed]
        super().__init__(*args, crawler=crawler, **kwargs)


class BlockedSuite(MonitorSuite):
    """The periodic watch: a spider the site blocks for too long is closed (``blocked``);
    :class:`CloseSuite` then fails its finish reason and notifies."""

    monitors: ClassVar[list[Any]] = [BlockingWatchMonitor]
    monitors_failed_actions: ClassVar[list[Any]] = [alerts.CloseSpiderBlocked]
