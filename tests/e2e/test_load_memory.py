"""Smoke test of ``python -m benchmarks.load_memory`` at a tiny size: it runs, every page is
exported, the browser's contexts are renewed, and the table comes out.

The figures are the benchmark's business (docs/reliability.md, "Crashes, resumes, hostile input and
memory"); nothing here is about memory or time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

ROWS = (
    "crawl, 20 pages: peak RSS (MB)",
    "crawl, 40 pages: peak RSS (MB)",
    "VmRSS at 10/25/50/75/100% of the run",
    "every page exported once",
    "browser, 6 pages, contexts renewed every 2",
    "browser processes (PSS)",
    "pages through the browser, contexts closed, pages/s",
)


def test_load_memory_runs_and_prints_the_table(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "benchmarks.load_memory", "--pages", "20"]
    command += ["--big-pages", "40", "--browser-pages", "6", "--context-pages", "2"]
    command += ["--json", str(tmp_path / "figures.json")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    for row in ROWS:
        assert any(row in line for line in table), (row, done.stdout)
    assert any("20 / 40" in line for line in table if "every page exported" in line)
    figures = json.loads((tmp_path / "figures.json").read_text(encoding="utf-8"))
    browser = figures["browser-2"]["stats"]
    assert browser["rfi/browser/succeeded/article"] == 6
    assert browser["rfi/browser/contexts_recycled"] == 2  # after pages 2 and 4
    assert browser["playwright/page_count/max_concurrent"] == 1  # one page at a time
    assert figures["browser-2"]["children_samples_mb"]  # the browser was measured
