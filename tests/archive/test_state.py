"""The dedupe store and the exports' crash safety."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import BARE, FIXTURES, ROOT
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from rfi_spider.archive import exporters
from rfi_spider.archive.exporters import JsonLinesFile, SeedFiles, repair_torn_tail, serialize_line
from rfi_spider.archive.pipelines import ArchivePipeline
from rfi_spider.archive.seedfile import SeedRecord, read
from rfi_spider.archive.state import SeenStore, locked
from rfi_spider.items import ArticleItem


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


OPEN_AND_ADD = """
import sys
from rfi_spider.archive.state import SeenStore
print("opening", flush=True)
SeenStore(sys.argv[1]).add("https://www.rfi.fr/cn/a/20240101-x", "rfi.fr")
"""


def test_store_waits_for_another_process_setting_it_up(tmp_path: Path) -> None:
    """Two jobs starting at once: one found the new database locked while the other
    switched it to WAL (SQLite does not wait there). Now setting up waits its turn."""
    path = tmp_path / "state" / "seen.sqlite3"
    path.parent.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with locked(path.parent):
        # Another process half-way through setting the store up: write lock held, not WAL yet.
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        opener = subprocess.Popen(
            [sys.executable, "-c", OPEN_AND_ADD, str(path)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert opener.stdout is not None and opener.stdout.readline() == "opening\n"
        with contextlib.suppress(subprocess.TimeoutExpired):
            opener.wait(timeout=0.5)  # time for an opener that does not wait to fail
        other.execute("ROLLBACK")
        other.close()
    _, errors = opener.communicate(timeout=60)
    assert opener.returncode == 0, errors
    assert "https://www.rfi.fr/cn/a/20240101-x" in SeenStore(path)


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


def test_seed_files_make_a_days_folder_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A day's folder is made by its first file, not asked for before every file (a mkdir
    that fails, and a stat, each time); one removed meanwhile is made again."""
    files = SeedFiles(tmp_path / "articles")
    record = SeedRecord(ms=1709833502000, title="t", url="u", html="<p>x</p>")
    made: list[Path] = []
    real_mkdir = Path.mkdir

    def mkdir(self: Path, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    day = "2024-03-07T12:00:00+00:00"
    folder = tmp_path / "articles" / "2024" / "03" / "07"
    paths = [files.write("https://www.rfi.fr/cn/a/20240307-0", day, record)]
    assert made and made[0] == folder  # made by the first file (and its parents)
    first = len(made)
    paths += [files.write(f"https://www.rfi.fr/cn/a/20240307-{n}", day, record) for n in (1, 2)]
    assert len(made) == first  # not asked for again
    assert all(path.parent == folder and read(path.read_text()) == record for path in paths)
    for path in paths:
        path.unlink()
    folder.rmdir()
    again = files.write("https://www.rfi.fr/cn/a/20240307-0", day, record)
    assert again == paths[0] and read(again.read_text()) == record
    assert list(files.tmp_dir.iterdir()) == []


def test_seed_file_write_error_names_the_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = SeedFiles(tmp_path / "articles")
    record = SeedRecord(ms=1709833502000, title="t", url="u", html="<p>x</p>")

    real_create_new = exporters.create_new

    def onto_a_full_disk(directory: Path, suffix: str) -> tuple[int, Path]:
        fd, path = real_create_new(directory, suffix)
        os.close(fd)
        return os.open("/dev/full", os.O_WRONLY), path  # every write: ENOSPC

    monkeypatch.setattr(exporters, "create_new", onto_a_full_disk)
    with pytest.raises(OSError) as raised:
        files.write("https://www.rfi.fr/cn/a/20240307-x", "2024-03-07T12:00:00+00:00", record)
    assert raised.value.errno == errno.ENOSPC
    assert raised.value.filename == str(
        files.path_for("https://www.rfi.fr/cn/a/20240307-x", "2024-03-07T12:00:00+00:00")
    )
    assert list(files.tmp_dir.iterdir()) == []


def test_leftover_temporary_files_are_removed(tmp_path: Path) -> None:
    files = SeedFiles(tmp_path / "articles")
    (files.tmp_dir / "tmpabc.txt").write_text("half")
    assert files.remove_leftovers() == 1
    assert list(files.tmp_dir.iterdir()) == []


def open_pipeline(output: Path) -> ArchivePipeline:
    crawler = get_crawler(settings_dict={**BARE, "RFI_OUTPUT_DIR": str(output)})
    crawler.stats.open_spider()
    pipeline = ArchivePipeline.from_crawler(crawler)
    pipeline.open_spider()
    return pipeline


def test_an_article_two_jobs_export_at_once_is_exported_once(tmp_path: Path) -> None:
    """Job B gets the article while job A is half-way through exporting it: B must wait for
    A's export lock, then find the article in the store, not check the store and write too."""
    expected = json.loads((FIXTURES / "sample_site_expected.json").read_text(encoding="utf-8"))
    item = ArticleItem(
        **expected["articles"][0], body_html="<p>x</p>", crawled_at="2024-03-08T00:00:00+00:00"
    )
    job_a = open_pipeline(tmp_path / "out")
    outcome: list[str] = []
    opened, go = threading.Event(), threading.Event()

    def job_b() -> None:  # in a thread of its own: SQLite connections stay in theirs
        pipeline = open_pipeline(tmp_path / "out")
        opened.set()
        go.wait(30)
        try:
            pipeline.process_item(item.copy())
            outcome.append("exported")
        except DropItem:
            outcome.append("dropped")
        pipeline.close_spider()

    racer = threading.Thread(target=job_b)
    racer.start()
    assert opened.wait(30)
    write_file = job_a.files.write_at  # where the export writes its seed-style file

    def write_while_job_b_exports(*args: object) -> Path:
        go.set()
        racer.join(timeout=0.5)  # time for a job B that does not wait to export
        return write_file(*args)  # type: ignore[arg-type]

    job_a.files.write_at = write_while_job_b_exports  # type: ignore[method-assign]
    job_a.process_item(item.copy())
    job_a.close_spider()
    racer.join(timeout=30)
    assert outcome == ["dropped"]
    lines = (tmp_path / "out" / "items.jsonl").read_bytes().splitlines()
    assert [json.loads(line)["url"] for line in lines] == [item["url"]]
    with pytest.raises(DropItem):  # and a third job later finds it exported
        open_pipeline(tmp_path / "out").process_item(item.copy())


# --- exports recorded in batches ---------------------------------------------------
def articles(count: int) -> list[ArticleItem]:
    expected = json.loads((FIXTURES / "sample_site_expected.json").read_text(encoding="utf-8"))
    return [
        ArticleItem(**article, body_html="<p>x</p>", crawled_at="2024-03-08T00:00:00+00:00")
        for article in expected["articles"][:count]
    ]


def open_batched(output: Path, size: int) -> ArchivePipeline:
    """A pipeline that commits every ``size`` exports, never on the clock."""
    settings = {"RFI_OUTPUT_DIR": str(output), "RFI_STATE_BATCH": size}
    crawler = get_crawler(settings_dict={**BARE, **settings, "RFI_STATE_BATCH_SECONDS": 3600})
    crawler.stats.open_spider()
    pipeline = ArchivePipeline.from_crawler(crawler)
    pipeline.open_spider()
    return pipeline


def recorded(output: Path) -> tuple[set[str], int]:
    """The URLs the state holds and the JSON Lines size it last recorded."""
    store = SeenStore(output / ".state" / "seen.sqlite3")
    urls = {row[0] for row in store.db.execute("SELECT url FROM seen")}
    key = f"jsonl_size:{(output / 'items.jsonl').resolve()}"
    return urls, int(store.get_meta(key) or 0)


def test_exports_are_recorded_in_batches_with_the_size_they_cover(tmp_path: Path) -> None:
    output = tmp_path / "out"
    items = articles(4)
    pipeline = open_batched(output, size=3)
    for item in items[:2]:
        pipeline.process_item(item)
    assert recorded(output) == (set(), 0)  # the batch waits
    pipeline.process_item(items[2])
    size = (output / "items.jsonl").stat().st_size
    assert recorded(output) == ({item["url"] for item in items[:3]}, size)
    pipeline.process_item(items[3])
    with pytest.raises(DropItem):  # a duplicate of an export the store does not know yet
        pipeline.process_item(items[3].copy())
    pipeline.close_spider()  # the last, partial batch
    size = (output / "items.jsonl").stat().st_size
    assert recorded(output) == ({item["url"] for item in items}, size)


def test_two_jobs_never_export_what_the_other_has_not_recorded_yet(tmp_path: Path) -> None:
    output = tmp_path / "out"
    first, second = articles(2)
    job_a, job_b = open_batched(output, size=100), open_batched(output, size=100)
    job_a.process_item(first.copy())
    with pytest.raises(DropItem):  # B reads A's new line before it exports
        job_b.process_item(first.copy())
    job_b.process_item(second.copy())
    with pytest.raises(DropItem):
        job_a.process_item(second.copy())
    assert job_b.stats.get_value("rfi/state/lines_of_other_jobs") == 1
    job_a.close_spider()
    job_b.close_spider()
    lines = (output / "items.jsonl").read_bytes().splitlines()
    assert [json.loads(line)["url"] for line in lines] == [first["url"], second["url"]]
    assert recorded(output) == ({first["url"], second["url"]}, len(b"\n".join(lines)) + 1)


def test_a_line_torn_by_another_killed_job_is_moved_aside_before_the_next_export(
    tmp_path: Path,
) -> None:
    output = tmp_path / "out"
    first, second = articles(2)
    job = open_batched(output, size=100)
    job.process_item(first)
    with (output / "items.jsonl").open("ab") as handle:  # another job, killed mid-line
        handle.write(b'{"url": "https://www.rfi.fr/cn/')
    job.process_item(second)
    job.close_spider()
    lines = (output / "items.jsonl").read_bytes().splitlines()
    assert [json.loads(line)["url"] for line in lines] == [first["url"], second["url"]]
    (aside,) = output.glob("items.jsonl.torn-*")
    assert aside.read_bytes() == b'{"url": "https://www.rfi.fr/cn/'
    assert job.stats.get_value("rfi/repaired/torn_jsonl_line") == 1


def test_a_recorded_size_never_goes_down(tmp_path: Path) -> None:
    store = SeenStore(tmp_path / "s.sqlite3")
    store.add_many([("u1", "rfi.fr")], at_least={"size": 100})
    store.add_many([("u2", "rfi.fr")], at_least={"size": 50})  # a job that knew less
    assert store.get_meta("size") == "100"
    store.add_many([], at_least={"size": 150})
    assert store.get_meta("size") == "150"


def test_known_reads_the_digests_once_and_learns_its_own_adds(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    writer = SeenStore(path)
    writer.add_many([("u1", "rfi.fr"), ("u2", "rfi.fr")])
    reader = SeenStore(path)
    assert reader.probably_known("u1") and reader.probably_known("u2")
    assert not reader.probably_known("u3")
    reader.add("u3", "rfi.fr")
    reader.add_many([("u4", "rfi.fr")])
    assert reader.probably_known("u3") and reader.probably_known("u4")
    writer.add("u5", "rfi.fr")  # another connection, after the digests were read
    assert not reader.probably_known("u5") and "u5" in reader  # the exact check sees it
