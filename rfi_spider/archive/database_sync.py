"""The crawl keeps ``archive.db`` current from a child process.

An article's rows cost about 2.5 ms of CPU, most of it Python under the interpreter
lock: its words (rjieba: 0.1 ms; pure-Python jieba took 30 ms), its row and full-text
row, and the WARC records' index (about 1 ms: each record inflated to read its headers).
In a thread of the crawl that would take the lock from the crawl's main thread, whose
CPU is what bounds the crawl; in a child process it runs on the other core. So
:class:`CrawlDatabase` (the export pipeline's side) starts ``python -m
rfi_spider.archive.database_sync FOLDER --state STATE [--warc WARC_DIR]`` when the spider
opens. The child syncs at once (catching up what a killed run left), then waits on its
stdin: the crawl writes a byte there after every ``RFI_ARCHIVE_DB_BATCH`` exports, and
the child makes one sync pass (for all the bytes waiting). One child for the whole
crawl: starting one per batch cost about 2 s of CPU each (imports, the segmenter's
dictionary). When the crawl closes its end of the pipe, the child syncs until nothing
is new, prints its counts as one JSON line and exits; the close waits for it at most
``RFI_ARCHIVE_DB_WAIT`` seconds.

Each sync takes the database lock (``<state>/archive-db.lock``, held only while it
writes, so ``scrapy archive-db`` and ``scrapy browse`` can run meanwhile) and copies
complete lines only, each batch of rows with the size read in one transaction
(:func:`rfi_spider.archive.database.sync`). So a killed crawl leaves no harm behind:
its child sees the pipe closed, syncs under the lock and exits (no orphan lingers);
a child killed mid-transaction has it rolled back by SQLite; the next run catches up
either way.

The database is a copy: a child that cannot be started, fails, or is stopped at the
close's time limit is one warning and a counter (``rfi/archive_db/error``,
``rfi/archive_db/timeout``), never a failed crawl; the next run (or ``scrapy
archive-db``) brings it up to date from ``items.jsonl``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from rfi_spider.archive.outputs import DB_FILE

logger = logging.getLogger(__name__)

MODULE = "rfi_spider.archive.database_sync"
# The last bytes of a failed child's error output quoted in the warning.
ERROR_TAIL = 300


def child_env() -> dict[str, str]:
    """The child's environment: this process's, with its import path (a Scrapyd egg,
    a project run from another folder), as multiprocessing's spawn passes it."""
    paths = [p or os.getcwd() for p in sys.path]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


