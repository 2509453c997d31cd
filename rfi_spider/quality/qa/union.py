"""QA of several archive folders as one report: the output folders of the nodes of a
distributed crawl, where an article in two folders is a duplicate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from rfi_spider.archive import versions_read
from rfi_spider.archive.failures import DEFAULT_MAX_ATTEMPTS
from rfi_spider.archive.state import STATE_DIR
from rfi_spider.quality.qa.folder import check_archive, read_archive, sort_findings
from rfi_spider.quality.qa.report import ITEMS_FILE, MAX_LINE_BYTES, Finding, Report, readable
from rfi_spider.quality.qa.state import check_sitemap_coverage, read_given_up
from rfi_spider.quality.sitemap_coverage import BUSY_TIMEOUT, SitemapCoverage


def check_archives(
    directories: Sequence[str | Path],
    now: datetime | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    busy_timeout: float = BUSY_TIMEOUT,
) -> Report:
    """Check several archive folders as one: the output folders of the nodes of a
    distributed crawl. Each folder is checked as by :func:`check_archive` (its findings
    name the folder); an article in more than one folder is a ``duplicate``; the sitemaps
    each folder's state recorded are checked against the union, and the articles each
    gave up are listed. One folder: the same as :func:`check_archive`."""
    if len(directories) == 1:
        only = directories[0]
        return check_archive(only, now, max_line_bytes, None, max_attempts, busy_timeout)
    now = now or datetime.now(UTC)
    reports = [read_archive(Path(directory), now, max_line_bytes) for directory in directories]
    union = Report(
        root=Path(" + ".join(str(r.root) for r in reports)),
        checked_at=now,
        max_line_bytes=max_line_bytes,
    )
    union.has_items_file = any(r.has_items_file for r in reports)
    union.files_root = " + ".join(f"{r.root}/{r.files_root}" for r in reports)
    _add_up(union, reports)
    if not all(r.has_items_file for r in reports):
        union.fields = reports[0].fields
    coverage: SitemapCoverage | None = None
    for report in reports:  # one node read the sitemaps: its state has them
        check_sitemap_coverage(union, report.root / STATE_DIR, max_attempts, busy_timeout)
        found = union.sitemaps
        if coverage is None or (coverage.note and found is not None and not found.note):
            coverage = found
        gave_up = Report(root=report.root, checked_at=now)
        read_given_up(gave_up, report.root / STATE_DIR, max_attempts)
        union.given_up.extend(gave_up.given_up)
        union.retrying += gave_up.retrying
    union.sitemaps = coverage
    sort_findings(union)
    return union


def _add_up(union: Report, reports: Sequence[Report]) -> None:
    """The folders' counts, records and findings into ``union``; a version of an article
    in more than one folder is a ``duplicate`` of the first folder's. An article's versions
    may sit in several folders (each node exports the versions it fetched): their chains
    and the edited articles are read on the union of the folders' lines."""
    first_folder: dict[tuple[str, int], Path] = {}
    union_index = versions_read.VersionIndex()
    for report in reports:
        union.lines += report.lines
        union.files += report.files
        union.records.extend(report.records)
        union.findings.extend(
            Finding(f.kind, f"{report.root}/{f.where}", f.message)
            for f in report.findings
            if f.kind != "version-chain"
        )
        index = report.version_index
        versions = index.versions() if index else {(key, 1) for key in report.articles}
        for key, version in sorted(versions):
            if (key, version) in first_folder:
                also = f" (version {version})" if version > 1 else ""
                union.add(
                    "duplicate",
                    f"{report.root}/{ITEMS_FILE}",
                    f"also exported in {first_folder[key, version]}: {readable(key)}{also}",
                )
                continue
            first_folder[key, version] = report.root
        for key, article in report.articles.items():
            union.articles.setdefault(key, article)
        if index is not None:
            union_index.extend(index)
    for history in union_index.histories():
        label = readable(history.key)
        for line, message in history.problems:
            where = f"{line.source.parent}/{line.where}"
            union.add("version-chain", where, f"{message} ({label})")
        if history.edited:
            union.edited.append(history)
