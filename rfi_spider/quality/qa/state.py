"""QA of what the crawl's state (``.state``) says of an archive: the articles the
sitemaps listed that it lacks, and the articles the crawl gave up."""

from __future__ import annotations

from pathlib import Path

from rfi_spider.archive.failures import DEFAULT_MAX_ATTEMPTS, read_failures
from rfi_spider.quality.qa.report import Report, readable
from rfi_spider.quality.sitemap_coverage import BUSY_TIMEOUT, check_sitemaps


def check_sitemap_coverage(
    report: Report,
    state_dir: Path,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    busy_timeout: float = BUSY_TIMEOUT,
) -> None:
    """Each article the sitemaps listed that the report's archive lacks is a finding
    (``sitemap-missing``); a state that cannot be read is one too (``state``)."""
    coverage = check_sitemaps(state_dir, report.articles.keys(), max_attempts, busy_timeout)
    report.sitemaps = coverage
    if coverage.error:
        report.add("state", str(state_dir), coverage.error)
    for missing in coverage.missing:
        report.add("sitemap-missing", missing.month, f"{readable(missing.url)}: {missing.cause}")


def read_given_up(report: Report, state_dir: Path, max_attempts: int) -> None:
    """The state's failed articles into ``report``: those the last crawl gave up, and how
    many it did not (``max_attempts`` judges a state from before the crawls recorded it)."""
    records = [  # a state written by hand may hold anything: rows of other types are skipped
        r
        for r in read_failures(state_dir, max_attempts) or []
        if isinstance(r.url, str) and type(r.attempts) is int and isinstance(r.cause, str)
    ]
    report.given_up = [r for r in records if r.given_up]
    report.retrying = len(records) - len(report.given_up)