class CrawlDatabase:
    """Runs the sync child for the export pipeline (see the module doc)."""

    def __init__(
        self,
        output_dir: Path,
        state_dir: Path,
        stats: Any,
        batch: int = 100,
        wait: float = 60.0,
        warc_dir: Path | None = None,
    ) -> None:
        self.output_dir = output_dir
        self.state_dir = state_dir
        self.warc_dir = warc_dir
        self.stats = stats
        self.batch = max(1, batch)
        self.wait = wait
        self.exported = 0  # exports since the last request for a sync
        self.failed = False
        self.process: subprocess.Popen[bytes] | None = None
        self.errors: IO[bytes] | None = None
        self.start()  # catch up at start: what a killed run left

    @staticmethod
    def command_for(output_dir: Path, state_dir: Path, warc_dir: Path | None) -> list[str]:
        """The child's command line."""
        command = [sys.executable, "-m", MODULE, str(output_dir), "--state", str(state_dir)]
        if warc_dir is not None:
            command += ["--warc", str(warc_dir)]
        return command

    def start(self) -> None:
        """The child, unless a failure stopped it; its stdin is the crawl's signal."""
        if self.failed or self.process is not None:
            return
        try:
            self.errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed in _error_tail)
            self.process = subprocess.Popen(
                self.command_for(self.output_dir, self.state_dir, self.warc_dir),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.errors,
                env=child_env(),
            )
        except OSError as error:
            self.fail(f"cannot start the sync process: {error}")
            return
        assert self.process.stdin is not None
        os.set_blocking(self.process.stdin.fileno(), False)  # the reactor never waits

    def signal(self) -> None:
        """Ask the child for a sync (a byte on its stdin); one that ended is collected."""
        process = self.process
        if process is None or process.stdin is None:
            return
        if process.poll() is not None:  # it ended before its time: a failure
            self.collect()
            return
        try:
            os.write(process.stdin.fileno(), b"\n")
        except BlockingIOError:  # the pipe is full of requests not yet read: enough
            pass
        except OSError:  # it ended meanwhile
            self.collect()

    def collect(self) -> None:
        """The counts of the child that ended (its failure, if it failed)."""
        process = self.process
        if process is None or process.poll() is None:
            return
        self.process = None
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        output = process.stdout.read() if process.stdout else b""
        if process.stdout:
            process.stdout.close()
        errors = self._error_tail()
        try:
            counts = json.loads(output.decode("utf-8", "replace").strip().splitlines()[-1])
        except (ValueError, IndexError):
            counts = None
        if process.returncode != 0 or not isinstance(counts, dict) or "error" in counts:
            detail = counts.get("error") if isinstance(counts, dict) else None
            status = f"the sync process ended with status {process.returncode}"
            self.fail(detail or (f"{status}: {errors}" if errors else status))
            return
        if counts.get("added"):
            self.stats.inc_value("rfi/archive_db/rows", counts["added"])
        if counts.get("records"):
            self.stats.inc_value("rfi/archive_db/warc_records", counts["records"])
        if counts.get("rebuilt"):
            self.stats.inc_value("rfi/archive_db/rebuilt")
            logger.warning("archive.db was rebuilt: items.jsonl is shorter than it remembered")

    def _error_tail(self) -> str:
        if self.errors is None:
            return ""
        try:
            self.errors.seek(0, os.SEEK_END)
            self.errors.seek(max(0, self.errors.tell() - ERROR_TAIL))
            tail = self.errors.read().decode("utf-8", "replace").strip()
            self.errors.close()
        except OSError:
            tail = ""
        self.errors = None
        return " ".join(tail.split())

    def fail(self, detail: str) -> None:
        """One warning and ``rfi/archive_db/error``; no more children this run."""
        self.failed = True
        self.stats.inc_value("rfi/archive_db/error")
        logger.warning(
            "could not update %s (%s): the crawl goes on; the next run (or scrapy archive-db)"
            " brings it up to date from items.jsonl",
            self.output_dir / DB_FILE,
            detail,
        )

    def exported_one(self) -> None:
        """One more export: a sync when a batch is complete."""
        self.exported += 1
        if self.exported >= self.batch:
            self.exported = 0
            self.signal()

    def close(self) -> None:
        """The last sync (the child's, once its stdin is closed), waited for at most
        ``wait`` seconds; past it the child is stopped (its open transaction rolled
        back) and a warning says so once."""
        process = self.process
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            process.wait(timeout=self.wait)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            self.process = None
            if process.stdout:
                process.stdout.close()
            self._error_tail()
            self.stats.inc_value("rfi/archive_db/timeout")
            logger.warning(
                "archive.db: the sync did not end within RFI_ARCHIVE_DB_WAIT=%gs and was"
                " stopped; the next run (or scrapy archive-db) catches up from items.jsonl",
                self.wait,
            )
            return
        self.collect()


def sync_all(
    folder: Path, state: Path, warc: Path | None, totals: Any, until_done: bool = True
) -> None:
    """Sync ``folder``'s database under its lock: one pass, or (``until_done``) passes
    until one finds nothing new."""
    from rfi_spider.archive import database

    with database.locked(state):
        while True:
            warc_dirs = {folder: warc} if warc is not None else None
            result = database.sync(folder / database.DB_FILE, [folder], warc_dirs)
            totals.added += result.added
            totals.skipped += result.skipped
            totals.records += result.records
            totals.damaged += result.damaged
            totals.rebuilt = totals.rebuilt or result.rebuilt
            if not until_done or not (result.added or result.records) or result.rebuilt:
                return


def serve(folder: Path, state: Path, warc: Path | None, requests: int) -> dict[str, Any]:
    """One sync pass now (all that a killed run left), one for each read of the
    ``requests`` file descriptor (the bytes the crawl wrote since the last), and, once
    the crawl closed it, passes until one finds nothing new.

    One pass at a time while the crawl runs, not passes until nothing is new: the crawl
    exports lines and writes WARC records all the while, so nearly every pass found
    something and that loop never rested, thousands of passes a crawl (about 1.3 ms each
    before any row): most of the child's CPU, taken from the crawl's two cores (issue
    26). What a pass missed is in the next, a batch of exports later, or in the last."""
    from rfi_spider.archive.database import SyncResult

    totals = SyncResult()
    sync_all(folder, state, warc, totals, until_done=False)
    while os.read(requests, 65536):  # empty: the crawl closed its end (or died)
        sync_all(folder, state, warc, totals, until_done=False)
    sync_all(folder, state, warc, totals)
    return asdict(totals)


def main(argv: list[str] | None = None) -> int:
    """The child: one JSON line of counts on stdout (or of the error), status 0 or 1."""
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--warc", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        counts = serve(args.folder, args.state, args.warc, sys.stdin.fileno())
    except (OSError, sqlite3.Error) as error:
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}), flush=True)
        return 1
    print(json.dumps(counts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
