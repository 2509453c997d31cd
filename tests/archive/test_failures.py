"""Failed articles: attempts across runs, given up at RFI_MAX_ATTEMPTS, cleared on export."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from rfi_spider.archive.failures import FailedArticles, read_failures
from rfi_spider.archive.state import SeenStore

URL = "https://www.rfi.fr/cn/a/20240101-x"


def test_given_up_after_max_attempts_across_runs(tmp_path: Path) -> None:
    for attempt in (1, 2, 3):
        store = SeenStore(tmp_path / "seen.sqlite3")
        failures = FailedArticles(store, max_attempts=3)
        assert not failures.gave_up(URL)
        record = failures.record(URL, f"extraction error: RecursionError {attempt}")
        assert record.attempts == attempt
        store.close()
    store = SeenStore(tmp_path / "seen.sqlite3")
    assert FailedArticles(store, max_attempts=3).gave_up(URL)
    assert not FailedArticles(store, max_attempts=4).gave_up(URL)  # more tries: raise it
    store.close()
    (record,) = read_failures(tmp_path) or []
    assert (record.url, record.attempts) == (URL, 3)
    assert record.cause == "extraction error: RecursionError 3"


def test_an_export_clears_the_record(tmp_path: Path) -> None:
    store = SeenStore(tmp_path / "seen.sqlite3")
    failures = FailedArticles(store, max_attempts=1)
    failures.record(URL, "no answer")
    assert failures.gave_up(URL)
    failures.cleared(URL)
    assert not failures.gave_up(URL) and failures.get(URL) is None
    store.close()


def test_an_export_without_a_record_takes_no_write_transaction(tmp_path: Path) -> None:
    store = SeenStore(tmp_path / "seen.sqlite3")
    failures = FailedArticles(store, max_attempts=2)
    failures.record(URL, "no answer")
    statements: list[str] = []
    store.db.set_trace_callback(statements.append)
    failures.cleared(URL + "-2")  # never failed: nothing to delete, no lock, no commit
    assert not any(s.startswith(("BEGIN", "DELETE", "COMMIT")) for s in statements)
    failures.cleared(URL)
    assert any(s.startswith("DELETE") for s in statements)
    assert failures.get(URL) is None
    store.close()


def test_a_state_from_before_the_given_up_column_is_upgraded(tmp_path: Path) -> None:
    with contextlib.closing(sqlite3.connect(tmp_path / "seen.sqlite3")) as db, db:
        db.execute(
            "CREATE TABLE failures (url TEXT PRIMARY KEY, attempts INTEGER NOT NULL,"
            " cause TEXT NOT NULL, failed_at TEXT NOT NULL) WITHOUT ROWID"
        )
        db.execute("INSERT INTO failures VALUES (?, 2, 'HTTP 404', '2026-12-01T00:00:00Z')", (URL,))
    store = SeenStore(tmp_path / "seen.sqlite3")
    failures = FailedArticles(store, max_attempts=2)
    assert failures.gave_up(URL)
    record = failures.get(URL)
    assert record is not None and record.given_up
    store.close()
    (read,) = read_failures(tmp_path) or []
    assert read.given_up


def test_the_record_says_what_the_last_crawl_gave_up(tmp_path: Path) -> None:
    store = SeenStore(tmp_path / "seen.sqlite3")
    assert not FailedArticles(store, max_attempts=2).record(URL, "HTTP 404").given_up
    assert FailedArticles(store, max_attempts=2).record(URL, "HTTP 404").given_up
    FailedArticles(store, max_attempts=3)  # a crawl with more tries: not given up any more
    store.close()
    (record,) = read_failures(tmp_path, max_attempts=1) or []  # the state's say, not the reader's
    assert (record.attempts, record.given_up) == (2, False)


def test_the_runs_account(tmp_path: Path) -> None:
    store = SeenStore(tmp_path / "seen.sqlite3")
    FailedArticles(store, max_attempts=1).record(URL, "HTTP 404")  # an earlier run
    failures = FailedArticles(store, max_attempts=2)
    other = URL + "-2"
    assert failures.record(other, "extraction error: X").attempts == 1
    assert list(failures.failed_now) == [other] and failures.given_up_now == {}
    assert failures.record(URL, "HTTP 410").given_up  # attempt 2 of 2
    assert failures.given_up_now == {URL: "HTTP 410"}
    failures.cleared(URL)  # exported after all
    assert failures.given_up_now == {} and list(failures.failed_now) == [other]
    store.close()

    store = SeenStore(tmp_path / "seen.sqlite3")
    failures = FailedArticles(store, max_attempts=1)
    assert failures.gave_up(other) and failures.skipped(other) == "extraction error: X"
    assert failures.given_up_now == {other: "extraction error: X"} and not failures.failed_now
    failures.keep_pending(URL, None)
    assert failures.accounted_for(URL) and not failures.accounted_for(other)
    store.close()
