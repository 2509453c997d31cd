"""The crawl keeps ``archive.db`` current from a child process.

Segmenting Chinese with jieba costs about 30 ms of pure-Python CPU an article, more
than the rest of a page's whole cost (about 12 ms). In a thread of the crawl it would
hold the interpreter lock that long and halve the crawl's throughput; in a child
process it runs on the other core. So :class:`CrawlDatabase` (the export pipeline's
side) starts ``python -m rfi_spider.archive.database_sync FOLDER --state STATE
--warc WARC_DIR`` at start (catching up what a killed run left), after every
``RFI_ARCHIVE_DB_BATCH`` exports when none is running, and once more at close, and
waits for that last one at most ``RFI_ARCHIVE_DB_WAIT`` seconds.

The child takes the database lock (``<state>/archive-db.lock``) and syncs
(:func:`rfi_spider.archive.database.sync`: complete lines only, each batch of rows
with the size read in one transaction) until a pass finds nothing new, then prints its
counts as one JSON line. So a killed crawl leaves no harm behind: a child that outlives
it finishes its transactions under the lock and exits; one killed mid-transaction has
its transaction rolled back by SQLite; the next run catches up either way.

The database is a copy: a child that cannot be started, fails or is stopped at the
close's time limit is one warning and a counter (``rfi/archive_db/error``,
``rfi/archive_db/timeout``), never a failed crawl; the next run (or ``scrapy
archive-db``) brings it up to date from ``items.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
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
        self.exported = 0  # exports since the running (or last) child started
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
        """A child, unless one is running or a failure stopped them."""
        if self.failed or self.process is not None:
            return
        try:
            self.errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed in _error_tail)
            self.process = subprocess.Popen(
                self.command_for(self.output_dir, self.state_dir, self.warc_dir),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=self.errors,
                env=child_env(),
            )
        except OSError as error:
            self.fail(f"cannot start the sync process: {error}")
            return
        self.exported = 0

    def collect(self) -> bool:
        """Whether no child is running (any that ended: its counts taken)."""
        process = self.process
        if process is None:
            return True
        if process.poll() is None:
            return False
        self.process = None
        output = process.stdout.read() if process.stdout else b""
        if process.stdout:
            process.stdout.close()
        errors = self._error_tail()
        try:
            counts = json.loads(output.decode("utf-8", "replace").strip().splitlines()[-1])
        except (ValueError, IndexError):
            counts = None
        if process.returncode != 0 or not isinstance(counts, dict):
            detail = (counts or {}).get("error") if isinstance(counts, dict) else None
            self.fail(
                detail
                or f"the sync process ended with status {process.returncode}"
                f"{': ' + errors if errors else ''}"
            )
            return True
        if counts.get("added"):
            self.stats.inc_value("rfi/archive_db/rows", counts["added"])
        if counts.get("records"):
            self.stats.inc_value("rfi/archive_db/warc_records", counts["records"])
        if counts.get("rebuilt"):
            self.stats.inc_value("rfi/archive_db/rebuilt")
            logger.warning("archive.db was rebuilt: items.jsonl is shorter than it remembered")
        return True

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
        """One more export: a child when a batch is complete and none is running."""
        self.exported += 1
        if self.exported >= self.batch and self.collect():
            self.start()

    def close(self) -> None:
        """A last sync of every line written, waited for at most ``wait`` seconds in all."""
        deadline = time.monotonic() + self.wait
        if not self._wait(deadline):
            return
        if self.exported:  # lines the last child may not have seen
            self.start()
            self._wait(deadline)

    def _wait(self, deadline: float) -> bool:
        """Wait for the running child until ``deadline``; past it, stop it (its open
        transaction is rolled back) and say so once."""
        process = self.process
        if process is None:
            return True
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
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
            return False
        self.collect()
        return True


def run(folder: Path, state: Path, warc: Path | None) -> dict[str, Any]:
    """Sync ``folder``'s database under its lock until a pass finds nothing new."""
    from rfi_spider.archive import database

    totals = database.SyncResult()
    with database.locked(state):
        while True:
            warc_dirs = {folder: warc} if warc is not None else None
            result = database.sync(folder / database.DB_FILE, [folder], warc_dirs)
            totals.added += result.added
            totals.skipped += result.skipped
            totals.records += result.records
            totals.damaged += result.damaged
            totals.rebuilt = totals.rebuilt or result.rebuilt
            if not (result.added or result.records) or result.rebuilt:
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
        counts = run(args.folder, args.state, args.warc)
    except (OSError, sqlite3.Error) as error:
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}), flush=True)
        return 1
    print(json.dumps(counts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
