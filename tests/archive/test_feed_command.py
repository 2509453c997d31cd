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
