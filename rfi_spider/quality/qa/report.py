"""QA's report: the kinds of problem, a :class:`Finding`, the :class:`Report` the checks
fill and the renderers read, and :func:`visible`, through which every value shown passes
(no control character, bidi mark or surrogate reaches a terminal or the page as itself)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from rfi_spider.archive.failures import FailureRecord
from rfi_spider.archive.jsonl_read import MAX_LINE_BYTES
from rfi_spider.archive.versions_read import History, VersionIndex
from rfi_spider.dates import PARIS, checked_paris_day
from rfi_spider.extract.loaders import SITE_SOURCE
from rfi_spider.extract.processors import clean_text, decode_entities
from rfi_spider.items import FIELDS
from rfi_spider.quality.sitemap_coverage import SitemapCoverage

ITEMS_FILE = "items.jsonl"


ARTICLES_DIR = "articles"


SEED_SUFFIXES = (".txt", ".md")


EARLIEST_YEAR = 2000


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
    version_index: VersionIndex | None = None
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


def _same_text(a: str, b: str) -> bool:
    return clean_text(decode_entities(a)) == clean_text(decode_entities(b))


def _by_month(days: Iterable[tuple[date, int]]) -> list[tuple[str, int]]:
    """Counts per ``YYYY-MM`` month, in order. The year is written with four digits, not by
    ``strftime("%Y")`` (glibc writes year 999 as ``999``, which sorts after ``2024``)."""
    months: Counter[str] = Counter()
    for day, count in days:
        months[f"{day.year:04d}-{day.month:02d}"] += count
    return sorted(months.items())
