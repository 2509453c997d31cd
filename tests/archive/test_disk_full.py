"""Disk full (issue 14, part 3): the first write error stops the crawl, records nothing it
did not write, leaves no side file, and the next run, with space again, loses nothing.

The crawl tests mount a small tmpfs (root may; skipped, with the reason, only where mounting
is not permitted) and put ``RFI_OUTPUT_DIR`` on it, the state on the normal disk: the exports
are what fill it, as in the issue (with the state on the same full disk, the spider's own
queue writes can fail first, outside the export path). The unit tests inject the errors.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from conftest import BARE, FIXTURES, CrawlResult, run_crawl
from scrapy.exceptions import CloseSpider, DropItem
from scrapy.utils.test import get_crawler

from benchmarks.crawl import site_settings
from benchmarks.pages import BenchSite
from rfi_spider.archive.exporters import repair_torn_tail, serialize_line
from rfi_spider.archive.pipelines import ArchivePipeline, ExportStopped
from rfi_spider.archive.state import SeenStore
from rfi_spider.demo.localsite import LocalSite, Page
from rfi_spider.items import ArticleItem
from rfi_spider.quality import qa

ARTICLES = 30
BENCH = BenchSite(ARTICLES)
URLS = sorted(a.url for a in BENCH.articles())
EMPTY_FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>RFI</title></channel></rss>'


# --- a small disk --------------------------------------------------------------------
def mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)


@contextmanager
def tmpfs(path: Path, size_kib: int) -> Iterator[Path]:
    """A tmpfs of ``size_kib`` KiB mounted at ``path`` for the block (unmounted after)."""
    path.mkdir(parents=True)
    try:
        done = mount("-t", "tmpfs", "-o", f"size={size_kib}k,mode=0755", "tmpfs", str(path))
    except FileNotFoundError:
        pytest.skip("no mount command here: a small tmpfs cannot be made")
    if done.returncode != 0:
        refused = re.search(r"permission denied|not permitted|must be superuser", done.stderr, re.I)
        if os.geteuid() != 0 or refused:
            pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
        pytest.fail(f"mount failed: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True, timeout=30)


def resize(path: Path, size_kib: int) -> None:
    """More space on the tmpfs at ``path``, its files kept."""
    done = mount("-o", f"remount,size={size_kib}k", str(path))
    assert done.returncode == 0, done.stderr


# --- the crawl -------------------------------------------------------------------------
class Site:
    """A LocalSite hook serving :data:`BENCH`; ``bare``: listings and feed link to nothing."""

    def __init__(self) -> None:
        self.bare = False

    def __call__(self, handler: BaseHTTPRequestHandler, key: str) -> Page | None:
        path = key.split("?")[0]
        if self.bare and path == "/cn/rss":
            return Page(EMPTY_FEED, content_type="application/rss+xml")
        if self.bare and path.startswith("/cn/") and not BENCH.is_article_path(path):
            return Page(b"<html><body><main></main></body></html>")
        found = BENCH.route(key)
        return None if found is None else Page(found[0], content_type=found[1])


def crawl(site: LocalSite, output: Path, state: Path) -> CrawlResult:
    # The tmpfs is sized for the exports: WARC capture (issue 16) would fill it first.
    settings = {**site_settings(BENCH), "RFI_STATE_DIR": str(state), "RFI_WARC": "False"}
    return run_crawl(output, f"base_url={site.url}", settings=settings)


def files_of(articles: Path) -> list[Path]:
    return [p for p in articles.rglob("*.txt") if ".tmp" not in p.parts]


@pytest.mark.parametrize(
    "articles_on_disk", [False, True], ids=["the-json-lines-fill-it", "everything-on-it"]
)
def test_a_full_disk_stops_the_crawl_and_the_next_run_loses_nothing(
    tmp_path: Path, articles_on_disk: bool
) -> None:
    """``the-json-lines-fill-it``: ``articles/`` links to the normal disk, so the JSON Lines
    append is the write that fills the tmpfs and tears a line (the issue's case);
    ``everything-on-it``: the seed-style files fill it too (a file or a line fails first)."""
    state, articles = tmp_path / "state", tmp_path / "articles"
    hook = Site()
    with (
        tmpfs(tmp_path / "disk", 64 if articles_on_disk else 32) as disk,
        LocalSite(hook=hook) as site,
    ):
        output = disk / "out"
        output.mkdir()
        if not articles_on_disk:
            articles.mkdir()
            (output / "articles").symlink_to(articles)
        first = crawl(site, output, state)
        log = first.log
        assert "'finish_reason': 'write_error'" in log, log[-3000:]
        assert first.returncode == 1  # scrapy crawl's exit status says it failed
        assert first.stat("rfi/write_error") == 1
        (error,) = [line for line in log.splitlines() if "write error, crawl stopped" in line]
        assert " ERROR: " in error and "[Errno 28] No space left on device" in error, error
        assert f"'{output}/" in error  # names the file
        assert "FAIL: finish reason/expected finish reason" in log
        assert "finished with 'write_error', expected finished (1 write error" in log
        assert "'rfi/monitors/finish_reason': 'failed'" in log
        assert "Traceback" not in log, log[-3000:]
        # Nothing recorded that was not written, no side file, no file without its line.
        raw = (output / "items.jsonl").read_bytes()
        assert raw.endswith(b"\n")
        written = [json.loads(line)["url"] for line in raw.splitlines()]
        assert 0 < len(written) < ARTICLES
        assert not list(output.glob("items.jsonl.torn-*"))
        store = SeenStore(state / "seen.sqlite3")
        assert {row[0] for row in store.db.execute("SELECT url FROM seen")} == set(written)
        store.close()
        # Space again: more room, or the files moved to a disk that has it.
        resize(disk, 4096)
        if not articles_on_disk:
            (output / "articles").unlink()
            shutil.move(articles, output / "articles")
        assert len(files_of(output / "articles")) == len(written)
        assert not list((output / "articles" / ".tmp").iterdir())
        assert qa.check_archive(output).ok  # what was exported is whole
        # The listings now link to nothing: what is left comes from the pending queue.
        hook.bare = True
        second = crawl(site, output, state)
        assert second.returncode == 0, second.log[-3000:]
        assert "'finish_reason': 'finished'" in second.log
        assert "Traceback" not in second.log, second.log[-3000:]
        assert second.stat("rfi/exported") == ARTICLES - len(written)
        report = qa.check_archive(output)
        assert report.ok, qa.render_text(report, limit=None)
        lines = (output / "items.jsonl").read_bytes().splitlines()
        assert sorted(json.loads(line)["url"] for line in lines) == URLS  # each once
        assert len(files_of(output / "articles")) == ARTICLES
        assert not list((output / "articles" / ".tmp").iterdir())
        assert not list(output.glob("items.jsonl.torn-*"))


# --- the pipeline, errors injected ------------------------------------------------------
def items(count: int) -> list[ArticleItem]:
    expected = json.loads((FIXTURES / "sample_site_expected.json").read_text(encoding="utf-8"))
    return [
        ArticleItem(**article, body_html="<p>x</p>", crawled_at="2024-03-08T00:00:00+00:00")
        for article in expected["articles"][:count]
    ]


class Engine:
    """Stands in for the crawl's engine: records the reasons it is asked to close with."""

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def close_spider_async(self, *, reason: str = "cancelled") -> None:
        self.reasons.append(reason)


def open_pipeline(output: Path, batch: int = 100, state: Path | None = None) -> ArchivePipeline:
    settings: dict[str, Any] = {
        **BARE,
        "RFI_OUTPUT_DIR": str(output),
        "RFI_STATE_BATCH": batch,
        "RFI_STATE_BATCH_SECONDS": 3600,
    }
    if state is not None:
        settings["RFI_STATE_DIR"] = str(state)
    crawler = get_crawler(settings_dict=settings)
    crawler.stats.open_spider()
    crawler.engine = Engine()  # type: ignore[assignment]
    pipeline = ArchivePipeline.from_crawler(crawler)
    pipeline.open_spider()
    return pipeline


def recorded(output: Path) -> set[str]:
    store = SeenStore(output / ".state" / "seen.sqlite3")
    try:
        return {row[0] for row in store.db.execute("SELECT url FROM seen")}
    finally:
        store.close()


def written_to(fd: int) -> str:
    return os.readlink(f"/proc/self/fd/{fd}")


def test_a_disk_full_mid_line_cuts_the_line_back_and_stops_the_exports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    output = tmp_path / "out"
    first, second, third = items(3)
    pipeline = open_pipeline(output)
    pipeline.process_item(first)
    jsonl = output / "items.jsonl"
    before = jsonl.read_bytes()
    real_write, calls = os.write, []

    def full_disk(fd: int, data: Any) -> int:  # half the line fits, then the disk is full
        calls.append(written_to(fd))
        if not calls[-1].endswith("items.jsonl"):
            return real_write(fd, data)
        if sum(call.endswith("items.jsonl") for call in calls) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, bytes(data)[: len(data) // 2])

    monkeypatch.setattr(os, "write", full_disk)
    with caplog.at_level(logging.ERROR), pytest.raises(ExportStopped):
        pipeline.process_item(second)
    assert jsonl.read_bytes() == before  # the half line is cut back
    assert not pipeline.files.path_for(second["url"], second["published_at"]).exists()
    assert pipeline.crawler.engine.reasons == ["write_error"]  # type: ignore[union-attr]
    assert pipeline.stats.get_value("rfi/write_error") == 1
    (error,) = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert f"[Errno 28] No space left on device: '{jsonl}'" in error
    tries = len(calls)
    with pytest.raises(ExportStopped):  # no more tries: nothing written at all
        pipeline.process_item(third)
    assert len(calls) == tries
    assert pipeline.stats.get_value("rfi/dropped/write_error") == 2
    pipeline.close_spider()
    monkeypatch.undo()
    assert recorded(output) == {first["url"]}  # the line that landed, and only it
    assert not list(output.glob("items.jsonl.torn-*"))
    # The next run, with space: the other two are exported, each article once.
    again = open_pipeline(output)
    again.process_item(second)
    again.process_item(third)
    again.close_spider()
    lines = jsonl.read_bytes()
    assert lines == before + serialize_line(second) + serialize_line(third)
    assert qa.check_archive(output).ok
    assert not list(output.glob("items.jsonl.torn-*"))


def test_a_full_store_stops_the_exports_and_the_next_run_records_the_line(
    tmp_path: Path,
) -> None:
    """The store's disk is full when the batch is committed: the article's line landed, so
    it is exported; the crawl stops, and the next run records it from items.jsonl."""
    output = tmp_path / "out"
    first, second = items(2)
    pipeline = open_pipeline(output, batch=1)

    def full(*args: object, **kwargs: object) -> int:
        error = sqlite3.OperationalError("database or disk is full")
        error.sqlite_errorcode = sqlite3.SQLITE_FULL  # type: ignore[attr-defined]
        error.sqlite_errorname = "SQLITE_FULL"  # type: ignore[attr-defined]
        raise error

    pipeline.store.add_many = full  # type: ignore[method-assign]
    assert pipeline.process_item(first) is first
    assert pipeline.crawler.engine.reasons == ["write_error"]  # type: ignore[union-attr]
    assert pipeline.stats.get_value("rfi/write_error") == 1
    with pytest.raises(ExportStopped):
        pipeline.process_item(second)
    pipeline.close_spider()  # does not try the store again
    again = open_pipeline(output)
    assert again.stats.get_value("rfi/repaired/state_entries") == 1
    with pytest.raises(DropItem):
        again.process_item(first)  # recorded now: not exported twice
    again.process_item(second)
    again.close_spider()
    assert recorded(output) == {first["url"], second["url"]}


def test_a_torn_line_on_a_full_disk_leaves_no_side_file(tmp_path: Path) -> None:
    """At start, the torn last line cannot be moved aside: no empty ``.torn-*`` file is left,
    the line stays for a later run, and the crawl stops with ``write_error``."""
    with tmpfs(tmp_path / "disk", 8) as disk:
        output = disk / "out"
        output.mkdir()
        jsonl = output / "items.jsonl"
        line = serialize_line(items(1)[0])
        torn = b'{"url": "https://www.rfi.fr/cn/' + b"x" * 200
        ballast = b"\n" * (8192 - len(line) - len(torn) - 64)  # blank lines: the disk full
        jsonl.write_bytes(line + ballast + torn)
        with pytest.raises(OSError) as raised:
            repair_torn_tail(jsonl)
        assert raised.value.errno == errno.ENOSPC
        assert not list(output.glob("items.jsonl.torn-*"))
        assert jsonl.read_bytes().endswith(torn)  # untouched
        with pytest.raises(CloseSpider) as closed:
            open_pipeline(output, state=tmp_path / "state")
        assert closed.value.reason == "write_error"
        assert not list(output.glob("items.jsonl.torn-*"))
        with LocalSite(hook=Site()) as site:  # a whole crawl: it stops before any request
            result = crawl(site, output, tmp_path / "state")
        assert "'finish_reason': 'write_error'" in result.log, result.log[-3000:]
        assert result.returncode == 1  # scrapy crawl's exit status says it failed
        assert result.stat("rfi/write_error") == 1
        assert "Traceback" not in result.log, result.log[-3000:]
        assert not site.requests
        assert not list(output.glob("items.jsonl.torn-*"))
        assert jsonl.read_bytes().endswith(torn)
