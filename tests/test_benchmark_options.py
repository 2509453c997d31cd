"""``python -m benchmarks``' size options: 0 skips a part instead of crashing it."""

from __future__ import annotations

from pathlib import Path

from benchmarks.__main__ import store_rows


def test_store_zero_skips_the_store_part(tmp_path: Path) -> None:
    # bench_store(0) fails in time_lookups (randrange over an empty range): 0 means "skip",
    # as --redis 0 does.
    figures, rows = store_rows(0, tmp_path)
    assert figures is None
    assert rows == []
    assert not (tmp_path / "store").exists()


def test_store_rows_at_a_small_size(tmp_path: Path) -> None:
    figures, rows = store_rows(40, tmp_path, quick=True)
    assert figures is not None
    assert figures["rows"] == 40
    assert any("store: 40 inserts" in row[0] for row in rows)
