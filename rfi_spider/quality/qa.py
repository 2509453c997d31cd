"""QA of an archive on disk: ``items.jsonl`` and the seed-style files, checked together.

:func:`check_archive` reads a folder and returns a :class:`Report`: every
problem found (a :class:`Finding`, with a line number or a file path) and what
the summary tables count. :func:`render_text` prints it; ``qa_html`` writes it
as a web page. ``scrapy qa`` (``commands/qa.py``) is a thin wrapper.

Archives written by other tools are read too: a folder of seed-style ``*.txt``
or ``*.md`` files with no ``items.jsonl`` is checked on its files alone.

A hostile export is reported, never a crash: over-long lines are skipped unread
(``max_line_bytes``), deep nesting, huge integers, lone surrogates and times that
cannot be converted are findings, and every value shown is passed through
:func:`visible`. An archive that cannot be read raises :class:`CannotCheckError`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote

from rfi_spider.archive import seedfile, versions_read
from rfi_spider.archive.exporters import seed_file_name
from rfi_spider.archive.failures import DEFAULT_MAX_ATTEMPTS, FailureRecord, read_failures
from rfi_spider.archive.state import STATE_DIR
from rfi_spider.archive.versions_read import History
from rfi_spider.crawl.canonical import canonical_url
from rfi_spider.dates import PARIS, checked_ms, checked_paris_day, checked_time, iso_utc
from rfi_spider.extract.loaders import SITE_SOURCE
from rfi_spider.extract.processors import clean_text, decode_entities
from rfi_spider.items import FIELDS
from rfi_spider.mirrors.entrypage import seed_item
from rfi_spider.quality.schema import field_errors, value_errors
from rfi_spider.quality.sitemap_coverage import BUSY_TIMEOUT, SitemapCoverage, check_sitemaps

ITEMS_FILE = "items.jsonl"
ARTICLES_DIR = "articles"
SEED_SUFFIXES = (".txt", ".md")
EARLIEST_YEAR = 2000
# Longest line of items.jsonl (and largest seed-style file) read, in bytes; longer ones
# are findings, skipped without being held in memory. RFI_QA_MAX_LINE_BYTES overrides it.
MAX_LINE_BYTES = 16 * 1024 * 1024
# An item is an object of strings and lists of strings: deeper lines, longer integers
# are refused before anything else reads them.
MAX_DEPTH = 32
MAX_INT_DIGITS = 100
# Over this share of the items from mirrors (source other than rfi.fr), the report warns.
MIRROR_WARN_SHARE = 0.5
# Longer spans are tabled per month in the terminal (the web page charts up to two years).
TEXT_MAX_DAYS = 62
TIMESTAMPS = ("published_at", "modified_at", "crawled_at")
# Fields a seed-style file holds, for the coverage of an archive without items.jsonl.
FILE_FIELDS = ("url", "title", "published_at", "date_text", "lead_image", "summary", "paragraphs")

# Each kind of problem, in report order, with its heading.
KINDS = {
    "empty": "nothing to check",
    "too-long": "lines too long to read",
    "not-json": "lines that are not JSON objects",
    "schema": "items that break the schema",
    "duplicate": "duplicate article URLs",
    "version-chain": "broken chains of versions",
    "date": "dates in the future, before 2000 or out of range",
    "no-file": "items without a seed-style file",
    "no-item": "files without an item",
    "bad-file": "files that are not valid seed-style files",
    "mismatch": "files that do not match their item",
    "sitemap-missing": "articles the site's sitemaps list that the archive lacks",
    "state": "a state that cannot be read",
}

# What must not reach a terminal (or the page) as itself: C0 and C1 controls (ESC, CSI
# 0x9b, CR, LF...), bidi marks, embeddings, overrides and isolates, line and paragraph
# separators, and surrogates (which UTF-8 cannot even encode).
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")


class CannotCheckError(Exception):
    """The archive could not be read (a file or folder gave an OS error)."""


def visible(text: str) -> str:
    """``text`` with each control, bidi or surrogate code point written as an escape
    (``\\x1b``, ``\\u202e``), so that it cannot act on a terminal or flip the text."""
    return _INVISIBLE.sub(_escape_char, text)


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


@dataclass(frozen=True)
class Finding:
    """One problem: its kind, where it is (``items.jsonl:12`` or a file path), what."""

    kind: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.kind}] {visible(self.where)}: {visible(self.message)}"


@dataclass(frozen=True)
class SeedFile:
    """A seed-style file that parsed: where it is and its header (its HTML is read again
    only to compare it with its item)."""

    path: Path
    where: str  # path shown in the report, relative to the archive
    url: str  # as written in the file
    key: str  # its canonical URL, the dedupe key
    ms: int
    title: str


@dataclass
class Report:
    """What :func:`check_archive` found, and what the summary tables count."""

    root: Path
    checked_at: datetime
    lines: int = 0  # lines of items.jsonl, 0 when there is none
    has_items_file: bool = False
    files: int = 0  # seed-style files found (parsed or not)
    files_root: str = ""  # where the files were looked for, relative to root
    findings: list[Finding] = field(default_factory=list)
    # One record per article counted in the tables: the items, or the files' fields.
    records: list[dict[str, Any]] = field(default_factory=list)
    # Canonical URL -> (title, publication time) of each article, to compare archives.
    articles: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    fields: tuple[str, ...] = FIELDS
    # The archive against the site's sitemaps its state recorded; None: not checked.
    sitemaps: SitemapCoverage | None = None
    # The articles the crawl gave up (failed RFI_MAX_ATTEMPTS times), from the state folder;
    # ``retrying``: failed articles the next crawl tries again. A warning, not a finding.
    given_up: list[FailureRecord] = field(default_factory=list)
    retrying: int = 0
    # The articles of more than one version (edited after they were first archived), in
    # the order items.jsonl first names them; not a problem. Their text is read again
    # (``versions_read.load``, lines up to ``max_line_bytes``) only to show the diffs.
    edited: list[History] = field(default_factory=list)
    # Every line's article and version (None: no items.jsonl read), for several folders.
    version_index: versions_read.VersionIndex | None = None
    max_line_bytes: int = MAX_LINE_BYTES

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def counted(self) -> str:
        """What the tables count: ``items`` or ``files``."""
        return "items" if self.has_items_file else "files"

    def add(self, kind: str, where: str, message: str) -> None:
        self.findings.append(Finding(kind, where, message))

    def by_kind(self) -> dict[str, list[Finding]]:
        groups: dict[str, list[Finding]] = {kind: [] for kind in KINDS}
        for finding in self.findings:
            groups.setdefault(finding.kind, []).append(finding)
        return {kind: found for kind, found in groups.items() if found}

    def coverage(self) -> list[tuple[str, int, int]]:
        """``(field, records with it filled, records)`` per field."""
        total = len(self.records)
        return [
            (name, sum(_filled(r.get(name)) for r in self.records), total) for name in self.fields
        ]

    def per_day(self) -> list[tuple[date, int]]:
        """Articles per publication day (Paris time), every day of the span listed.

        Dates in the future or before 2000 are problems, not days to chart: left out.
        """
        earliest, today = date(EARLIEST_YEAR, 1, 1), self.checked_at.astimezone(PARIS).date()
        days = (checked_paris_day(r.get("published_at")) for r in self.records)
        counts = Counter(day for day in days if day and earliest <= day <= today)
        if not counts:
            return []
        first, last = min(counts), max(counts)
        span = range(first.toordinal(), last.toordinal() + 1)
        return [(day, counts.get(day, 0)) for day in map(date.fromordinal, span)]

    def timeline(self, max_days: int) -> tuple[str, list[tuple[str, int]]]:
        """``("day", rows)`` for up to ``max_days`` days, else ``("month", rows)``."""
        days = self.per_day()
        if len(days) <= max_days:
            return "day", [(day.isoformat(), count) for day, count in days]
        return "month", _by_month(days)

    def day_of(self, key: str) -> str:
        """The publication day (Paris time) of an article of :attr:`articles`, or ``""``."""
        day = checked_paris_day(self.articles[key][1])
        return day.isoformat() if day else ""

    def sources(self) -> list[tuple[str, int]]:
        counts = Counter(str(r.get("source") or "(not recorded)") for r in self.records)
        return counts.most_common()

    def mirror_warning(self) -> str | None:
        """A warning when mirrors (a ``source`` other than rfi.fr) supplied most items."""
        if not self.has_items_file or not self.records:
            return None
        total = len(self.records)
        mirrored = sum(1 for r in self.records if r.get("source") not in (None, SITE_SOURCE))
        if mirrored <= total * MIRROR_WARN_SHARE:
            return None
        counts = ", ".join(f"{source} {count}" for source, count in self.sources())
        return (
            f"Warning: mirrors supplied {mirrored} of {total} items "
            f"({mirrored / total:.0%}), not {SITE_SOURCE}; per source: {counts}"
        )

    def given_up_warning(self) -> str | None:
        """A warning when the crawl gave up articles: gaps the archive will not fill."""
        if not self.given_up:
            return None
        count = len(self.given_up)
        return (
            f"Warning: {count} article{'s' * (count != 1)} given up (failed RFI_MAX_ATTEMPTS"
            " times): not in the archive, and not requested again"
        )


def readable(url: str) -> str:
    """A URL as a person reads it: percent-escapes decoded (同 not %E5%90%8C)."""
    return unquote(url)


def _filled(value: Any) -> bool:
    return value not in (None, "", [], {})


def _out_of_range(value: Any) -> bool:
    """An ISO 8601 time that cannot be converted to UTC or Paris time."""
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return checked_time(value) is None


def _same_text(a: str, b: str) -> bool:
    return clean_text(decode_entities(a)) == clean_text(decode_entities(b))


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


# --- reading -------------------------------------------------------------------
_SKIP_CHUNK = 1024 * 1024


def read_lines(handle: BinaryIO, max_bytes: int) -> Iterator[tuple[bytes | None, int]]:
    """``(line, size)`` of each line; ``(None, size)`` for a line of more than
    ``max_bytes`` bytes (newline not counted), read past in chunks and never held whole."""
    while True:
        raw = handle.readline(max_bytes + 1)
        if not raw:
            return
        if len(raw) <= max_bytes or raw.endswith(b"\n"):
            yield raw, len(raw.rstrip(b"\n"))
            continue
        size = len(raw)
        while not raw.endswith(b"\n"):
            raw = handle.readline(_SKIP_CHUNK)
            if not raw:
                break
            size += len(raw)
        yield None, size - raw.endswith(b"\n")


def _refuse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(digits.lstrip('-'))} digits")
    return int(digits)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _shape_problem(value: Any) -> str | None:
    """Why a parsed line is no item QA can read: nested too deep, or a lone surrogate."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(node, dict):
            stack.extend((key, depth) for key in node)
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
        elif isinstance(node, str) and (match := _SURROGATE.search(node)):
            return f"a lone surrogate ({visible(match.group())}) in a string: not Unicode text"
    return None


