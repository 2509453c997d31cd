"""The versions of each article in ``items.jsonl``: which lines they are, and whether their
chain holds.

An article edited after it was archived has one line per version (``docs/item-spec.md``):
``version`` 1, 2, …, its ``content_digest`` and the ``previous_digest`` of the version
before (null for version 1). Lines of older archives have none of these fields: such a
line is version 1. ``scrapy versions``, ``scrapy qa`` and ``scrapy feed --changes`` read
the versions through this module and diff them with ``rfi_spider.archive.versions_diff``.

Reading is two passes when the whole archive is wanted: :func:`scan` keeps only a small
:class:`Line` per line (no text), :func:`load` then reads back the few lines whose text
is shown. One article's versions (:func:`scan` with ``only``) are read in one pass.

The chain of an article is broken when a version number is missing, when a version's
``previous_digest`` is not the ``content_digest`` of the version before, when version 1
names a previous digest or a later version names none, when a version repeats the digest
of the one before (no change), or when two lines give the same version different digests.
The same version twice with the same digest, or two lines of an older archive for one
URL, are duplicates (as in an archive without versions).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rfi_spider.archive.jsonl_read import parse_line, read_lines
from rfi_spider.canonical import canonical_url
from rfi_spider.dates import parse_aware_time

VERSION_FIELDS = ("version", "content_digest", "previous_digest")
_DIGEST = re.compile(r"[0-9a-f]{64}")


def _digest(value: Any) -> str | None:
    return value if isinstance(value, str) and _DIGEST.fullmatch(value) else None


def short(digest: str | None) -> str:
    """A digest as a person reads it: its first 12 hex digits, or ``-``."""
    return digest[:12] if digest else "-"


@dataclass(frozen=True)
class Line:
    """One line of ``items.jsonl`` that names an article: which version of which article.

    ``legacy``: the line has no (valid) ``version``; it is read as version 1.
    ``updated``: ``modified_at``, else ``published_at`` (which of two older lines wins).
    """

    source: Path
    number: int
    key: str
    version: int
    digest: str | None
    previous: str | None
    legacy: bool
    updated: datetime | None
    crawled_at: str | None
    modified_at: str | None
    published_at: str | None

    @property
    def where(self) -> str:
        return f"{self.source.name}:{self.number}"


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def line_of(source: Path, number: int, key: str, item: Mapping[str, Any]) -> Line:
    """The :class:`Line` of an item (``key``: its canonical URL). A ``version`` that is not a
    whole number of 1 or more reads as none (version 1); the schema reports it."""
    version = item.get("version")
    valid = type(version) is int and version >= 1
    published = parse_aware_time(item.get("published_at"))
    modified = parse_aware_time(item.get("modified_at"))
    return Line(
        source=source,
        number=number,
        key=key,
        version=version if valid else 1,  # type: ignore[arg-type]
        digest=_digest(item.get("content_digest")),
        previous=_digest(item.get("previous_digest")),
        legacy=not valid,
        updated=modified or published,
        crawled_at=_string(item.get("crawled_at")),
        modified_at=_string(item.get("modified_at")),
        published_at=_string(item.get("published_at")),
    )


def _wins(line: Line, over: Line) -> bool:
    """Of two lines of one version, the one shown: the later update, the later line on a
    tie (the rule ``scrapy feed`` reads an older archive's repeated URLs by)."""
    if line.updated is None or over.updated is None:
        return over.updated is None
    return line.updated >= over.updated


@dataclass
class History:
    """The versions of one article, one line per version number, in order; what breaks
    their chain (``(line, message)``) and the lines that repeat a version."""

    key: str
    versions: list[Line] = field(default_factory=list)
    problems: list[tuple[Line, str]] = field(default_factory=list)
    duplicates: list[tuple[Line, Line]] = field(default_factory=list)  # (line, first line)

    @property
    def edited(self) -> bool:
        return len(self.versions) > 1

    @property
    def latest(self) -> Line:
        return self.versions[-1]

    def pairs(self) -> list[tuple[Line, Line]]:
        """Each version after the first with the version before it (when both are here)."""
        return [
            (before, after)
            for before, after in zip(self.versions, self.versions[1:], strict=False)
            if after.version == before.version + 1
        ]


def history_of(key: str, lines: Iterable[Line]) -> History:
    """The :class:`History` of one article from its lines (in the order they were read)."""
    history = History(key)
    groups: dict[int, list[Line]] = {}
    for line in lines:
        groups.setdefault(line.version, []).append(line)
    for version in sorted(groups):
        group = groups[version]
        first, shown = group[0], group[0]
        for line in group[1:]:
            digests = {line.digest, first.digest}
            if None not in digests and len(digests) > 1:
                history.problems.append(
                    (
                        line,
                        f"version {version} again, with another content_digest "
                        f"({short(line.digest)}) than on {first.where} ({short(first.digest)})",
                    )
                )
            else:
                history.duplicates.append((line, first))
            if _wins(line, shown):
                shown = line
        history.versions.append(shown)
    _check_chain(history)
    return history


def _check_chain(history: History) -> None:
    present = [line.version for line in history.versions]
    missing = sorted(set(range(1, present[-1] + 1)) - set(present)) if present else []
    if missing:
        names = ", ".join(map(str, missing))
        history.problems.append(
            (
                history.latest,
                f"version{'s' * (len(missing) > 1)} {names} missing "
                f"(versions here: {', '.join(map(str, present))})",
            )
        )
    by_number = {line.version: line for line in history.versions}
    for line in history.versions:
        if line.version == 1:
            if line.previous is not None:
                history.problems.append((line, "version 1 names a previous_digest"))
            continue
        if line.previous is None:
            history.problems.append((line, f"version {line.version} has no previous_digest"))
            continue
        before = by_number.get(line.version - 1)
        if before is None or before.digest is None:
            continue  # missing (said above), or an older archive's line: nothing to compare
        if line.previous != before.digest:
            history.problems.append(
                (
                    line,
                    f"version {line.version}'s previous_digest {short(line.previous)} is not "
                    f"version {before.version}'s content_digest {short(before.digest)} "
                    f"({before.where})",
                )
            )
        elif line.digest == before.digest:
            history.problems.append(
                (line, f"version {line.version} has the content_digest of version {before.version}")
            )


class VersionIndex:
    """The :class:`Line` of every article line read, grouped by article (canonical URL)."""

    def __init__(self) -> None:
        self._lines: dict[str, list[Line]] = {}

    def add(self, line: Line) -> None:
        self._lines.setdefault(line.key, []).append(line)

    def __contains__(self, key: str) -> bool:
        return key in self._lines

    def __len__(self) -> int:
        return len(self._lines)

    def history(self, key: str) -> History:
        return history_of(key, self._lines.get(key, []))

    def histories(self) -> Iterator[History]:
        for key, lines in self._lines.items():
            yield history_of(key, lines)

    def versions(self) -> set[tuple[str, int]]:
        """``(article, version)`` of every line."""
        return {(key, line.version) for key, lines in self._lines.items() for line in lines}

    def extend(self, other: VersionIndex) -> None:
        """Add another index's lines (another folder's: a distributed crawl's nodes)."""
        for lines in other._lines.values():
            for line in lines:
                self.add(line)


@dataclass
class Scan:
    """What :func:`scan` read: the index, lines read, and ``items`` (``(source, line)`` ->
    item) when asked to keep them."""

    index: VersionIndex = field(default_factory=VersionIndex)
    lines: int = 0
    items: dict[tuple[Path, int], dict[str, Any]] = field(default_factory=dict)


def _objects(path: Path, max_line_bytes: int) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` of each line that is a whole JSON object; others skipped
    (``scrapy qa`` reports them). Raises OSError when the file cannot be read."""
    with path.open("rb") as handle:
        for number, (raw, _size) in enumerate(read_lines(handle, max_line_bytes), 1):
            if raw is None or not raw.endswith(b"\n"):
                continue
            try:
                value, _problem = parse_line(raw.decode("utf-8"))
            except UnicodeDecodeError:
                continue
            if isinstance(value, dict):
                yield number, value


def item_key(item: Mapping[str, Any]) -> str | None:
    """The article an item is a version of: the canonical form of its ``url``."""
    url = item.get("url")
    if not isinstance(url, str):
        return None
    return canonical_url(url) or url


def scan(
    paths: Iterable[Path],
    max_line_bytes: int,
    only: str | None = None,
    into: Scan | None = None,
) -> Scan:
    """Read the article lines of each ``items.jsonl``; with ``only`` (a canonical URL), that
    article's lines alone, their items kept too. Raises OSError when a file cannot be read."""
    found = into or Scan()
    for path in paths:
        for number, item in _objects(path, max_line_bytes):
            found.lines += 1
            key = item_key(item)
            if key is None or (only is not None and key != only):
                continue
            found.index.add(line_of(path, number, key, item))
            if only is not None:
                found.items[(path, number)] = item
    return found


def load(lines: Iterable[Line], max_line_bytes: int) -> dict[tuple[Path, int], dict[str, Any]]:
    """The items of ``lines``, read back from their files: ``(source, line)`` -> item."""
    wanted: dict[Path, set[int]] = {}
    for line in lines:
        wanted.setdefault(line.source, set()).add(line.number)
    items: dict[tuple[Path, int], dict[str, Any]] = {}
    for path, numbers in wanted.items():
        last = max(numbers)
        for number, item in _objects(path, max_line_bytes):
            if number in numbers:
                items[(path, number)] = item
            if number >= last:
                break
    return items
