"""The dedupe store and the exports' crash safety."""

from __future__ import annotations

import json
from pathlib import Path

from rfi_spider.exporters import JsonLinesFile, SeedFiles, repair_torn_tail, serialize_line
from rfi_spider.items import ArticleItem
from rfi_spider.seedfile import SeedRecord, read
from rfi_spider.state import SeenStore


def test_store_remembers_across_connections(tmp_path: Path) -> None:
    path = tmp_path / "seen.sqlite3"
    store = SeenStore(path)
    assert store.add("https://www.rfi.fr/cn/a/20240101-x", "rfi.fr")
    assert not store.add("https://www.rfi.fr/cn/a/20240101-x", "rfi.fr")  # known
    store.close()
    again = SeenStore(path)
    assert "https://www.rfi.fr/cn/a/20240101-x" in again
    assert "https://www.rfi.fr/cn/a/20240101-y" not in again
    assert len(again) == 1


def test_add_many_counts_new_rows_and_meta_travels_with_add(tmp_path: Path) -> None:
    store = SeenStore(tmp_path / "s.sqlite3")
    assert store.add_many([("u1", "rfi.fr"), ("u2", "feedx.net"), ("u1", "rfi.fr")]) == 2
    assert store.add_many([("u2", "rfi.fr"), ("u3", "rfi.fr")]) == 1
    store.add("u4", "rfi.fr", meta={"offset": "42"})
    assert store.get_meta("offset") == "42"
    assert len(store) == 4


def test_jsonl_line_is_utf8_in_spec_order(tmp_path: Path) -> None:
    item = ArticleItem(title="标题", url="https://www.rfi.fr/cn/a/20240101-x", paragraphs=["段"])
    item["mirror_entry"] = {"not": "exported"}
    line = serialize_line(item)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert "标题".encode() in line  # not ASCII-escaped
    assert list(json.loads(line)) == ["url", "title", "paragraphs"]  # spec order, no extras


def test_jsonl_appends(tmp_path: Path) -> None:
    jsonl = JsonLinesFile(tmp_path / "out" / "items.jsonl")
    first = jsonl.append(b'{"a":1}\n')
    second = jsonl.append(b'{"a":2}\n')
    assert second == first * 2 == jsonl.size()
    jsonl.close()
    assert (tmp_path / "out" / "items.jsonl").read_bytes() == b'{"a":1}\n{"a":2}\n'


def test_torn_tail_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_bytes(b'{"a":1}\n{"a":2}\n{"a":')
    aside = repair_torn_tail(path)
    assert aside is not None and aside.read_bytes() == b'{"a":'
    assert path.read_bytes() == b'{"a":1}\n{"a":2}\n'
    assert repair_torn_tail(path) is None  # a clean file is left alone


def test_torn_single_line_file(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_bytes(b'{"a":')
    assert repair_torn_tail(path) is not None
    assert path.read_bytes() == b""


def test_seed_files_atomic_and_named_from_url(tmp_path: Path) -> None:
    files = SeedFiles(tmp_path / "articles")
    record = SeedRecord(ms=1709833502000, title="../../etc/passwd\u202e", url="u", html="<p>x</p>")
    path = files.write("https://www.rfi.fr/cn/a/20240307-x", "2024-03-07T23:30:00+00:00", record)
    # Paris date (already the 8th there), hash of the URL: nothing from the title.
    assert path.parent == tmp_path / "articles" / "2024" / "03" / "08"
    assert len(path.stem) == 16 and all(c in "0123456789abcdef" for c in path.stem)
    assert read(path.read_text(encoding="utf-8")) == record
    assert list(files.tmp_dir.iterdir()) == []
    # The same article again lands on the same path.
    assert (
        files.write("https://www.rfi.fr/cn/a/20240307-x", "2024-03-07T23:30:00+00:00", record)
        == path
    )


def test_leftover_temporary_files_are_removed(tmp_path: Path) -> None:
    files = SeedFiles(tmp_path / "articles")
    (files.tmp_dir / "tmpabc.txt").write_text("half")
    assert files.remove_leftovers() == 1
    assert list(files.tmp_dir.iterdir()) == []
