"""The Atom entries of ``scrapy feed --changes``: each new version of an article (version 2
and later), with what changed since the version before as its content.

An entry's ``id`` is the article's URL with the version as fragment (``<url>#v2``): unique
per version, and still the article's address, as every other entry's id is its URL. Its
``updated`` is when the change was made: the new version's ``modified_at`` when the site
dated the edit (later than the version before's), else the time the crawl fetched it.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rfi_spider.archive import atom, versions_read
from rfi_spider.archive.versions_diff import ItemDiff, diff_items, marked_html
from rfi_spider.archive.versions_read import Line
from rfi_spider.dates import parse_aware_time


@dataclass
class Changes:
    """What :func:`newest_changes` found: entries newest first, and what was left out."""

    entries: list[atom.Entry] = field(default_factory=list)
    lines: int = 0
    versions: int = 0  # new versions in the archive (version 2 and later)
    older: int = 0  # changes made before --since
    skipped: Counter[str] = field(default_factory=Counter)
    editions: set[Any] = field(default_factory=set)


def changed_at(before: Line, after: Line) -> datetime | None:
    """When ``after`` was made: its ``modified_at`` if later than ``before``'s update,
    else when it was fetched."""
    modified = parse_aware_time(after.modified_at)
    if modified is not None and (before.updated is None or modified > before.updated):
        return modified
    return parse_aware_time(after.crawled_at) or after.updated


def diff_html(changes: ItemDiff) -> str:
    """The change as HTML an Atom reader shows: a paragraph per field and per paragraph
    changed, deletions in ``<del>``, insertions in ``<ins>``, every text escaped."""
    parts = []
    for name, spans in changes.fields.items():
        parts.append(f"<p><strong>{name}</strong>: {marked_html(spans, 'both', atom.xml_text)}</p>")
    for row in changes.changed_rows:
        if row.kind == "~":
            label = f"paragraph {row.new}"
        elif row.kind == "+":
            label = f"paragraph {row.new} added"
        else:
            label = f"paragraph {row.old} removed"
        parts.append(
            f"<p><strong>{label}</strong>: {marked_html(row.spans, 'both', atom.xml_text)}</p>"
        )
    return "".join(parts) or "<p>No change to title, summary or paragraphs.</p>"


def change_entry(
    before: dict[str, Any], after: dict[str, Any], when: datetime | None, version: int
) -> atom.Entry:
    """The entry of version ``version`` (``after``) against the one before; raises
    :class:`atom.NoEntryError` when ``after`` makes no entry."""
    entry = atom.entry_of(after)
    entry.link = entry.id
    entry.id = f"{entry.id}#v{version}"
    entry.title = atom.one_line(f"{entry.title} (version {version})")
    entry.updated = max(when, entry.published) if when else entry.updated
    entry.content = atom.xml_text(diff_html(diff_items(before, after)))
    return entry


def newest_changes(
    paths: list[Path], latest: int, since: datetime | None, max_line_bytes: int
) -> Changes:
    """The ``latest`` newest changes in ``paths`` (made at or after ``since``), newest first.

    Two passes: the versions of every line (no text kept), then the text of the versions
    the entries diff. Raises OSError when a file cannot be read.
    """
    scanned = versions_read.scan(paths, max_line_bytes)
    found = Changes(lines=scanned.lines)
    chosen: list[tuple[datetime, int, Line, Line]] = []  # a heap, oldest first
    order = 0
    for history in scanned.index.histories():
        for before, after in history.pairs():
            found.versions += 1
            when = changed_at(before, after)
            if when is None:
                found.skipped["no_date"] += 1
                continue
            if since is not None and when < since:
                found.older += 1
                continue
            order += 1
            heapq.heappush(chosen, (when, order, before, after))
            if len(chosen) > latest:
                heapq.heappop(chosen)
    items = versions_read.load([line for _, _, b, a in chosen for line in (b, a)], max_line_bytes)
    for when, _order, before, after in sorted(chosen, key=lambda c: (c[0], c[1]), reverse=True):
        new = items.get((after.source, after.number), {})
        try:
            entry = change_entry(
                items.get((before.source, before.number), {}), new, when, after.version
            )
        except atom.NoEntryError as skip:
            found.skipped[skip.reason] += 1
            continue
        found.entries.append(entry)
        found.editions.add(new.get("edition"))
    return found
