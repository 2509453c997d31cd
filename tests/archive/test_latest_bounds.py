"""``newest_items`` over an archive of thousands of lines: its heap stays within a fixed
multiple of N (stale copies are compacted), and its answer is the plain sort's.

The heap is watched through a seam, not by timing: ``_keep`` (one call per line kept for
judging) is wrapped so the heap and the live slots are measured after every call.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rfi_spider.archive import latest
from rfi_spider.archive.latest import newest_items

SITE = "https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/"
START = datetime(2024, 1, 1, tzinfo=UTC)
LINES = 6000


def archive_lines(rng: random.Random) -> list[dict[str, Any]]:
    """Items roughly in publication order but shuffled within a day, many sharing one
    ``published_at`` (ties), and recent URLs exported again and again further down with a
    later or equal ``modified_at`` and the same ``published_at`` (what re-exports of edited
    articles append), now and then in a burst: the copies they replace pile up in the heap
    as stale slots."""
    items: list[dict[str, Any]] = []
    last: dict[str, dict[str, Any]] = {}
    recent: list[str] = []
    for number in range(LINES):
        again = None
        if number % 1500 >= 1100:  # a burst of copies of the newest item: kept throughout
            again = max(recent, key=lambda url: (last[url]["published_at"], url))
        elif recent and rng.random() < 0.4:  # a recent URL, exported again
            again = rng.choice(recent[-50:])
        if again:
            before = last[again]
            step = timedelta(minutes=rng.choice((0, 0, 1, 30)))  # equal updates too
            changed = datetime.fromisoformat(before["modified_at"]) + step
            item = {**before, "modified_at": changed.isoformat(), "title": f"copy {number}"}
        else:
            published = START + timedelta(hours=number // 10 + rng.randrange(-24, 24))
            url = f"{SITE}{number}"
            recent.append(url)
            item = {
                "url": url,
                "title": f"item {number}",
                "published_at": published.isoformat(),
                "modified_at": published.isoformat(),
            }
        last[item["url"]] = item
        items.append(item)
    return items


def plain_sort(items: list[dict[str, Any]], latest_n: int) -> list[dict[str, Any]]:
    """The documented answer, the simple way: one copy per URL (the later ``modified_at``,
    the later line on a tie), then newest ``published_at`` first, the later line first
    among equal times; the first N."""
    chosen: dict[str, tuple[datetime, int, dict[str, Any]]] = {}
    for line, item in enumerate(items):
        updated = datetime.fromisoformat(item["modified_at"])
        if item["url"] not in chosen or updated >= chosen[item["url"]][0]:
            chosen[item["url"]] = (updated, line, item)
    order = sorted(
        chosen.values(),
        key=lambda c: (datetime.fromisoformat(c[2]["published_at"]), c[1]),
        reverse=True,
    )
    return [item for _updated, _line, item in order[:latest_n]]


@pytest.mark.parametrize("latest_n", [1, 7, 100])
def test_the_heap_stays_bounded_and_the_answer_is_the_plain_sort(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, latest_n: int
) -> None:
    items = archive_lines(random.Random(latest_n))
    path = tmp_path / "items.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    sizes: list[tuple[int, int]] = []
    keep = latest._keep

    def measured(slot: Any, heap: list[Any], kept: dict[str, Any], n: int, found: Any) -> None:
        keep(slot, heap, kept, n, found)
        sizes.append((len(heap), len(kept)))

    monkeypatch.setattr(latest, "_keep", measured)
    found = newest_items(path, latest_n)
    assert len(sizes) == LINES  # every line was judged, so every step was measured
    assert max(live for _heap, live in sizes) == latest_n
    # Stale slots (replaced copies) are compacted away: never more than 2N + 64 slots.
    assert max(heap for heap, _live in sizes) <= 2 * latest_n + 64
    assert found.items == plain_sort(items, latest_n)
    assert found.lines == LINES
