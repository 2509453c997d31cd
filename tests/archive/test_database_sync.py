"""archive.db kept by a child process of the crawl: failures and time limits never fail
the crawl, a killed sync or crawl leaves a database the next run completes."""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT
from crashhooks import CRASH_EXIT_STATUS
from test_database import items, line, open_pipeline, rows, write

from rfi_spider.archive import database
from rfi_spider.archive.database_sync import CrawlDatabase, child_env
from rfi_spider.archive.pipelines import ArchivePipeline


def close(pipeline: ArchivePipeline) -> None:
    pipeline.close_spider()
    pipeline.close_database()


def test_the_sync_runs_in_a_child_process(tmp_path: Path) -> None:
    """The crawl's process never segments: the sync is another process's."""
    output = tmp_path / "out"
    pipeline = open_pipeline(output, batch=2)
    first = pipeline.database.process  # the catch-up at start
    assert first is not None and first.pid != os.getpid()
    for _ in range(6000):  # its first sync (of nothing) done: the next needs a request
        if database.is_database(output / database.DB_FILE):
            break
        time.sleep(0.01)
    for item in items(4):
        pipeline.process_item(item)
    for _ in range(6000):  # synced at the batch points, before any close
        if held(output / database.DB_FILE) == 4:
            break
        time.sleep(0.01)
    assert held(output / database.DB_FILE) == 4
    assert pipeline.database.process is first  # one child, woken, not one per batch
    close(pipeline)
    assert first.returncode == 0 and len(rows(output / database.DB_FILE)) == 4
    assert pipeline.stats.get_value("rfi/archive_db/rows") == 4


def test_a_failing_sync_is_one_warning_and_the_crawl_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    output = tmp_path / "out"
    output.mkdir()
    (output / database.DB_FILE).write_bytes(b"this is no SQLite database" * 100)
    pipeline = open_pipeline(output, batch=1)
    with caplog.at_level(logging.WARNING):
        for item in items(3):
            pipeline.process_item(item)
        close(pipeline)
    assert len((output / "items.jsonl").read_text().splitlines()) == 3  # exported all
    assert pipeline.stats.get_value("rfi/archive_db/error") == 1
    warnings = [r.getMessage() for r in caplog.records if "could not update" in r.getMessage()]
    assert len(warnings) == 1 and "not a database" in warnings[0]


def test_the_close_waits_for_the_sync_a_bounded_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A sync that cannot end (its lock held by someone else) is stopped at the limit;
    the next run catches up."""
    output = tmp_path / "out"
    state = output / ".state"
    with database.locked(state):
        pipeline = open_pipeline(output, batch=100, wait=1.0)
        child = pipeline.database.process
        for item in items(2):
            pipeline.process_item(item)
        started = time.monotonic()
        with caplog.at_level(logging.WARNING):
            close(pipeline)
        assert time.monotonic() - started < 30  # 1 s, on a loaded machine
        assert child.returncode is not None  # stopped, not left behind
    assert pipeline.stats.get_value("rfi/archive_db/timeout") == 1
    assert sum("RFI_ARCHIVE_DB_WAIT" in r.getMessage() for r in caplog.records) == 1
    assert not database.is_database(output / database.DB_FILE)
    pipeline = open_pipeline(output, batch=100)
    close(pipeline)
    assert len(rows(output / database.DB_FILE)) == 2


def small_lines(count: int) -> list[dict]:
    """Lines quick to segment (a killed sync needs many of them to be killed midway)."""
    return [
        {**line(n), "title": f"台湾{n}", "summary": None, "paragraphs": ["短"]}
        for n in range(count)
    ]


def test_a_sync_killed_midway_leaves_a_database_the_next_completes(tmp_path: Path) -> None:
    """kill -9 of the child while it writes: SQLite rolls its open transaction back; the
    rows of committed ones stay, with the size they cover; the next sync adds the rest."""
    folder = tmp_path / "out"
    count = database.CHUNK * 8
    write(folder, small_lines(count))
    command = CrawlDatabase.command_for(folder, folder / ".state", None)
    child = subprocess.Popen(
        command, env=child_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
    )
    path = folder / database.DB_FILE
    try:
        for _ in range(6000):  # until a first transaction is committed (or it is done)
            if child.poll() is not None or held(path) >= database.CHUNK:
                break
            time.sleep(0.01)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        held_rows = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert held_rows % database.CHUNK == 0 or held_rows == count  # whole transactions
    result = database.sync(path, [folder])
    assert result.added == count - held_rows
    database.rebuild(tmp_path / "rebuilt.db", [folder])
    assert rows(path) == rows(tmp_path / "rebuilt.db")


def held(path: Path) -> int:
    try:
        with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=0.1) as db:
            return db.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_crawl_killed_while_its_sync_runs_leaves_no_harm(tmp_path: Path) -> None:
    """The crawl killed (os._exit) with a sync child running: the child finishes under
    the lock or not at all; the next run's database equals a rebuild."""
    output = tmp_path / "out"
    paths = [str(ROOT), str(ROOT / "tests"), str(Path(__file__).parent)]
    script = (
        f"import sys\nsys.path[:0] = {paths!r}\nfrom pathlib import Path\n"
        "import crashhooks\ncrashhooks.install('line:6')\n"
        "from test_database import open_pipeline, items\n"
        f"pipeline = open_pipeline(Path({str(output)!r}), batch=1)\n"
        "for item in items(6):\n    pipeline.process_item(item)\n"
    )
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, timeout=300
    )
    assert done.returncode == CRASH_EXIT_STATUS, done.stderr
    pipeline = open_pipeline(output, batch=100)  # its sync waits for any orphan's lock
    close(pipeline)
    kept = output / database.DB_FILE
    with sqlite3.connect(kept) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    database.rebuild(tmp_path / "rebuilt.db", [output])
    assert rows(kept) == rows(tmp_path / "rebuilt.db") and len(rows(kept)) == 6


