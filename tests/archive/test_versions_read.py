"""Reading the versions of each article from items.jsonl, and the checks of their chain."""

from __future__ import annotations

import json
from pathlib import Path

import versioned
from versioned import ADDED, LEGACY, REMOVED, SAME, TITLE

from rfi_spider.archive import versions_read
from rfi_spider.quality import qa


def scan(root: Path, only: str | None = None) -> versions_read.Scan:
    return versions_read.scan([root / "items.jsonl"], qa.MAX_LINE_BYTES, only=only)


def test_each_article_has_its_versions_in_order(tmp_path: Path) -> None:
    root = versioned.write_archive(tmp_path, versioned.edited_lines(), files=False)
    histories = {h.key: h for h in scan(root).index.histories()}
    got = {key: [(v.version, v.number) for v in h.versions] for key, h in histories.items()}
    assert got == {
        TITLE: [(1, 1), (2, 6)],
        ADDED: [(1, 2), (2, 7), (3, 9)],
        REMOVED: [(1, 3), (2, 8)],
        SAME: [(1, 4)],
        LEGACY: [(1, 5)],
    }
    assert all(not h.problems and not h.duplicates for h in histories.values())
    assert {k for k, h in histories.items() if h.edited} == {TITLE, ADDED, REMOVED}
    assert histories[LEGACY].versions[0].legacy


def test_one_article_in_any_spelling_with_its_items(tmp_path: Path) -> None:
    root = versioned.write_archive(tmp_path, versioned.edited_lines(), files=False)
    found = scan(root, only=ADDED)
    assert len(found.index) == 1
    assert sorted(n for _, n in found.items) == [2, 7, 9]


def lines_with(*changes: tuple[int, dict]) -> list[dict]:
    lines = versioned.edited_lines()
    for index, change in changes:
        lines[index] = {**lines[index], **change}
    return lines


def problems(tmp_path: Path, lines: list[dict]) -> list[tuple[int, str]]:
    root = versioned.write_archive(tmp_path, lines, files=False)
    return [
        (line.number, message)
        for history in scan(root).index.histories()
        for line, message in history.problems
    ]


def test_a_previous_digest_that_is_not_the_version_before_is_a_broken_chain(
    tmp_path: Path,
) -> None:
    found = problems(tmp_path, lines_with((5, {"previous_digest": "f" * 64})))
    assert len(found) == 1
    number, message = found[0]
    assert number == 6
    assert message.startswith("version 2's previous_digest ffffffffffff is not version 1's")


def test_a_missing_version_is_a_broken_chain(tmp_path: Path) -> None:
    lines = versioned.edited_lines()
    del lines[6]  # ADDED's version 2
    assert problems(tmp_path, lines) == [(8, "version 2 missing (versions here: 1, 3)")]


def test_one_version_with_two_digests_is_a_broken_chain_the_same_twice_a_duplicate(
    tmp_path: Path,
) -> None:
    lines = versioned.edited_lines()
    again = {**lines[5]}
    other = {**lines[5], "content_digest": "0" * 64}
    found = problems(tmp_path, [*lines, again, other])
    assert len(found) == 1 and found[0][0] == 11
    assert found[0][1].startswith("version 2 again, with another content_digest (000000000000)")
    root = versioned.write_archive(tmp_path, [*lines, again], files=False)
    history = scan(root).index.history(TITLE)
    assert [(a.number, b.number) for a, b in history.duplicates] == [(10, 6)]
    assert not history.problems


def test_version_1_with_a_previous_digest_and_a_later_one_without(tmp_path: Path) -> None:
    found = problems(
        tmp_path, lines_with((0, {"previous_digest": "a" * 64}), (5, {"previous_digest": None}))
    )
    assert found == [
        (1, "version 1 names a previous_digest"),
        (6, "version 2 has no previous_digest"),
    ]


def test_older_lines_of_one_url_are_version_1_the_later_update_shown(tmp_path: Path) -> None:
    legacy = versioned.article(LEGACY, "旧档案", ["没有版本字段。"])
    newer = {**legacy, "title": "改过", "modified_at": "2024-03-06T12:00:00+00:00"}
    tie = {**legacy, "title": "同时"}
    root = versioned.write_archive(tmp_path, [newer, legacy, tie], files=False)
    history = scan(root).index.history(LEGACY)
    assert [(v.version, v.number) for v in history.versions] == [(1, 1)]  # later update wins
    assert [(a.number, b.number) for a, b in history.duplicates] == [(2, 1), (3, 1)]
    root = versioned.write_archive(tmp_path, [legacy, tie], files=False)
    assert scan(root).index.history(LEGACY).versions[0].number == 2  # a tie: the later line


def test_a_version_that_is_no_number_reads_as_version_1(tmp_path: Path) -> None:
    lines = [{**versioned.edited_lines()[3], "version": True}]
    (tmp_path / "items.jsonl").write_text(json.dumps(lines[0]) + "\n")
    history = scan(tmp_path).index.history(SAME)
    assert history.versions[0].version == 1 and history.versions[0].legacy


def test_load_reads_back_only_the_lines_asked_for(tmp_path: Path) -> None:
    root = versioned.write_archive(tmp_path, versioned.edited_lines(), files=False)
    history = scan(root).index.history(REMOVED)
    items = versions_read.load(history.versions, qa.MAX_LINE_BYTES)
    assert sorted(n for _, n in items) == [3, 8]
    assert items[(root / "items.jsonl", 8)]["paragraphs"] == ["开头。", "结尾。"]
