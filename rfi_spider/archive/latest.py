"""The newest articles of an archive's ``items.jsonl``, read in one pass in bounded memory.

``scrapy feed`` turns them into an Atom feed. The file is read line by line and only the
``latest`` newest items (by ``published_at``) are held, in a heap; a line too long, not JSON,
not an object, or an item that makes no Atom entry (:func:`rfi_spider.archive.atom.check_item`)
is counted by reason and passed over. A URL met twice is kept once: the copy with the later
update (``modified_at``), the later line on a tie.

The price of holding only N items: a copy met after the earlier one was dropped is judged
anew (its earlier update is no longer known), and a later copy with an earlier
``published_at`` (a corrected date) can push its URL below an item already let go, which
does not come back. Re-exports of edited articles keep ``published_at`` and raise
``modified_at``: for them the answer is exactly the plain sort's
(``tests/archive/test_latest_bounds.py``).
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rfi_spider.archive import atom
from rfi_spider.archive.jsonl_read import MAX_LINE_BYTES, parse_line, read_lines
from rfi_spider.dates import parse_aware_time


@dataclass
class Newest:
    """What :func:`newest_items` found."""

    items: list[dict[str, Any]]  # newest first
    lines: int = 0  # lines read
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> lines passed over
    older: int = 0  # items published before --since


@dataclass(order=True)
class _Kept:
    published: datetime
    line: int
    url: str = field(compare=False)
    updated: datetime = field(compare=False)
    item: dict[str, Any] = field(compare=False)


def newest_items(
    path: Path,
    latest: int,
    since: datetime | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Newest:
    """The ``latest`` items of ``path`` published last (at or after ``since``), newest first.

    Memory holds at most ``latest`` items (and, between two compactions, at most as many
    stale heap slots): an archive of any size is read in one pass.
    """
    if latest < 1:
        raise ValueError("latest must be 1 or more")
    found = Newest(items=[])
    heap: list[_Kept] = []  # oldest kept first; slots of replaced duplicates are stale
    kept: dict[str, _Kept] = {}  # url -> the live slot
    with path.open("rb") as handle:
        for raw, _size in read_lines(handle, max_line_bytes):
            found.lines += 1
            value = _item(raw, found)
            if value is None:
                continue
            try:
                url, published = atom.check_item(value)
            except atom.NoEntryError as skip:
                found.skipped[skip.reason] += 1
                continue
            if since is not None and published < since:
                found.older += 1
                continue
            modified = parse_aware_time(value.get("modified_at"))
            slot = _Kept(published, found.lines, url, max(published, modified or published), value)
            _keep(slot, heap, kept, latest, found)
    found.items = [slot.item for slot in sorted(kept.values(), reverse=True)]
    return found


def _item(raw: bytes | None, found: Newest) -> dict[str, Any] | None:
    """The JSON object of a line read whole; None (counted by reason) for any other."""
    if raw is None:
        found.skipped["too_long"] += 1
        return None
    if not raw.endswith(b"\n"):  # a line still being written, or torn
        found.skipped["torn_line"] += 1
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        found.skipped["not_utf8"] += 1
        return None
    value, _problem = parse_line(text)
    if not isinstance(value, dict):
        found.skipped["bad_json" if value is None else "not_an_object"] += 1
        return None
    return value


def _keep(
    slot: _Kept, heap: list[_Kept], kept: dict[str, _Kept], latest: int, found: Newest
) -> None:
    """Keep ``slot`` if it is among the ``latest`` newest (a URL's later update replaces
    the copy kept); the heap is compacted in place when its stale slots pile up."""
    before = kept.get(slot.url)
    if before is not None:
        found.skipped["duplicate"] += 1
        if slot.updated < before.updated:
            return
    elif len(kept) >= latest and heap and slot < _oldest_live(heap, kept):
        return  # older than everything kept: never pushed
    kept[slot.url] = slot
    heapq.heappush(heap, slot)
    while len(kept) > latest:
        _drop_oldest(heap, kept)
    if len(heap) > 2 * latest + 64:
        heap[:] = list(kept.values())
        heapq.heapify(heap)


def _live(slot: _Kept, kept: dict[str, _Kept]) -> bool:
    return kept.get(slot.url) is slot


def _oldest_live(heap: list[_Kept], kept: dict[str, _Kept]) -> _Kept:
    while not _live(heap[0], kept):
        heapq.heappop(heap)
    return heap[0]


def _drop_oldest(heap: list[_Kept], kept: dict[str, _Kept]) -> None:
    slot = _oldest_live(heap, kept)
    heapq.heappop(heap)
    del kept[slot.url]
