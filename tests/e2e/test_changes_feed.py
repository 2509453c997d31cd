"""``scrapy feed OUTPUT --changes -o FILE``: each new version of an edited article as an
Atom entry, the diff as its content, read back by feedparser."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import atomcheck
import versioned
from conftest import ROOT
from lxml import html
from versioned import ADDED, REMOVED, TITLE


def scrapy_feed(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RFI_OUTPUT_DIR", None)
    command = [sys.executable, "-m", "scrapy", "feed", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_changes_are_entries_with_the_diff_newest_first(tmp_path: Path) -> None:
    root = versioned.write_archive(tmp_path / "out", versioned.edited_lines(), files=False)
    target = tmp_path / "changes.atom"
    done = scrapy_feed(str(root), "--changes", "-o", str(target))
    assert done.returncode == 0, done.stderr
    assert "Atom feed of changes: 4 entries of 4 new versions" in done.stdout
    data = target.read_bytes()
    assert atomcheck.rule_violations(data) == []
    entries = atomcheck.parse(data).entries
    got = [(e.id, e.link, e.title, e.updated, e.content[0].value) for e in entries]
    assert got == [
        (
            f"{ADDED}#v3",
            ADDED,
            "地震 (version 3)",
            "2024-03-06T13:00:00Z",
            "<p><strong>paragraph 2</strong>: 第二段说的是<del>晚间</del><ins>早上</ins>。</p>",
        ),
        (
            f"{REMOVED}#v2",
            REMOVED,
            "选举 (version 2)",
            "2024-03-06T12:00:00Z",
            "<p><strong>paragraph 2 removed</strong>: <del>将被删除的段落。</del></p>",
        ),
        (
            f"{ADDED}#v2",
            ADDED,
            "地震 (version 2)",
            "2024-03-06T12:00:00Z",
            "<p><strong>paragraph 3 added</strong>: <ins>新增的第三段。</ins></p>",
        ),
        (
            f"{TITLE}#v2",
            TITLE,
            "瑞典正式成为北约第32个成员国 (version 2)",
            # the site dated this edit: its modified_at, not the fetch (11:00)
            "2024-03-06T10:05:00Z",
            "<p><strong>title</strong>: 瑞典正式<del>加入</del><ins>成为</ins>北约"
            "<ins>第32个成员国</ins></p>",
        ),
    ]

    done = scrapy_feed(
        str(root), "--changes", "--latest", "1", "--since", "2024-03-06T12:30:00+00:00",
        "-o", str(target),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [e.id for e in atomcheck.parse(target.read_bytes()).entries] == [f"{ADDED}#v3"]


def test_hostile_text_in_a_change_is_escaped_and_inert(tmp_path: Path) -> None:
    lines = versioned.versions(
        versioned.article(TITLE, "标题", ["正文"]),
        versioned.article(TITLE, "标题", ["正文", '<script>alert("x")</script>\x01 ]]> &amp;']),
    )
    root = versioned.write_archive(tmp_path / "out", lines, files=False)
    target = tmp_path / "changes.atom"
    done = scrapy_feed(str(root), "--changes", "-o", str(target))
    assert done.returncode == 0, done.stderr
    data = target.read_bytes()
    assert atomcheck.rule_violations(data) == []
    (entry,) = atomcheck.parse(data).entries
    content = entry.content[0].value
    tree = html.fragment_fromstring(content, create_parent="div")
    assert not tree.cssselect("script")
    assert tree.cssselect("ins")[0].text == '<script>alert("x")</script> ]]> &amp;'


def test_an_archive_without_changes_gives_an_empty_feed_and_says_so(tmp_path: Path) -> None:
    lines = [line for line in versioned.edited_lines() if line.get("version", 1) == 1]
    root = versioned.write_archive(tmp_path / "out", lines, files=False)
    target = tmp_path / "changes.atom"
    done = scrapy_feed(str(root), "--changes", "-o", str(target))
    assert done.returncode == 0, done.stderr
    assert "Atom feed of changes: 0 entries of 0 new versions" in done.stdout
    assert "scrapy feed: warning: the feed has no entry" in done.stderr
    assert atomcheck.parse(target.read_bytes()).entries == []
