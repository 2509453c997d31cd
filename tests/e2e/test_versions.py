"""``scrapy versions URL [DIR ...]`` as a user runs it, on a hand-made archive whose
articles changed: each version with its times, the changes marked exactly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import versioned
from conftest import ROOT
from versioned import ADDED, REMOVED, TITLE


def scrapy_versions(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    if not env:
        environ.pop("RFI_OUTPUT_DIR", None)
    command = [sys.executable, "-m", "scrapy", "versions", *args]
    return subprocess.run(
        command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return versioned.write_archive(tmp_path / "out", versioned.edited_lines())


def test_versions_of_an_edited_title(archive: Path) -> None:
    done = scrapy_versions(TITLE, str(archive))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    items = archive / "items.jsonl"
    assert done.stdout == (
        "https://www.rfi.fr/cn/中国/20240306-title: 2 versions\n"
        "\n"
        f"version 1  digest {versioned.edited_lines()[0]['content_digest'][:12]}  {items}:1\n"
        "  crawled 2024-03-06T09:20:00+00:00, modified -, published 2024-03-06T08:15:00+00:00\n"
        "  title: 瑞典正式加入北约\n"
        "\n"
        f"version 2  digest {versioned.edited_lines()[5]['content_digest'][:12]}  {items}:6\n"
        "  crawled 2024-03-06T11:00:00+00:00, modified 2024-03-06T10:05:00+00:00, "
        "published 2024-03-06T08:15:00+00:00\n"
        "  title: 瑞典正式[-加入-]{+成为+}北约{+第32个成员国+}\n"
    )
    assert "\x1b[" not in done.stdout  # not a terminal: no colour


def test_paragraphs_added_edited_and_removed_in_any_spelling_of_the_url(archive: Path) -> None:
    spelling = "http://cn.rfi.fr/中国/20240306-added/?utm_source=x#top"
    done = scrapy_versions(spelling, str(archive / "items.jsonl"))
    assert done.returncode == 0, done.stderr
    changes = [line for line in done.stdout.splitlines() if line.startswith("  paragraph")]
    assert changes == [
        "  paragraph 3 added: {+新增的第三段。+}",
        "  paragraph 2: 第二段说的是[-晚间-]{+早上+}。",
    ]
    done = scrapy_versions(REMOVED, "--color", "always", env={"RFI_OUTPUT_DIR": str(archive)})
    assert done.returncode == 0, done.stderr
    assert "  paragraph 2 removed: \x1b[31m[-将被删除的段落。-]\x1b[0m\n" in done.stdout


def test_hostile_text_is_shown_escaped(tmp_path: Path) -> None:
    lines = versioned.versions(
        versioned.article(ADDED, "标题", ["正文"]),
        versioned.article(ADDED, "标题\x1b[2J\u202e", ["正文"]),
    )
    root = versioned.write_archive(tmp_path, lines, files=False)
    done = scrapy_versions(ADDED, str(root))
    assert done.returncode == 0, done.stderr
    assert "  title: 标题{+\\x1b[2J\\u202e+}\n" in done.stdout
    assert "\x1b" not in done.stdout


def test_a_broken_chain_is_shown(tmp_path: Path) -> None:
    lines = versioned.edited_lines()
    lines[5] = {**lines[5], "previous_digest": "f" * 64}
    root = versioned.write_archive(tmp_path, lines, files=False)
    done = scrapy_versions(TITLE, str(root))
    assert done.returncode == 0, done.stderr
    assert "Broken chain (1):\n  items.jsonl:6: version 2's previous_digest ffffffffffff" in (
        done.stdout
    )


def test_an_unknown_article_is_one_line_and_exit_1(archive: Path) -> None:
    done = scrapy_versions("https://www.rfi.fr/cn/中国/20240306-nothing", str(archive))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"scrapy versions: no version of https://www.rfi.fr/cn/中国/20240306-nothing in "
        f"{archive / 'items.jsonl'}"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "URL is required"),
        (["https://example.com/cn/x"], "not an address of www.rfi.fr"),
        ([TITLE, "--color", "red"], "--color takes auto, always or never"),
        ([TITLE, "--colour"], "unknown option '--colour'"),
        ([TITLE, "{a}/nothing"], "no archive at"),
        ([TITLE, "{a}", "-s", "RFI_QA_MAX_LINE_BYTES=many"], "bad setting: RFI_QA_MAX_LINE_BYTES"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(
    archive: Path, args: list[str], message: str
) -> None:
    done = scrapy_versions(*(a.replace("{a}", str(archive)) for a in args))
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("scrapy versions: error: "), done.stderr
    assert message in lines[0]
    assert done.stdout == ""


def test_several_folders_are_read_as_one_archive(archive: Path, tmp_path: Path) -> None:
    lines = versioned.edited_lines()
    other = tmp_path / "node2"
    other.mkdir()
    (archive / "items.jsonl").write_text(json.dumps(lines[0], ensure_ascii=False) + "\n")
    (other / "items.jsonl").write_text(json.dumps(lines[5], ensure_ascii=False) + "\n")
    done = scrapy_versions(TITLE, str(archive), str(other))
    assert done.returncode == 0, done.stderr
    assert "2 versions" in done.stdout
    assert "  title: 瑞典正式[-加入-]{+成为+}北约{+第32个成员国+}\n" in done.stdout
