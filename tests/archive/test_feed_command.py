"""``scrapy feed``'s choice of items at its edges: an item published exactly at ``--since``,
one URL on two lines with one update time, and a year below 1000 (issue 30, items 7 and 8;
issue 24, item 10)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import atomcheck
from conftest import FIXTURES, ROOT
from lxml import etree

from rfi_spider.archive import atom
from rfi_spider.archive.latest import newest_items
from rfi_spider.dates import rfc3339

ARTICLE = json.loads((FIXTURES / "sample_site_expected.json").read_text(encoding="utf-8"))[
    "articles"
][0]
SITE = "https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/"


def article(slug: str, published_at: str, **fields: Any) -> dict[str, Any]:
    """A sample-site item at another URL and publication time."""
    return {**ARTICLE, "url": SITE + slug, "published_at": published_at, **fields}


def write_items(folder: Path, *items: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
    (folder / "items.jsonl").write_text(lines, encoding="utf-8")
    return folder


def scrapy_feed(*args: str) -> subprocess.CompletedProcess[str]:
    """``scrapy feed ARGS`` in a subprocess, from the checkout (no crawl: it reads a file)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RFI_OUTPUT_DIR", None)
    command = [sys.executable, "-m", "scrapy", "feed", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def entry_ids(feed: Path) -> list[str]:
    data = feed.read_bytes()
    assert atomcheck.rule_violations(data) == []
    return [entry.id for entry in atomcheck.parse(data).entries]


def test_an_item_published_exactly_at_since_is_in_the_feed(tmp_path: Path) -> None:
    """``--since`` means "at or after": the item published at that very second (written
    with another offset) is in the feed; the one a second before is not."""
    since = "2024-03-06T09:15:00+01:00"
    archive = write_items(
        tmp_path / "archive",
        article("before", "2024-03-06T08:14:59+00:00"),
        article("exactly", "2024-03-06T08:15:00+00:00"),
        article("after", "2024-03-06T10:00:00+01:00"),
    )
    feed = tmp_path / "feed.atom"
    done = scrapy_feed(str(archive), "--since", since, "-o", str(feed))
    assert done.returncode == 0, done.stderr
    assert "Atom feed: 2 entries of 3 lines" in done.stdout
    assert entry_ids(feed) == [SITE + "after", SITE + "exactly"]


def twice_with_one_update_time(folder: Path) -> tuple[Path, dict[str, Any]]:
    """An archive with a URL on two lines, one ``modified_at``, another item between them;
    and the later line's item."""
    first = article("same", "2024-03-06T09:15:00+01:00", modified_at="2024-03-07T10:00:00+01:00")
    later = {**first, "title": "第二次导出的标题"}
    older = article("older", "2024-03-01T09:00:00+01:00")
    return write_items(folder, first, older, later), later


def test_one_url_twice_with_one_update_time_the_later_line_wins(tmp_path: Path) -> None:
    """A URL exported again with the same ``modified_at`` (a re-extraction, a second node):
    the later line is the one kept, wherever its copy sits among the others."""
    archive, later = twice_with_one_update_time(tmp_path / "archive")
    for latest in (1, 2, 5):  # the copy kept alone, and beside others
        found = newest_items(archive / "items.jsonl", latest)
        assert found.skipped == {"duplicate": 1}
        assert [item["title"] for item in found.items if item["url"] == later["url"]] == [
            later["title"]
        ]


def test_scrapy_feed_shows_the_later_line_of_a_url_twice(tmp_path: Path) -> None:
    archive, later = twice_with_one_update_time(tmp_path / "archive")
    feed = tmp_path / "feed.atom"
    done = scrapy_feed(str(archive), "-o", str(feed))
    assert done.returncode == 0, done.stderr
    assert "rfi/atom/skipped/duplicate 1" in done.stderr
    (entry, _older) = atomcheck.parse(feed.read_bytes()).entries
    assert entry.title == later["title"]


def test_a_later_line_with_an_earlier_update_does_not_win(tmp_path: Path) -> None:
    newer = article("same", "2024-03-06T09:15:00+01:00", modified_at="2024-03-08T10:00:00+01:00")
    stale = {**newer, "modified_at": "2024-03-07T10:00:00+01:00", "title": "旧的标题"}
    archive = write_items(tmp_path / "archive", newer, stale)
    (kept,) = newest_items(archive / "items.jsonl", 5).items
    assert kept["title"] == newer["title"]


def test_rfc3339_writes_four_digit_years() -> None:
    """RFC 3339's ``date-fullyear`` is four digits: year 999 is ``0999``, not ``999``."""
    when = atom.parse_aware_time("0999-05-01T12:00:00+00:00")
    assert when is not None
    assert rfc3339(when) == "0999-05-01T12:00:00Z"
    first = atom.parse_aware_time("0001-01-01T00:00:00+00:00")
    assert first is not None and rfc3339(first) == "0001-01-01T00:00:00Z"
    later = atom.parse_aware_time("2024-03-06T09:15:00+01:00")
    assert later is not None and rfc3339(later) == "2024-03-06T08:15:00Z"


def test_a_year_below_1000_gives_a_valid_feed(tmp_path: Path) -> None:
    """An item dated year 999 (a typo upstream) is an entry with a valid RFC 3339 date,
    so the feed's other entries stay readable to a strict reader."""
    archive = write_items(
        tmp_path / "archive",
        article("ancient", "0999-05-01T12:00:00+00:00"),
        article("recent", "2024-03-06T09:15:00+01:00"),
    )
    feed = tmp_path / "feed.atom"
    done = scrapy_feed(str(archive), "-o", str(feed))
    assert done.returncode == 0, done.stderr
    assert entry_ids(feed) == [SITE + "recent", SITE + "ancient"]  # rule_violations: none
    root = etree.fromstring(feed.read_bytes())
    dates = root.xpath("//a:entry/a:published/text()", namespaces={"a": atom.ATOM_NS})
    assert dates == ["2024-03-06T08:15:00Z", "0999-05-01T12:00:00Z"]


def test_the_latest_n_are_the_newest_published_newest_first(tmp_path: Path) -> None:
    """``--latest N`` keeps the N published last, whatever the lines' order, and a URL seen
    again after it was dropped is judged anew."""
    days = [5, 1, 9, 3, 7, 2, 8]
    items = [article(f"day-{day}", f"2024-03-0{day}T12:00:00+01:00") for day in days]
    items.append(article("day-1", "2024-03-01T12:00:00+01:00", title="旧文再次导出"))
    archive = write_items(tmp_path / "archive", *items)
    found = newest_items(archive / "items.jsonl", 3)
    assert [item["url"] for item in found.items] == [SITE + f"day-{d}" for d in (9, 8, 7)]
    assert found.lines == 8 and found.older == 0


def test_many_copies_of_one_url_keep_memory_bounded_and_the_last(tmp_path: Path) -> None:
    """A URL exported again and again, each update later than the one before: the last copy
    is kept, and the newest items stay right whenever the stale copies were compacted away
    (every count of copies up to 150, so compaction falls on every position)."""

    def slim(slug: str, published_at: str, **fields: str) -> dict[str, str]:
        """The fields newest_items reads, no body: the archives below are small."""
        return {"url": SITE + slug, "title": slug, "published_at": published_at, **fields}

    copies = [
        slim("busy", "2024-03-06T09:00:00+01:00", modified_at=f"2024-03-07T{h:02d}:{m:02d}:00Z")
        for h in range(10)
        for m in range(0, 60, 4)
    ]
    newest, newer = (slim(f"other-{d}", f"2024-03-0{d}T08:00:00+01:00") for d in (9, 7))
    path = tmp_path / "items.jsonl"
    for count in range(1, len(copies) + 1):
        write_items(tmp_path, newest, *copies[:count], newer)
        found = newest_items(path, 2)
        assert [item["url"] for item in found.items] == [newest["url"], newer["url"]], count
        assert found.skipped["duplicate"] == count - 1 == found.skipped.total()
    found = newest_items(path, 3)
    assert [item["url"] for item in found.items] == [newest["url"], newer["url"], SITE + "busy"]
    assert found.items[2]["modified_at"] == copies[-1]["modified_at"] == "2024-03-07T09:56:00Z"


def test_lines_that_make_no_entry_are_counted_by_reason(tmp_path: Path) -> None:
    good = article("good", "2024-03-06T09:15:00+01:00")
    lines = [
        json.dumps(good).encode() + b"\n",
        b'{"url": "' + b"x" * 5000 + b'"}\n',  # too long for max_line_bytes
        b"\xff\xfe not UTF-8\n",
        b"{not json\n",
        b"[1, 2]\n",
        json.dumps({**good, "url": "ftp://x"}).encode() + b"\n",
        json.dumps({**good, "url": SITE + "b", "published_at": "2024-03-06"}).encode() + b"\n",
        json.dumps({**good, "url": SITE + "c", "title": " \x01"}).encode() + b"\n",
        json.dumps({**good, "url": SITE + "d", "published_at": "2024-03-01T00:00:00Z"}).encode()
        + b"\n",
        json.dumps({**good, "url": SITE + "torn"}).encode(),  # no newline: still being written
    ]
    path = tmp_path / "items.jsonl"
    path.write_bytes(b"".join(lines))
    since = atom.parse_aware_time("2024-03-02T00:00:00+00:00")
    found = newest_items(path, 5, since, max_line_bytes=4096)
    assert [item["url"] for item in found.items] == [good["url"]]
    assert found.lines == len(lines)
    assert found.older == 1
    assert found.skipped == {
        "too_long": 1,
        "not_utf8": 1,
        "bad_json": 1,
        "not_an_object": 1,
        "no_url": 1,
        "no_date": 1,
        "no_title": 1,
        "torn_line": 1,
    }
