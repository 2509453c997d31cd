"""QA of one archive folder: ``items.jsonl`` line by line (each item, its seed-style
file, the versions of each article), or the seed-style files alone (an archive of
another tool), then what the crawl's state says of it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rfi_spider.archive import versions_read
from rfi_spider.archive.failures import DEFAULT_MAX_ATTEMPTS
from rfi_spider.archive.state import STATE_DIR
from rfi_spider.canonical import canonical_url
from rfi_spider.quality.qa.checks import Pairing, check_file_alone, check_item
from rfi_spider.quality.qa.read import (
    file_fields,
    find_seed_files,
    read_items,
    read_seed_files,
    slim,
)
from rfi_spider.quality.qa.report import (
    ARTICLES_DIR,
    FILE_FIELDS,
    ITEMS_FILE,
    KINDS,
    MAX_LINE_BYTES,
    CannotCheckError,
    Report,
)
from rfi_spider.quality.qa.state import check_sitemap_coverage, read_given_up
from rfi_spider.quality.qa.versions import check_versions
from rfi_spider.quality.sitemap_coverage import BUSY_TIMEOUT


def check_items_file(
    path: Path,
    pairing: Pairing,
    now: datetime,
    report: Report,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> None:
    """Each line of items.jsonl: JSON, schema, dates, duplicates, its file; then files left,
    and the versions of each article (``versions_read``): a broken chain is a finding.

    The tables count each article once, as its latest version says; each version is
    paired with its own seed-style file (``<hash>.v<N>.txt`` from version 2 on).
    """
    index = versions_read.VersionIndex()
    first_line: dict[tuple[str, int], int] = {}  # (article, version) -> its first line
    record_at: dict[str, tuple[int, int]] = {}  # article -> (its record, the version)
    for number, item in read_items(path, report, max_line_bytes):
        record = slim(item, report.fields)
        where = f"{path.name}:{number}"
        check_item(item, where, now, report)
        url = item.get("url")
        if not isinstance(url, str):
            report.records.append(record)
            continue
        key = canonical_url(url) or url
        line = versions_read.line_of(path, number, key, item)
        index.add(line)
        if (key, line.version) in first_line:  # a duplicate: said below, from the history
            report.records.append(record)
            continue
        first_line[key, line.version] = number
        known = record_at.get(key)
        if known is None or line.version > known[1]:
            title, published = item.get("title"), item.get("published_at")
            report.articles[key] = (
                title if isinstance(title, str) else "",
                published if isinstance(published, str) else None,
            )
            if known is None:
                record_at[key] = (len(report.records), line.version)
                report.records.append(record)
            else:
                record_at[key] = (known[0], line.version)
                report.records[known[0]] = record
        pairing.check(url, item, where, report, line.version)
    pairing.check_leftovers(report)
    check_versions(index, report)
    report.version_index = index


def check_archive(
    directory: str | Path,
    now: datetime | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
    state_dir: str | Path | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    busy_timeout: float = BUSY_TIMEOUT,
) -> Report:
    """Check an archive folder: ``items.jsonl`` and the seed-style files under ``articles/``,
    then its articles against the sitemaps its state (``state_dir``, by default
    ``<directory>/.state``) recorded.

    Without ``items.jsonl`` and ``articles/``, the seed-style files anywhere under
    the folder are read (an archive of another tool). ``now`` is the clock for
    "in the future"; longer lines than ``max_line_bytes`` are not read;
    ``max_attempts`` (``RFI_MAX_ATTEMPTS``) tells a failure given up from one tried
    again in a state older than that record; ``busy_timeout``: seconds to wait for a
    state a crawl holds locked. The articles the last crawl gave up are read from the
    state too. Raises
    :class:`CannotCheckError` when a file or folder cannot be read.
    """
    root = Path(directory)
    report = read_archive(root, now, max_line_bytes)
    state = Path(state_dir) if state_dir is not None else root / STATE_DIR
    check_sitemap_coverage(report, state, max_attempts, busy_timeout)
    read_given_up(report, state, max_attempts)
    return report


def _check_archive(root: Path, now: datetime | None, max_line_bytes: int) -> Report:
    now = now or datetime.now(UTC)
    report = Report(root=root, checked_at=now, max_line_bytes=max_line_bytes)
    items_path = root / ITEMS_FILE
    report.has_items_file = items_path.is_file()
    files_root = root / ARTICLES_DIR
    if not (report.has_items_file or files_root.is_dir()):
        files_root = root
    report.files_root = files_root.relative_to(root).as_posix() if files_root != root else "."
    paths = find_seed_files(files_root)
    report.files = len(paths)
    if report.has_items_file:
        files = [seed for seed, _ in read_seed_files(paths, root, report, max_line_bytes)]
        unreadable = set(paths) - {seed.path for seed in files}
        pairing = Pairing(files, unreadable, files_root)
        check_items_file(items_path, pairing, now, report, max_line_bytes)
    elif paths:
        report.fields = FILE_FIELDS
        first: dict[str, str] = {}
        for seed, record in read_seed_files(paths, root, report, max_line_bytes):
            report.records.append(slim(file_fields(record), FILE_FIELDS))
            report.articles.setdefault(seed.key, (seed.title, record.published_at))
            check_file_alone(seed, first, now, report)
    else:
        report.add("empty", str(root), f"no {ITEMS_FILE} and no seed-style files")
    sort_findings(report)
    return report


def read_archive(root: Path, now: datetime | None, max_line_bytes: int) -> Report:
    """:func:`_check_archive`; :class:`CannotCheckError` when a file cannot be read."""
    try:
        return _check_archive(root, now, max_line_bytes)
    except OSError as error:
        where = error.filename or root
        raise CannotCheckError(f"cannot read {where}: {error.strerror or error}") from error


def sort_findings(report: Report) -> None:
    """Findings in the order of :data:`KINDS`, the report's sections."""
    order = {kind: index for index, kind in enumerate(KINDS)}
    report.findings.sort(key=lambda f: order.get(f.kind, len(order)))
