"""Smoke test of ``python -m benchmarks`` at a tiny size: it runs and prints its table.

Nothing here is about time: the figures are the benchmark's business (BENCHMARKS.md).
"""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT

ROWS = (
    "extraction, project (ms/page",
    "of which the parse (parse_html)",
    "extraction, trafilatura.extract",
    "fields: padded page = unpadded page",
    "WARC record, gzip level 1 (ms a record; MB)",
    "WARC record, gzip level 9 (ms a record; MB)",
    "WARC record, warcio's gzip writer (9, 16 KB pieces)",
    "WARC size at the default level 6 / level 9",
    "crawl, 20 pages (pages/s",
    "server alone, bare aiohttp client",
    "the same with extraction workers",
    "WARC off (RFI_WARC=False), one process",
    "WARC on, without archive.db (RFI_ARCHIVE_DB=False), one process",
    "WARC off, without archive.db (RFI_ARCHIVE_DB=False), one process",
    "CPU a page (ms, main thread / process), WARC on",
    "WARC files, 20 pages (MB; KB a page)",
    "items exported (distinct) / pages",
    "peak RSS, 20 pages (MB)",
    "peak RSS, 40 pages (MB)",
    "extraction workers, peak PSS together (MB)",
    "re-extraction from WARC, 40 pages (pages/s), workers",
    "items exported, workers / one process",
    "store: 2,000 inserts, batches of 1000 as the crawl (s)",
    "store: first 2,000 inserts, 1 txn each (s)",
    "store: spider's lookup (known) at 2,000 rows",
    "exact lookup (url in store, SQL) at 2,000 rows",
    "redis: exported URLs, 2,000 known (bytes/URL)",
    "pending articles, 200 queued (bytes/URL)",
)


def test_benchmark_command_runs_and_prints_the_table() -> None:
    command = [sys.executable, "-m", "benchmarks", "--quick"]
    command += ["--pages", "20", "--big-pages", "40", "--store", "2000", "--extract-pages", "5"]
    command += ["--redis", "2000"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    for row in ROWS:
        assert any(row in line for line in table), row
    # Every page gave its own item, and padding changed no field.
    assert any("20 / 20" in line for line in table if "items exported" in line)
    assert any("yes" in line for line in table if "padded page = unpadded" in line)
    # The archive of the 40-page crawl gives the same 40 items again, with or without workers.
    assert any("40 / 40" in line for line in table if "workers / one process" in line)
