"""QA's checks of one item and one seed-style file: an item against the schema and the
clock, a file against its item (or, without ``items.jsonl``, on its own), and the pairing
of each item with its file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rfi_spider.archive import seedfile
from rfi_spider.archive.seedfile import seed_file_name
from rfi_spider.archive.versions import versioned_name
from rfi_spider.dates import checked_time, iso_utc
from rfi_spider.extract.loaders import SITE_SOURCE
from rfi_spider.item_schema import field_errors, value_errors
from rfi_spider.quality.qa.report import (
    EARLIEST_YEAR,
    ITEMS_FILE,
    TIMESTAMPS,
    Report,
    SeedFile,
    _same_text,
    readable,
)


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
