"""The Atom feed as a new user gets it: ``scrapy crawl rfi_cn -a demo=1 -O demo.atom`` and
``scrapy feed OUTPUT -o latest.atom``, each read back by feedparser and checked, entry by
entry, against ``items.jsonl``, and against an Atom validator's offline rules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import atomcheck
import pytest
from conftest import ROOT, CrawlResult, crawl_command

from rfi_spider.dates import PARIS


def scrapy_feed(*args: str) -> subprocess.CompletedProcess[str]:
    """``scrapy feed ARGS`` in a subprocess, from the checkout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RFI_OUTPUT_DIR", None)
    command = [sys.executable, "-m", "scrapy", "feed", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[CrawlResult, Path]:
    """The demo crawl with ``-O demo.atom``, exports in a temporary folder."""
    folder = tmp_path_factory.mktemp("atom")
    command, env = crawl_command(folder / "out", "demo=1")
    command += ["-O", str(folder / "demo.atom")]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    result = CrawlResult(done.returncode, done.stdout + done.stderr, folder / "out")
    assert result.returncode == 0, result.log[-3000:]
    return result, folder / "demo.atom"


def newest_first(items: list[dict]) -> list[str]:
    return [
        item["url"]
        for item in sorted(items, key=lambda i: datetime.fromisoformat(i["published_at"]))[::-1]
    ]


def test_crawl_to_atom_gives_every_article_in_full(demo: tuple[CrawlResult, Path]) -> None:
    result, feed = demo
    items = result.items
    assert len(items) >= 6  # the sample site's articles and the mirror's one
    data = feed.read_bytes()
    assert atomcheck.rule_violations(data) == []
    ids = atomcheck.check_feed_against_items(data, items)
    assert ids == [item["url"] for item in items]  # in the order they were exported


def test_scrapy_feed_of_the_archive_gives_every_article_newest_first(
    demo: tuple[CrawlResult, Path], tmp_path: Path
) -> None:
    result, _ = demo
    target = tmp_path / "latest.atom"
    done = scrapy_feed(str(result.output), "-o", str(target))
    assert done.returncode == 0, done.stderr
    assert f"Atom feed: {len(result.items)} entries" in done.stdout
    data = target.read_bytes()
    assert atomcheck.rule_violations(data) == []
    ids = atomcheck.check_feed_against_items(data, result.items)
    assert ids == newest_first(result.items)


def test_scrapy_feed_latest_and_since(demo: tuple[CrawlResult, Path], tmp_path: Path) -> None:
    result, _ = demo
    items = result.items
    order = newest_first(items)
    target = tmp_path / "latest.atom"
    done = scrapy_feed(str(result.output), "--latest", "2", "-o", str(target))
    assert done.returncode == 0, done.stderr
    assert (
        atomcheck.check_feed_against_items(
            target.read_bytes(), [item for url in order[:2] for item in items if item["url"] == url]
        )
        == order[:2]
    )

    # --since a day (Paris time): the articles published from its midnight on, and no other
    days = sorted(
        {datetime.fromisoformat(i["published_at"]).astimezone(PARIS).date() for i in items}
    )
    assert len(days) >= 2
    since = days[-1]
    kept = [
        item
        for item in items
        if datetime.fromisoformat(item["published_at"]).astimezone(PARIS).date() >= since
    ]
    assert 0 < len(kept) < len(items)
    done = scrapy_feed(str(result.output), "--since", since.isoformat(), "-o", str(target))
    assert done.returncode == 0, done.stderr
    ids = atomcheck.check_feed_against_items(target.read_bytes(), kept)
    assert ids == newest_first(kept)

    # both: the newest one of those
    done = scrapy_feed(
        str(result.output), "--since", since.isoformat(), "--latest", "1", "-o", str(target)
    )
    assert done.returncode == 0, done.stderr
    assert atomcheck.parse(target.read_bytes()).entries[0].id == newest_first(kept)[0]
    assert len(atomcheck.parse(target.read_bytes()).entries) == 1


HOSTILE_LINE = {
    "url": "https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/20240306-hostile",
    "title": "标题\u0001\u000b ]]> <![CDATA[x]]> \ufffe\U0001fffe 完",
    "published_at": "2024-03-06T09:15:00+01:00",
    "modified_at": None,
    "date_text": "06/03/2024 - 09:15",
    "lead_image": None,
    "summary": "导语 ]]> \u0002\u0085",
    "paragraphs": ["段落 ]]> \u0007"],
    "body_html": "<p onmouseover='x()'>段落 ]]&gt; \u0007<script>bad()</script></p>"
    "<iframe src='javascript:alert(1)'></iframe><p>\uffff ]]></p>",
    "section": "中国",
    "tags": ["\u0003标签"],
    "authors": ["作者\u001b"],
    "source": "rfi.fr",
    "edition": "cn",
    "crawled_at": "2024-03-06T10:00:00+00:00",
}


def test_scrapy_feed_of_hostile_lines_is_well_formed(tmp_path: Path) -> None:
    """Control characters, characters XML cannot hold and ``]]>`` in a JSON line (escaped
    as JSON allows) still give a well-formed, inert feed; a line with a lone surrogate,
    which is not Unicode text, is left out as ``bad_json``."""
    archive = tmp_path / "archive"
    archive.mkdir()
    surrogate = {**HOSTILE_LINE, "url": HOSTILE_LINE["url"] + "-2", "title": "\ud800"}
    lines = [json.dumps(HOSTILE_LINE), json.dumps(surrogate)]
    assert "\\u0001" in lines[0] and "\\ud800" in lines[1]  # escaped, as JSON allows
    (archive / "items.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    target = tmp_path / "latest.atom"
    done = scrapy_feed(str(archive), "-o", str(target))
    assert done.returncode == 0, done.stderr
    assert "rfi/atom/skipped/bad_json 1" in done.stderr
    data = target.read_bytes()
    assert atomcheck.rule_violations(data) == []
    (entry,) = atomcheck.parse(data).entries
    assert entry.title == "标题 ]]> <![CDATA[x]]> 完"
    assert entry.summary == "导语 ]]>"
    assert [a.name for a in entry.authors] == ["作者"]
    assert [t.term for t in entry.tags] == ["中国", "标签"]
    assert "段落 ]]&gt;" in entry.content[0].value
