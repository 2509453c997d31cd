"""QA's checks: each item against the schema and the clock, each seed-style file
against its item, the folder as a whole (or several, one report), the state's given-up
articles and the sitemaps' coverage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rfi_spider.archive import seedfile, versions_read
from rfi_spider.archive.exporters import seed_file_name
from rfi_spider.archive.failures import DEFAULT_MAX_ATTEMPTS, read_failures
from rfi_spider.archive.state import STATE_DIR
from rfi_spider.archive.versions import versioned_name
from rfi_spider.canonical import canonical_url
from rfi_spider.dates import checked_time, iso_utc
from rfi_spider.extract.loaders import SITE_SOURCE
from rfi_spider.item_schema import field_errors, value_errors
from rfi_spider.quality.qa.read import (
    file_fields,
    find_seed_files,
    read_items,
    read_seed_files,
    slim,
)
from rfi_spider.quality.qa.report import (
    ARTICLES_DIR,
    EARLIEST_YEAR,
    FILE_FIELDS,
    ITEMS_FILE,
    KINDS,
    MAX_LINE_BYTES,
    TIMESTAMPS,
    CannotCheckError,
    Finding,
    Report,
    SeedFile,
    _same_text,
    readable,
)
from rfi_spider.quality.qa.versions import check_versions
from rfi_spider.quality.sitemap_coverage import BUSY_TIMEOUT, SitemapCoverage, check_sitemaps


def _out_of_range(value: Any) -> bool:
    """An ISO 8601 time that cannot be converted to UTC or Paris time."""
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return checked_time(value) is None


def _first_difference(got: str, want: str, context: int = 30) -> str:
    index = next((i for i, (x, y) in enumerate(zip(got, want, strict=False)) if x != y), None)
    if index is None:
        index = min(len(got), len(want))
    start = max(0, index - 10)
    return (
        f"at character {index}: file has {got[start : index + context]!r}, "
        f"item gives {want[start : index + context]!r}"
    )


def _date_problem(when: datetime, now: datetime) -> str | None:
    if when > now:
        return "is in the future"
    if when.year < EARLIEST_YEAR:
        return f"is before {EARLIEST_YEAR}"
    return None


# --- checks --------------------------------------------------------------------
def check_item(item: dict[str, Any], where: str, now: datetime, report: Report) -> None:
    """Schema and dates of one item."""
    url = item.get("url")
    label = readable(url) if isinstance(url, str) else "(no URL)"
    for error in field_errors(item):
        report.add("schema", where, f"{error} ({label})")
    for key in TIMESTAMPS:
        if _out_of_range(item.get(key)):
            report.add("date", where, f"{key} {item[key]} is out of range ({label})")
            continue
        when = checked_time(item.get(key))
        problem = when and _date_problem(when, now)
        if problem:
            report.add("date", where, f"{key} {item[key]} {problem} ({label})")


def check_file_alone(seed: SeedFile, first: dict[str, str], now: datetime, report: Report) -> None:
    """Checks of a file in an archive without items.jsonl: URL, title, date, duplicate."""
    for problem in value_errors("url", seed.url):
        report.add("bad-file", seed.where, f"url: {problem}")
    if not seed.title.strip():
        report.add("bad-file", seed.where, "title: empty")
    when = datetime.fromtimestamp(seed.ms / 1000, tz=UTC)
    date_problem = _date_problem(when, now)
    if date_problem:
        report.add("date", seed.where, f"timestamp {iso_utc(when)} {date_problem}")
    if seed.key in first:
        report.add("duplicate", seed.where, f"same URL as {first[seed.key]}: {readable(seed.url)}")
    else:
        first[seed.key] = seed.where


def compare(seed: SeedFile, item: dict[str, Any]) -> list[str]:
    """How a seed-style file differs from its item (URL, title, timestamp, text)."""
    problems = []
    url = item.get("url")
    if seed.key != url:
        problems.append(f"URL {seed.url} is not the item's {url}")
    title = item.get("title")
    if isinstance(title, str) and not _same_text(seed.title, title):
        problems.append(f"title {seed.title!r} is not the item's {title!r}")
    published = checked_time(item.get("published_at"))
    if published and seed.ms // 1000 != int(published.timestamp()):
        when = iso_utc(datetime.fromtimestamp(seed.ms / 1000, tz=UTC))
        problems.append(
            f"timestamp {seed.ms} ({when}) is not the item's published_at {item['published_at']}"
        )
    if item.get("source") == SITE_SOURCE and isinstance(item.get("date_text"), str):
        # A site item's file holds exactly its fields (item-spec.md); a mirror's, what it sent.
        have = seedfile.read(seed.path.read_text(encoding="utf-8")).html
        want = seedfile.site_html(item)
        if have != want:
            problems.append("text differs from the item's, " + _first_difference(have, want))
    return problems


class Pairing:
    """Finds each item's file: at its expected path, else by the URL inside a file."""

    def __init__(self, files: list[SeedFile], unreadable: set[Path], files_root: Path) -> None:
        self.files = files
        self.unreadable = unreadable
        self.files_root = files_root
        self.by_path = {seed.path: seed for seed in files}
        self.by_url: dict[str, list[SeedFile]] = {}
        for seed in files:
            self.by_url.setdefault(seed.key, []).append(seed)
        self.paired: set[Path] = set()

    def check(
        self, url: str, item: dict[str, Any], where: str, report: Report, version: int = 1
    ) -> None:
        expected = None
        if checked_time(item.get("published_at")):
            name = seed_file_name(url, item["published_at"])
            expected = self.files_root / versioned_name(name, version)
        if expected in self.unreadable:
            self.paired.add(expected)  # already reported as a bad file
            return
        seed = self.by_path.get(expected) if expected else None
        seed = seed or next(
            (s for s in self.by_url.get(url, []) if s.path not in self.paired), None
        )
        if seed is None:
            hint = f" (expected {expected.relative_to(report.root).as_posix()})" if expected else ""
            report.add("no-file", where, f"no seed-style file for {readable(url)}{hint}")
            return
        self.paired.add(seed.path)
        for problem in compare(seed, item):
            report.add("mismatch", seed.where, f"{problem} ({where})")

    def check_leftovers(self, report: Report) -> None:
        for seed in self.files:
            if seed.path not in self.paired:
                report.add(
                    "no-item", seed.where, f"no item in {ITEMS_FILE} for {readable(seed.url)}"
                )


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
    report = _read_archive(root, now, max_line_bytes)
    state = Path(state_dir) if state_dir is not None else root / STATE_DIR
    check_sitemap_coverage(report, state, max_attempts, busy_timeout)
    read_given_up(report, state, max_attempts)
    return report


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
    _sort_findings(report)
    return report


def _read_archive(root: Path, now: datetime | None, max_line_bytes: int) -> Report:
    """:func:`_check_archive`; :class:`CannotCheckError` when a file cannot be read."""
    try:
        return _check_archive(root, now, max_line_bytes)
    except OSError as error:
        where = error.filename or root
        raise CannotCheckError(f"cannot read {where}: {error.strerror or error}") from error


def _sort_findings(report: Report) -> None:
    """Findings in the order of :data:`KINDS`, the report's sections."""
    order = {kind: index for index, kind in enumerate(KINDS)}
    report.findings.sort(key=lambda f: order.get(f.kind, len(order)))


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
    reports = [_read_archive(Path(directory), now, max_line_bytes) for directory in directories]
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
    _sort_findings(union)
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
