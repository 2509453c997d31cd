"""``scrapy qa`` lists the articles the crawl gave up (the archive's state folder) as a
warning: URL, attempts and last cause, in the terminal and on the web page (issue 13)."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from rfi_spider.archive.failures import FailedArticles
from rfi_spider.archive.state import SeenStore
from rfi_spider.quality import qa, qa_html

GONE = "https://www.rfi.fr/cn/%E5%9B%BD%E9%99%85/20240307-%E5%B7%B2%E5%88%A0"  # 已删
BROKEN = "https://www.rfi.fr/cn/%E5%9B%BD%E9%99%85/20240306-broken"
AGAIN = "https://www.rfi.fr/cn/%E5%9B%BD%E9%99%85/20240305-again"
OLD_TABLE = (  # the table before it recorded what the crawl gave up
    "CREATE TABLE failures (url TEXT PRIMARY KEY, attempts INTEGER NOT NULL,"
    " cause TEXT NOT NULL, failed_at TEXT NOT NULL) WITHOUT ROWID"
)


def archive_with_failures(root: Path, failures: dict[str, list[str]], max_attempts: int) -> Path:
    """An empty archive whose state records ``failures`` (URL -> causes, one per attempt)."""
    root.mkdir()
    (root / "items.jsonl").write_bytes(b"")
    (root / ".state").mkdir()
    store = SeenStore(root / ".state" / "seen.sqlite3")
    try:
        table = FailedArticles(store, max_attempts)
        for url, causes in failures.items():
            for cause in causes:
                table.record(url, cause)
    finally:
        store.close()
    return root


def test_given_up_articles_are_a_warning_with_attempts_and_cause(tmp_path: Path) -> None:
    failures = {
        GONE: ["could not fetch: HTTP 404"] * 3,
        BROKEN: ["extraction error: X", "extraction error: \x1b]0;pwned\x07"] * 2,
        AGAIN: ["not an article: truncated"],
    }
    root = archive_with_failures(tmp_path / "archive", failures, max_attempts=3)
    report = qa.check_archive(root)
    assert report.ok  # a warning, not a problem: the exit status stays 0
    assert [(r.url, r.attempts) for r in report.given_up] == [(BROKEN, 4), (GONE, 3)]
    assert report.retrying == 1
    text = qa.render_text(report)
    warning = (
        "Warning: 2 articles given up (failed RFI_MAX_ATTEMPTS times):"
        " not in the archive, and not requested again"
    )
    assert warning in text.splitlines()
    assert (
        "  https://www.rfi.fr/cn/国际/20240307-已删  3 attempts  could not fetch: HTTP 404\n"
        in text
    )
    assert "extraction error: \\x1b]0;pwned\\x07" in text and "\x1b" not in text
    assert "1 other failed article will be tried again by the next crawl" in text
    assert text.rstrip().endswith("QA passed: 0 items, no problems.")

    page = qa_html.render_html(report)
    assert '<h2 id="given-up">Given-up articles (2)</h2>' in page
    assert f'<p class="warning">{warning}</p>' in page
    assert '<td class="msg">https://www.rfi.fr/cn/国际/20240307-已删</td>' in page
    assert "\x1b" not in page and "1 other failed article will be tried again" in page


def test_the_last_crawls_max_attempts_decides_what_is_given_up(tmp_path: Path) -> None:
    root = archive_with_failures(tmp_path / "archive", {AGAIN: ["HTTP 404"]}, max_attempts=3)
    assert qa.check_archive(root).given_up == []
    assert qa.check_archive(root, max_attempts=1).given_up == []  # QA's setting: not its say
    for crawl_max, given_up in ((1, [AGAIN]), (5, [])):  # a crawl run with RFI_MAX_ATTEMPTS=
        store = SeenStore(root / ".state" / "seen.sqlite3")
        FailedArticles(store, crawl_max)
        store.close()
        assert [r.url for r in qa.check_archive(root).given_up] == given_up


def test_a_state_from_before_the_record_is_judged_by_qas_setting(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    (root / ".state").mkdir(parents=True)
    (root / "items.jsonl").write_bytes(b"")
    with contextlib.closing(sqlite3.connect(root / ".state" / "seen.sqlite3")) as db, db:
        db.execute(OLD_TABLE)
        db.execute(
            "INSERT INTO failures VALUES (?, 2, 'HTTP 404', '2026-12-01T00:00:00Z')", (GONE,)
        )
    assert [r.url for r in qa.check_archive(root, max_attempts=2).given_up] == [GONE]
    assert qa.check_archive(root, max_attempts=3).given_up == []


def test_the_list_is_cut_unless_all_are_asked_for(tmp_path: Path) -> None:
    many = {f"{GONE}-{n:02d}": ["could not fetch: HTTP 404"] for n in range(25)}
    report = qa.check_archive(archive_with_failures(tmp_path / "a", many, 1), max_attempts=1)
    text = qa.render_text(report, limit=20)
    assert "  ... and 5 more (--all shows every one)" in text
    assert sum(line.startswith("  https://") for line in text.splitlines()) == 20
    assert "... and" not in qa.render_text(report, limit=None)
    assert "… and 5 more (run with --all)." in qa_html.render_html(report, limit=20)


def test_no_state_no_section(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    root.mkdir()
    (root / "items.jsonl").write_bytes(b"")
    report = qa.check_archive(root)
    assert report.given_up == [] and report.retrying == 0
    assert "given up" not in qa.render_text(report)
    assert "given-up" not in qa_html.render_html(report)


def test_a_state_folder_elsewhere(tmp_path: Path) -> None:
    elsewhere = archive_with_failures(tmp_path / "state-archive", {GONE: ["HTTP 404"]}, 1)
    root = tmp_path / "archive"
    root.mkdir()
    (root / "items.jsonl").write_bytes(b"")
    report = qa.check_archive(root, state_dir=elsewhere / ".state", max_attempts=1)
    assert [r.url for r in report.given_up] == [GONE]