def parse_line(text: str) -> tuple[Any, str | None]:
    """``(value, None)`` for a line of JSON QA can read, else ``(None, why not)``."""
    try:
        value = json.loads(text, parse_int=_refuse_int, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        return None, f"not JSON ({error.msg} at column {error.colno})"
    except RecursionError:
        return None, "not JSON that can be read (nested too deep)"
    except ValueError as error:
        return None, f"not JSON that can be read ({error})"
    problem = _shape_problem(value)
    return (None, f"not JSON that can be read ({problem})") if problem else (value, None)


def read_items(
    path: Path, report: Report, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` of each line that is a JSON object; the others are findings.

    Raises :class:`CannotCheckError` when the file cannot be read.
    """
    try:
        with path.open("rb", buffering=_SKIP_CHUNK) as handle:
            for number, (raw, size) in enumerate(read_lines(handle, max_line_bytes), 1):
                report.lines = number
                item = _line_item(raw, size, f"{path.name}:{number}", report, max_line_bytes)
                if item is not None:
                    yield number, item
    except OSError as error:
        raise CannotCheckError(f"cannot read {path}: {error.strerror or error}") from error


def _line_item(
    raw: bytes | None, size: int, where: str, report: Report, max_line_bytes: int
) -> dict[str, Any] | None:
    """The JSON object a line holds; None, and a finding, when it holds none."""
    if raw is None:
        limit = f"the limit of {max_line_bytes} (RFI_QA_MAX_LINE_BYTES)"
        report.add("too-long", where, f"{size} bytes, over {limit}: not read")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        report.add("not-json", where, f"not UTF-8 ({error.reason} at byte {error.start})")
        return None
    if not text.strip():
        report.add("not-json", where, "empty line")
        return None
    value, problem = parse_line(text)
    if problem:
        report.add("not-json", where, problem)
        return None
    if not isinstance(value, dict):
        report.add("not-json", where, f"a JSON {type(value).__name__}, not an object")
        return None
    if not raw.endswith(b"\n"):
        report.add("not-json", where, "last line has no newline (a torn write?)")
    return value


def find_seed_files(root: Path) -> list[Path]:
    """Seed-style files under ``root`` (``*.txt``, ``*.md``), hidden folders left out."""
    return sorted(
        path
        for path in root.rglob("*")
        if path.suffix in SEED_SUFFIXES
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
    )


def read_seed_files(
    paths: Iterable[Path], root: Path, report: Report, max_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[SeedFile, seedfile.SeedRecord]]:
    """Each file that parses, with what it holds; the others are findings."""
    for path in paths:
        where = path.relative_to(root).as_posix()
        try:
            size = path.stat().st_size
            text = path.read_text(encoding="utf-8") if size <= max_bytes else None
        except UnicodeDecodeError:
            report.add("bad-file", where, "not UTF-8")
            continue
        except OSError as error:
            raise CannotCheckError(f"cannot read {path}: {error.strerror or error}") from error
        if text is None:
            report.add("bad-file", where, f"{size} bytes, over the limit of {max_bytes}: not read")
            continue
        try:
            record = seedfile.read(text)
        except seedfile.SeedFormatError as error:
            report.add("bad-file", where, str(error))
            continue
        except ValueError:  # a timestamp of more digits than Python converts
            report.add("bad-file", where, "line 1: timestamp out of range")
            continue
        if checked_ms(record.ms) is None:
            report.add("bad-file", where, "line 1: timestamp out of range")
            continue
        key = canonical_url(record.url) or record.url
        yield SeedFile(path, where, record.url, key, record.ms, record.title), record


def file_fields(record: seedfile.SeedRecord) -> dict[str, Any]:
    """The item fields a seed-style file holds, read as the mirror entries it has the shape of
    (:func:`~rfi_spider.mirrors.entrypage.seed_item`: the same loader as every item)."""
    item = seed_item(record)
    return {name: item.get(name) for name in FILE_FIELDS}


def slim(record: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """What the tables need of a record: which fields are filled, its date and source.

    Kept instead of whole items, so that a large archive is checked in little memory.
    """
    return {
        name: record[name] if name in ("published_at", "source") else True
        for name in fields
        if _filled(record.get(name))
    }


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
    problem = _date_problem(when, now)
    if problem:
        report.add("date", seed.where, f"timestamp {iso_utc(when)} {problem}")
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
            expected = self.files_root / versions_read.versioned_name(name, version)
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


def check_versions(index: versions_read.VersionIndex, report: Report) -> None:
    """Each article's versions: lines that repeat one (``duplicate``), chains that break
    (``version-chain``); the articles edited into :attr:`Report.edited`."""
    for history in index.histories():
        label = readable(history.key)
        for line, first in history.duplicates:
            if line.legacy and first.legacy:
                message = f"same URL as line {first.number}: {label}"
            else:
                message = f"version {line.version} again, as on line {first.number}: {label}"
            report.add("duplicate", line.where, message)
        for line, message in history.problems:
            report.add("version-chain", line.where, f"{message} ({label})")
        if history.edited:
            report.edited.append(history)


def edited_items(report: Report, histories: Iterable[History]) -> dict[tuple[Path, int], Any]:
    """The items of every version of ``histories``, read back from items.jsonl, to diff.

    Raises :class:`CannotCheckError` when the file cannot be read.
    """
    lines = [line for history in histories for line in history.versions]
    try:
        return versions_read.load(lines, report.max_line_bytes)
    except OSError as error:
        raise CannotCheckError(
            f"cannot read {error.filename}: {error.strerror or error}"
        ) from error


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
    # A version in two folders is a duplicate; an article's versions may be in several
    # (each node exports the versions it fetched): chains and edits are read on the union.
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
        for line, message in history.problems:
            label = readable(history.key)
            union.add("version-chain", f"{line.source.parent}/{line.where}", f"{message} ({label})")
        if history.edited:
            union.edited.append(history)
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


# --- two archives side by side ---------------------------------------------------
@dataclass
class Comparison:
    """Two archives' articles, matched by canonical URL: ``this`` (checked) and ``other``."""

    this: Report
    other: Report

    @property
    def both(self) -> list[str]:
        return _by_date(self.this.articles.keys() & self.other.articles.keys(), self.this)

    @property
    def only_this(self) -> list[str]:
        return _by_date(self.this.articles.keys() - self.other.articles.keys(), self.this)

    @property
    def only_other(self) -> list[str]:
        return _by_date(self.other.articles.keys() - self.this.articles.keys(), self.other)

    def titles_differ(self) -> list[str]:
        return [
            key
            for key in self.both
            if not _same_text(self.this.articles[key][0], self.other.articles[key][0])
        ]

    def timeline(self, max_days: int) -> tuple[str, list[tuple[str, int, int]]]:
        """Articles per day in each archive over both spans; per month past ``max_days``."""
        this, other = dict(self.this.per_day()), dict(self.other.per_day())
        days = sorted(this.keys() | other.keys())
        if not days:
            return "day", []
        span = [date.fromordinal(n) for n in range(days[0].toordinal(), days[-1].toordinal() + 1)]
        if len(span) <= max_days:
            return "day", [(d.isoformat(), this.get(d, 0), other.get(d, 0)) for d in span]
        a, b = dict(_by_month(this.items())), dict(_by_month(other.items()))
        return "month", [(m, a.get(m, 0), b.get(m, 0)) for m in sorted(a.keys() | b.keys())]


def _by_date(keys: Iterable[str], report: Report) -> list[str]:
    """Article URLs in order of publication, then URL."""
    return sorted(keys, key=lambda key: (report.articles[key][1] or "", key))


def _by_month(days: Iterable[tuple[date, int]]) -> list[tuple[str, int]]:
    months: Counter[str] = Counter()
    for day, count in days:
        months[day.strftime("%Y-%m")] += count
    return sorted(months.items())


def render_comparison(comparison: Comparison, limit: int | None = 20) -> str:
    """The comparison for a terminal."""
    this, other = comparison.this, comparison.other
    count = len(other.articles)
    out = [
        f"Compared with {visible(str(other.root))}: {count} article{'s' * (count != 1)} "
        f"in its {other.counted}"
    ]
    differ = comparison.titles_differ()
    out.append(f"  in both:           {len(comparison.both)} (titles differ: {len(differ)})")
    out.append(f"  only in this one:  {len(comparison.only_this)}")
    out.append(f"  only in the other: {len(comparison.only_other)}")
    unit, rows = comparison.timeline(TEXT_MAX_DAYS)
    if rows:
        out.append("")
        out.append(f"  {unit:<10}  {'this':>6}  {'other':>6}")
        out.extend(
            f"  {label:<10}  {a:>6}  {b:>6}{'  <' if a != b else ''}" for label, a, b in rows
        )
    for heading, keys, report in (
        ("Only in this one", comparison.only_this, this),
        ("Only in the other", comparison.only_other, other),
        ("Titles that differ", differ, this),
    ):
        if not keys:
            continue
        out.append("")
        out.append(f"{heading} ({len(keys)})")
        shown = keys if limit is None else keys[:limit]
        for key in shown:
            title, url = visible(report.articles[key][0]), visible(readable(key))
            out.append(f"  {report.day_of(key):<10}  {title}  {url}")
        if len(keys) > len(shown):
            out.append(f"  ... and {len(keys) - len(shown)} more (--all shows every one)")
    return "\n".join(out) + "\n"


# --- text report ---------------------------------------------------------------
def bar(count: int, most: int, width: int = 30) -> str:
    return "#" * max(1 if count else 0, round(width * count / most)) if most else ""


def render_text(report: Report, limit: int | None = 20) -> str:
    """The report for a terminal: source, tables, then the problems and the verdict."""
    out = [f"QA of {visible(str(report.root))}"]
    if report.has_items_file:
        latest = " (each article once: its latest version)" if report.edited else ""
        out.append(f"  {ITEMS_FILE}: {report.lines} lines, {len(report.records)} items{latest}")
    else:
        out.append(f"  no {ITEMS_FILE}: counting the seed-style files")
    out.append(f"  seed-style files: {report.files} under {visible(report.files_root)}/")
    out.append("")
    total = len(report.records)
    out.append(f"Field coverage ({total} {report.counted})")
    width = max(len(name) for name in report.fields)
    for name, filled, count in report.coverage():
        share = f"{filled / count:.0%}" if count else "-"
        out.append(f"  {name:<{width}}  {filled:>6}  {share:>4}")
    out.append("")
    unit, rows = report.timeline(TEXT_MAX_DAYS)
    out.append(f"Articles per {unit} (publication date, Paris time)")
    most = max((n for _, n in rows), default=0)
    out.extend(f"  {label:<10}  {count:>5}  {bar(count, most)}" for label, count in rows)
    if not rows:
        out.append("  (no dates)")
    out.append("")
    out.append("Sources")
    for source, count in report.sources():
        out.append(f"  {visible(source):<20}  {count:>6}")
    warning = report.mirror_warning()
    if warning:
        out.append(visible(warning))
    out.append("")
    if report.has_items_file:
        out.extend(edited_lines(report, limit))
        out.append("")
    out.extend(given_up_lines(report, limit))
    if report.sitemaps is not None:
        out.extend(render_sitemaps(report.sitemaps, limit))
        out.append("")
    groups = report.by_kind()
    if not groups:
        out.append("Problems: none")
    for kind, found in groups.items():
        out.append(f"Problems: {KINDS.get(kind, kind)} ({len(found)})")
        shown = found if limit is None else found[:limit]
        out.extend(f"  {finding}" for finding in shown)
        if len(found) > len(shown):
            out.append(f"  ... and {len(found) - len(shown)} more (--all shows every one)")
    out.append("")
    out.append(verdict(report))
    return "\n".join(out) + "\n"


SITEMAPS_HEADING = "Coverage against the site's sitemaps"
# Over this many months, the terminal shows only the months with articles missing.
TEXT_MAX_MONTHS = 24


def render_sitemaps(coverage: SitemapCoverage, limit: int | None = 20) -> list[str]:
    """The coverage section's lines: one line when nothing was compared, else listed,
    archived and missing per month, then the missing URLs with their causes."""
    if coverage.note or coverage.error:
        return [f"{SITEMAPS_HEADING}: {visible(coverage.note or coverage.error or '')}"]
    out = [f"{SITEMAPS_HEADING} (state: {visible(str(coverage.state_dir))})"]
    out.append(f"  {'month':<10}  {'listed':>7}  {'archived':>8}  {'missing':>7}")
    months = coverage.months
    if limit is not None and len(months) > TEXT_MAX_MONTHS:
        months = [m for m in months if m.missing]
    for month in [*months, coverage.totals()]:
        mark = "  <" if month.missing and month.month != "total" else ""
        out.append(
            f"  {visible(month.month):<10}  {month.listed:>7}  {month.archived:>8}"
            f"  {month.missing:>7}{mark}"
        )
    if len(months) < len(coverage.months):
        hidden = len(coverage.months) - len(months)
        out.append(f"  ({hidden} months with nothing missing not shown; --all shows them)")
    missing = coverage.missing
    if missing:
        out.append(f"  Missing from the archive ({len(missing)})")
        shown = missing if limit is None else missing[:limit]
        out.extend(
            f"    {visible(m.month):<10}  {visible(readable(m.url))}  {visible(m.cause)}"
            for m in shown
        )
        if len(missing) > len(shown):
            out.append(f"    ... and {len(missing) - len(shown)} more (--all shows every one)")
    return out


EDITED_HEADING = "Edited articles"


def edited_summary(report: Report) -> str:
    """How many articles have more than one version, of how many."""
    count, total = len(report.edited), len(report.articles)
    if not count:
        return f"{EDITED_HEADING}: none (no article has more than one version)"
    have = "has" if count == 1 else "have"
    return f"{EDITED_HEADING}: {count} of {total} articles {have} more than one version"


def edited_lines(report: Report, limit: int | None) -> list[str]:
    """The edited-articles section: the count, then each article's URL, versions, title."""
    out = [edited_summary(report)]
    shown = report.edited if limit is None else report.edited[:limit]
    for history in shown:
        title = visible(report.articles.get(history.key, ("", None))[0])
        count = len(history.versions)
        out.append(f"  {visible(readable(history.key))}  {count} versions  {title}")
    if len(report.edited) > len(shown):
        out.append(f"  ... and {len(report.edited) - len(shown)} more (--all shows every one)")
    return out


def given_up_lines(report: Report, limit: int | None) -> list[str]:
    """The given-up articles (URL, attempts, last cause), a blank line after; none: no lines."""
    out: list[str] = []
    warning = report.given_up_warning()
    if warning:
        out.append(warning)
        shown = report.given_up if limit is None else report.given_up[:limit]
        width = max(len(str(r.attempts)) for r in shown)
        out.extend(
            f"  {visible(readable(r.url))}  {r.attempts:>{width}} attempt{'s' * (r.attempts != 1)}"
            f"  {visible(r.cause)}"
            for r in shown
        )
        if len(report.given_up) > len(shown):
            more = len(report.given_up) - len(shown)
            out.append(f"  ... and {more} more (--all shows every one)")
    if report.retrying:
        out.append(
            f"{report.retrying} other failed article{'s' * (report.retrying != 1)}"
            " will be tried again by the next crawl"
        )
    if out:
        out.append("")
    return out


def verdict(report: Report) -> str:
    if report.ok:
        return f"QA passed: {len(report.records)} {report.counted}, no problems."
    counts = ", ".join(f"{len(found)} {kind}" for kind, found in report.by_kind().items())
    problems = "problem" if len(report.findings) == 1 else "problems"
    return f"QA FAILED: {len(report.findings)} {problems} ({counts})."
