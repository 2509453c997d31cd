"""``scrapy qa`` on an archive whose articles changed: the "Edited articles" section, each
diff side by side on the web page (escaped and inert), and broken chains as findings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import versioned
from conftest import ROOT
from lxml import html
from versioned import ADDED, REMOVED, TITLE

from rfi_spider.quality import qa, qa_html


def test_edited_articles_are_counted_and_listed_not_problems(tmp_path: Path) -> None:
    root = versioned.write_archive(tmp_path, versioned.edited_lines())
    report = qa.check_archive(root)
    assert report.ok, [str(f) for f in report.findings]
    assert [h.key for h in report.edited] == [TITLE, ADDED, REMOVED]
    assert len(report.records) == 5  # each article once
    assert report.articles[TITLE][0] == "瑞典正式成为北约第32个成员国"  # the latest title
    text = qa.render_text(report)
    assert (
        "Edited articles: 3 of 5 articles have more than one version\n"
        "  https://www.rfi.fr/cn/中国/20240306-title  2 versions  瑞典正式成为北约第32个成员国\n"
        "  https://www.rfi.fr/cn/中国/20240306-added  3 versions  地震\n"
        "  https://www.rfi.fr/cn/中国/20240306-removed  2 versions  选举\n"
    ) in text
    limited = qa.render_text(report, limit=1)
    assert "  ... and 2 more (--all shows every one)" in limited


def test_an_archive_without_edits_says_none(tmp_path: Path) -> None:
    lines = [line for line in versioned.edited_lines() if line.get("version", 1) == 1]
    report = qa.check_archive(versioned.write_archive(tmp_path, lines))
    assert report.ok
    assert "Edited articles: none (no article has more than one version)" in qa.render_text(report)


def test_a_version_without_its_file_is_a_finding(tmp_path: Path) -> None:
    root = versioned.write_archive(tmp_path, versioned.edited_lines())
    assert len(sorted(root.glob("articles/**/*.v2.txt"))) == 3
    removed = sorted(root.glob("articles/**/*.v3.txt"))
    assert len(removed) == 1
    removed[0].unlink()
    report = qa.check_archive(root)
    assert [(f.kind, f.where) for f in report.findings] == [("no-file", "items.jsonl:9")]
    assert ".v3.txt" in report.findings[0].message


def test_broken_chains_and_a_version_written_twice_are_findings(tmp_path: Path) -> None:
    lines = versioned.edited_lines()
    lines[5] = {**lines[5], "previous_digest": "f" * 64}  # TITLE's version 2
    twice = {**lines[7]}  # REMOVED's version 2 again, the same digest
    other = {**lines[8], "content_digest": "0" * 64}  # ADDED's version 3 with another digest
    root = versioned.write_archive(tmp_path, [*lines, twice, other])
    report = qa.check_archive(root)
    found = [(f.kind, f.where, f.message) for f in report.findings]
    assert found == [
        (
            "duplicate",
            "items.jsonl:10",
            "version 2 again, as on line 8: https://www.rfi.fr/cn/中国/20240306-removed",
        ),
        (
            "version-chain",
            "items.jsonl:6",
            f"version 2's previous_digest ffffffffffff is not version 1's content_digest "
            f"{lines[0]['content_digest'][:12]} (items.jsonl:1) "
            "(https://www.rfi.fr/cn/中国/20240306-title)",
        ),
        (
            "version-chain",
            "items.jsonl:11",
            f"version 3 again, with another content_digest (000000000000) than on "
            f"items.jsonl:9 ({lines[8]['content_digest'][:12]}) "
            "(https://www.rfi.fr/cn/中国/20240306-added)",
        ),
    ]
    assert "Problems: broken chains of versions (2)" in qa.render_text(report)


def diff_cells(page: str) -> list[tuple[str, str, str, str]]:
    """``(from-to, row label, left cell's HTML, right cell's HTML)`` of each diff row."""
    tree = html.fromstring(page)
    rows = []
    for table in tree.cssselect("table.diff"):
        span = f"{table.get('data-from')}-{table.get('data-to')}"
        for row in table.cssselect("tbody tr"):
            left, right = row.cssselect("td")
            cells = [
                (c.text or "") + "".join(html.tostring(e, encoding="unicode") for e in c)
                for c in (left, right)
            ]
            rows.append((span, row.cssselect("th")[0].text_content(), *cells))
    return rows


def run_qa(*args: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    environ.pop("RFI_OUTPUT_DIR", None)
    command = [sys.executable, "-m", "scrapy", "qa", *args]
    return subprocess.run(
        command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )


def test_scrapy_qa_shows_each_diff_side_by_side(tmp_path: Path) -> None:
    root = versioned.write_archive(tmp_path / "out", versioned.edited_lines())
    page = tmp_path / "qa.html"
    done = run_qa(str(root), "--html", str(page))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Edited articles: 3 of 5 articles have more than one version" in done.stdout
    assert diff_cells(page.read_text()) == [
        (
            "1-2",
            "title",
            "瑞典正式<del>加入</del>北约",
            "瑞典正式<ins>成为</ins>北约<ins>第32个成员国</ins>",
        ),
        ("1-2", "¶ 3 added", "", "<ins>新增的第三段。</ins>"),
        ("2-3", "¶ 2", "第二段说的是<del>晚间</del>。", "第二段说的是<ins>早上</ins>。"),
        ("1-2", "¶ 2 removed", "<del>将被删除的段落。</del>", ""),
    ]


def test_hostile_text_in_a_diff_is_escaped_and_inert(tmp_path: Path) -> None:
    hostile = '<script>alert("x")</script>\'"&\x1b[2J\u202e'
    lines = versioned.versions(
        versioned.article(TITLE, "标题", ["正文"]),
        versioned.article(TITLE, "标题" + hostile, ["正文", '<img src=x onerror="alert(1)">']),
    )
    report = qa.check_archive(versioned.write_archive(tmp_path, lines))
    assert [h.key for h in report.edited] == [TITLE]
    page = qa_html.render_html(report)
    assert "<script" not in page and "<img" not in page
    tree = html.fromstring(page)
    assert not tree.cssselect("script, img, [onerror]")
    cells = diff_cells(page)
    assert cells == [
        (
            "1-2",
            "title",
            "标题",
            '标题<ins>&lt;script&gt;alert("x")&lt;/script&gt;\'"&amp;\\x1b[2J\\u202e</ins>',
        ),
        ("1-2", "¶ 2 added", "", '<ins>&lt;img src=x onerror="alert(1)"&gt;</ins>'),
    ]
    assert "\x1b" not in page and "\u202e" not in page
    # every quote escaped in the page's source, not only in the parsed tree
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#x27;&quot;&amp;" in page
