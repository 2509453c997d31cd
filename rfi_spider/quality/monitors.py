"""End-of-crawl monitors: small checks over the crawl's stats, grouped in one suite.

Spidermon's shape without its machinery: each monitor states one expectation
and returns a :class:`MonitorResult`; :func:`run_suite` runs them all, and
:func:`report_lines` turns the results into one readable block. The
``QualityMonitors`` extension (``extensions.py``) runs the suite when the spider
closes, logs the block and records the results in the stats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from scrapy.settings import BaseSettings

from rfi_spider.quality.schema import always_filled

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
# Fields every exported item has, by the schema: a coverage below 100% is a bug.
FULL_COVERAGE = always_filled()
COVERAGE_PREFIX = "rfi/coverage/"


@dataclass(frozen=True)
class Thresholds:
    """What the monitors expect; from the ``RFI_QA_*`` settings."""

    min_items: int = 1
    min_coverage: Mapping[str, float] = field(
        default_factory=lambda: {"lead_image": 0.5, "summary": 0.5}
    )
    coverage_min_items: int = 5

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Thresholds:
        return cls(
            min_items=settings.getint("RFI_QA_MIN_ITEMS"),
            min_coverage={
                str(k): float(v) for k, v in settings.getdict("RFI_QA_MIN_COVERAGE").items()
            },
            coverage_min_items=settings.getint("RFI_QA_COVERAGE_MIN_ITEMS"),
        )


@dataclass(frozen=True)
class CrawlFacts:
    """What a monitor looks at: the final stats and the finish reason."""

    stats: Mapping[str, Any]
    reason: str
    thresholds: Thresholds = field(default_factory=Thresholds)

    def count(self, key: str) -> int:
        value = self.stats.get(key, 0)
        return value if isinstance(value, int) else 0

    def by_prefix(self, prefix: str) -> dict[str, int]:
        return {
            key[len(prefix) :]: value
            for key, value in sorted(self.stats.items())
            if key.startswith(prefix) and isinstance(value, int)
        }


@dataclass(frozen=True)
class MonitorResult:
    name: str
    status: str  # PASSED, FAILED or SKIPPED
    detail: str


class Monitor:
    """One expectation about a finished crawl."""

    name: ClassVar[str]

    def check(self, facts: CrawlFacts) -> MonitorResult:
        raise NotImplementedError

    def result(self, passed: bool | None, detail: str) -> MonitorResult:
        status = SKIPPED if passed is None else PASSED if passed else FAILED
        return MonitorResult(self.name, status, detail)


class ItemCountMonitor(Monitor):
    """The run saw at least ``RFI_QA_MIN_ITEMS`` good articles.

    An incremental run that finds nothing new is normal, so articles skipped
    or dropped as already exported count as seen too.
    """

    name = "items"

    def check(self, facts: CrawlFacts) -> MonitorResult:
        exported = facts.count("rfi/exported")
        known = facts.count("rfi/skipped/already_exported") + facts.count("rfi/duplicates")
        seen = exported + known
        minimum = facts.thresholds.min_items
        detail = (
            f"{seen} articles ({exported} exported, {known} already exported), "
            f"need at least {minimum}"
        )
        return self.result(seen >= minimum, detail)


class ValidationMonitor(Monitor):
    """No item broke the schema."""

    name = "validation"

    def check(self, facts: CrawlFacts) -> MonitorResult:
        invalid = facts.count("rfi/dropped/invalid")
        if not invalid:
            return self.result(True, "no invalid items")
        fields = facts.by_prefix("rfi/validation/errors/")
        by_field = ", ".join(f"{name} {count}" for name, count in fields.items())
        detail = f"{invalid} invalid items not exported; errors by field: {by_field}"
        return self.result(False, detail)


class FieldCoverageMonitor(Monitor):
    """Every exported item has the fields the schema always fills (title, date, paragraphs,
    ...); optional fields often enough."""

    name = "field coverage"

    def check(self, facts: CrawlFacts) -> MonitorResult:
        exported = facts.count("rfi/exported")
        if not exported:
            return self.result(None, "no items exported in this run")
        filled = facts.by_prefix(COVERAGE_PREFIX)
        wanted = dict.fromkeys(FULL_COVERAGE, 1.0)
        optional = facts.thresholds.min_coverage
        few = exported < facts.thresholds.coverage_min_items
        if not few:
            wanted.update({k: v for k, v in optional.items() if k not in wanted})
        parts, low = [], []
        for name, minimum in wanted.items():
            share = filled.get(name, 0) / exported
            parts.append(f"{name} {share:.0%}")
            if share < minimum:
                low.append(f"{name} {share:.0%} < {minimum:.0%}")
        detail = ", ".join(parts) + f" of {exported}"
        if few and optional:
            under = facts.thresholds.coverage_min_items
            detail += f" ({', '.join(optional)} not judged under {under} items)"
        if low:
            detail = "too low: " + "; ".join(low) + " | " + detail
        return self.result(not low, detail)


class FinishReasonMonitor(Monitor):
    """The crawl ran to its end (finish reason ``finished``); ``write_error`` says why not."""

    name = "finish reason"

    def check(self, facts: CrawlFacts) -> MonitorResult:
        detail = facts.reason
        if facts.reason == "write_error":
            detail += (
                f" ({facts.count('rfi/write_error')} write error: exports stopped at the first;"
                " free space or fix the disk, then run again)"
            )
        return self.result(facts.reason == "finished", detail)


SUITE: tuple[type[Monitor], ...] = (
    ItemCountMonitor,
    ValidationMonitor,
    FieldCoverageMonitor,
    FinishReasonMonitor,
)


def run_suite(facts: CrawlFacts, suite: Sequence[type[Monitor]] = SUITE) -> list[MonitorResult]:
    """Run every monitor of ``suite`` on ``facts``; a monitor that raises counts as failed."""
    results = []
    for monitor_class in suite:
        monitor = monitor_class()
        try:
            results.append(monitor.check(facts))
        except Exception as error:  # a broken monitor must not hide the others
            results.append(MonitorResult(monitor.name, FAILED, f"monitor error: {error!r}"))
    return results


def report_lines(results: Sequence[MonitorResult], spider_name: str) -> list[str]:
    """The results as one block: a headline, then one line per monitor."""
    failed = sum(r.status == FAILED for r in results)
    passed = sum(r.status == PASSED for r in results)
    verdict = "FAILED" if failed else "passed"
    lines = [f"{spider_name} QA monitors {verdict}: {passed} passed, {failed} failed"]
    width = max((len(r.name) for r in results), default=0)
    for r in results:
        lines.append(f"  {r.status.upper():<7} {r.name:<{width}}  {r.detail}")
    return lines


def record(stats: Any, results: Sequence[MonitorResult]) -> None:
    """Store the results in the stats: counts and one status per monitor."""
    for status in (PASSED, FAILED):
        stats.set_value(f"rfi/monitors/{status}", sum(r.status == status for r in results))
    for r in results:
        stats.set_value(f"rfi/monitors/{r.name.replace(' ', '_')}", r.status)