def test_while_the_crawl_writes_the_child_makes_one_pass_a_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every pass finds something new while the crawl exports: passes until nothing is
    new would never rest (thousands a crawl, issue 26). One pass at the start, one for
    the requests read at once, passes until nothing is new once the crawl has closed."""
    from rfi_spider.archive import database_sync

    writing = threading.Event()
    writing.set()
    passes: list[bool] = []
    made = threading.Condition()

    def sync(path: Path, folders: object, warc_dirs: object = None) -> database.SyncResult:
        with made:
            new = writing.is_set()
            passes.append(new)
            made.notify_all()
            if len(passes) > 100:  # the loop the fix removed: bounded, so the test ends
                writing.clear()
        return database.SyncResult(added=int(new))

    def made_at_least(count: int) -> None:
        with made:
            assert made.wait_for(lambda: len(passes) >= count, timeout=60)

    monkeypatch.setattr(database, "sync", sync)
    requests, crawl = os.pipe()
    counts: list[dict[str, object]] = []
    state = tmp_path / ".state"
    state.mkdir()
    child = threading.Thread(
        target=lambda: counts.append(database_sync.serve(tmp_path, state, None, requests))
    )
    child.start()
    try:
        made_at_least(1)  # the start's pass
        os.write(crawl, b"\n\n\n")  # three batches' requests, read at once
        made_at_least(2)
        writing.clear()  # the crawl ends: nothing new any more
    finally:
        os.close(crawl)
        child.join(timeout=60)
        os.close(requests)
    assert not child.is_alive()
    assert passes == [True, True, False]
    assert counts[0]["added"] == 2


def test_the_child_runs_without_importing_scrapy(tmp_path: Path) -> None:
    """The child's start took about 0.4 s of CPU a crawl importing Scrapy (and Twisted,
    lxml, parsel) that it never used (issue 26): a whole sync of lines and a WARC file,
    then no such module is loaded."""
    from test_database_warc import T0, fetched_url, request, response

    from rfi_spider.archive.warc_files import WarcFiles

    folder = tmp_path / "out"
    files = WarcFiles(folder / "warc", "rfi-rfi_cn", 1 << 30, {"software": "test"})
    url = fetched_url(1)
    files.write(request(files, url), response(files, url, T0))
    files.close()
    write(folder, [line(n) for n in range(3)])
    command = CrawlDatabase.command_for(folder, folder / ".state", folder / "warc")
    module = command.index("-m")
    code = (
        "import json, sys\n"
        f"from {command[module + 1]} import main\n"
        f"status = main({command[module + 2 :]!r})\n"
        "heavy = {'scrapy', 'twisted', 'lxml', 'parsel', 'itemadapter'}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
        "sys.exit(status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=child_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    counts, loaded = done.stdout.splitlines()
    assert json.loads(counts)["added"] == 3 and json.loads(counts)["records"] == 1
    assert json.loads(loaded) == []
