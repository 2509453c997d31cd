"""``scrapy qa`` on a read-only copy of an archive checks it as any other (issue 24, 10).

SQLite cannot read a WAL database without creating its ``-shm`` file beside it, which a
read-only folder refuses. The copy is made read only for real: by its permissions for an
ordinary user; for root, whom permissions do not stop, by a read-only bind mount in a
mount namespace of its own (``unshare --mount``: private, gone with the process).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT
from test_qa_sitemaps import ARTICLES, GONE, record_state, write_archive

# Fails (exit 99) unless the folder really refuses a new file, then runs the command.
READ_ONLY_RUN = (
    'if [ "$(id -u)" = 0 ]; then mount --bind "$1" "$1" && mount -o remount,bind,ro "$1"'
    " || exit 98; fi; "
    'if touch "$1/.state/probe" 2>/dev/null; then exit 99; fi; shift; exec "$@"'
)


def make_read_only(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


@pytest.fixture
def read_only_archive(tmp_path: Path) -> Iterator[Path]:
    """An archive with sitemap listings and a given-up article, copied and made read only
    (the state as a crawl leaves it: ``seen.sqlite3`` alone, no ``-wal``, no ``-shm``)."""
    original = tmp_path / "archive"
    write_archive(original, ARTICLES)
    record_state(original / ".state")
    copy = tmp_path / "copy"
    shutil.copytree(original, copy)
    assert [p.name for p in (copy / ".state").iterdir()] == ["seen.sqlite3"]
    make_read_only(copy)
    yield copy
    for path in [copy, *copy.rglob("*")]:  # so that pytest can remove it
        path.chmod(stat.S_IMODE(path.stat().st_mode) | stat.S_IWUSR)


def run_qa_read_only(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``scrapy qa ROOT ARGS`` with ``root`` read only (see the module's docstring)."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    environ.pop("RFI_OUTPUT_DIR", None)
    qa = [sys.executable, "-m", "scrapy", "qa", str(root), *args]
    unshare = ["unshare", "--mount"] if os.geteuid() == 0 else []
    command = [*unshare, "sh", "-c", READ_ONLY_RUN, "sh", str(root), *qa]
    return subprocess.run(
        command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )


def test_qa_checks_a_read_only_copy_as_the_archive_itself(read_only_archive: Path) -> None:
    done = run_qa_read_only(read_only_archive)
    assert done.returncode not in (98, 99), "the copy is not read only: the test proves nothing"
    out = done.stdout
    assert out.startswith("QA of "), done.stderr  # e.g. unshare refused: no mount namespace
    assert "cannot read" not in out + done.stderr, out
    assert "[state]" not in out
    assert "  total            10         6        4" in out
    assert f"[sitemap-missing] 2024-03: {GONE}: 404 (failed 3 times, given up)" in out
    assert "Warning: 1 article given up" in out  # the failures table was read too
    assert out.rstrip().endswith("QA FAILED: 4 problems (4 sitemap-missing).")
    assert done.returncode == 1, done.stderr
    assert sorted(p.name for p in (read_only_archive / ".state").iterdir()) == ["seen.sqlite3"]
