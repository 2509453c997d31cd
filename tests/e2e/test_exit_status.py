"""``scrapy crawl``'s exit status (rfi_spider/commands/crawl.py): 2 for a bad argument, with
one line on stderr and no request sent; 1 for a failed finish reason; 0 otherwise."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, crawl_command

from rfi_spider.demo.localsite import LocalSite


def crawl(output: Path, *args: str, settings: dict[str, str] | None = None):
    command, environment = crawl_command(output, *args, settings=settings)
    return subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def site() -> LocalSite:
    with LocalSite.sample() as served:
        yield served


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["base_url=127.0.0.1:8080"], "-a base_url= takes an absolute http(s) URL"),
        (["base_url=ftp://127.0.0.1/"], "-a base_url= takes an absolute http(s) URL"),
        (["url=/cn/国际/20240307-x"], "-a url= takes an absolute http(s) URL"),
        (["since=07/03/2024"], "-a since= takes a date as YYYY-MM-DD"),
        (["since=2024-03-08", "until=2024-03-07"], "-a since=2024-03-08 is after until="),
        (["until=2024-03-07"], "-a until= needs -a since="),
        (["mirrors=feedx.net/rfi.xml"], "a feed mirror must be an http(s) URL"),
        # An empty from_warc (a script's unset variable) is no live crawl (issue 24, item 7).
        (["from_warc="], "-a from_warc= names no WARC file or folder"),
        (["from_warc=,"], "-a from_warc= names no WARC file or folder"),
        (["from_warc=/nonexistent/x.warc.gz"], "no such file or folder"),
    ],
)
def test_a_bad_argument_is_one_line_and_exit_2_before_any_request(
    site: LocalSite, tmp_path: Path, args: list[str], message: str
) -> None:
    site.requests.clear()
    # base_url first: a later bad base_url replaces it (Scrapy keeps the last -a).
    done = crawl(tmp_path / "out", f"base_url={site.url}", *args)
    assert done.returncode == 2, done.stderr[-3000:]
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr[-3000:]
    assert lines[0].startswith("scrapy crawl rfi_cn: bad argument: ")
    assert message in lines[0]
    assert "Traceback" not in done.stdout + done.stderr
    assert not site.requests
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("level", ["10", "fast"])
def test_a_bad_warc_gzip_level_is_one_line_and_exit_2_before_any_request(
    site: LocalSite, tmp_path: Path, level: str
) -> None:
    site.requests.clear()
    done = crawl(tmp_path / "out", f"base_url={site.url}", settings={"RFI_WARC_GZIP_LEVEL": level})
    assert done.returncode == 2, done.stderr[-3000:]
    assert done.stderr.splitlines() == [
        "scrapy crawl rfi_cn: bad setting: RFI_WARC_GZIP_LEVEL must be a whole number"
        f" from 0 to 9, not {level!r}"
    ]
    assert not site.requests
    assert not (tmp_path / "out").exists()


def test_a_crawl_that_finishes_exits_0(site: LocalSite, tmp_path: Path) -> None:
    done = crawl(tmp_path / "out", f"base_url={site.url}", "url=" + site.url + "/nope")
    assert done.returncode == 2  # not an article URL: refused before any request
    url = next(p for p in site.pages if "/20240307-" in p)
    done = crawl(tmp_path / "out", f"base_url={site.url}", f"url={site.url}{url}")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "'finish_reason': 'finished'" in done.stderr


def test_a_failed_finish_reason_exits_1(site: LocalSite, tmp_path: Path) -> None:
    """A finish reason listed in RFI_FAILED_FINISH_REASONS exits 1, another exits 0 (here
    CloseSpider's closespider_pagecount, listed or not)."""
    settings = {"CLOSESPIDER_PAGECOUNT": "1", "RFI_FAILED_FINISH_REASONS": "closespider_pagecount"}
    done = crawl(tmp_path / "out", f"base_url={site.url}", settings=settings)
    assert "'finish_reason': 'closespider_pagecount'" in done.stderr, done.stderr[-3000:]
    assert done.returncode == 1
    settings["RFI_FAILED_FINISH_REASONS"] = "write_error"
    done = crawl(tmp_path / "out2", f"base_url={site.url}", settings=settings)
    assert "'finish_reason': 'closespider_pagecount'" in done.stderr, done.stderr[-3000:]
    assert done.returncode == 0


def test_a_crawl_that_cannot_write_its_warc_files_fails(site: LocalSite, tmp_path: Path) -> None:
    """The WARC folder cannot be created (a file stands in its place; a read-only folder
    would do, but not for root): one error line, nothing fetched, finish reason
    write_error, exit 1. It used to stop capture only, and exit 0 with passing monitors."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file")
    site.requests.clear()
    done = crawl(
        tmp_path / "out",
        f"base_url={site.url}",
        settings={"RFI_WARC_DIR": str(blocker / "warc")},
    )
    assert done.returncode == 1, done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines() if "WARC capture stopped" in line]
    assert len(errors) == 1 and "ERROR" in errors[0], done.stderr[-3000:]
    assert "'finish_reason': 'write_error'" in done.stderr
    assert "'rfi/warc/write_error': 1" in done.stderr
    assert "Traceback" not in done.stderr
    assert not [path for path in site.requests if "/cn/" in path[1]]  # no page fetched


def make_archive(root: Path) -> dict[Path, bytes]:
    """A small archive folder (items.jsonl, the state database, a WARC file): its files
    and their bytes, to show that a refused command left them as they were."""
    for folder in (".state", "warc"):
        (root / folder).mkdir(parents=True)
    (root / "items.jsonl").write_text('{"url": "https://www.rfi.fr/cn/x"}\n')
    db = sqlite3.connect(root / ".state" / "seen.sqlite3")
    db.execute("CREATE TABLE seen (url TEXT PRIMARY KEY)")
    db.commit()
    db.close()
    (root / "warc" / "rfi-rfi_cn-1-00000.warc.gz").write_bytes(b"\x1f\x8b not really")
    (root / "precious.txt").write_text("a file a symbolic link points to")
    (root / "link").symlink_to(root / "precious.txt")
    os.mkfifo(root / "fifo")
    return {path: path.read_bytes() for path in root.rglob("*") if path.is_file()}


def assert_one_line_exit_2(done: subprocess.CompletedProcess[str], message: str) -> None:
    assert done.returncode == 2, done.stderr[-3000:]
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr[-3000:]
    assert message in lines[0], lines[0]
    assert "Traceback" not in done.stdout + done.stderr


# (spider arguments, options, settings, the message). Every value the settings refuse is
# unit-tested in tests/test_config.py; a few here show the command's one line.
CRAWL_REFUSED = {
    "demo-2": (["demo=2"], [], {}, "bad argument: -a demo= takes 1, true or yes"),
    "unknown-name": (["sinse=2024-03-01"], [], {}, "-a sinse= is not an argument"),
    "negative-cache": ([], [], {"RFI_STATE_CACHE_KIB": "-1"}, "bad setting: RFI_STATE_CACHE_KIB"),
    "workers-nan": ([], [], {"RFI_EXTRACT_WORKERS": "many"}, "bad setting: RFI_EXTRACT_WORKERS"),
    "coverage-not-json": ([], [], {"RFI_QA_MIN_COVERAGE": "{x"}, "bad setting: RFI_QA_MIN"),
    "warc-prefix-path": ([], [], {"RFI_WARC_PREFIX": "../x"}, "bad setting: RFI_WARC_PREFIX"),
    # Without its group "month", a backfill's first monthly map raised IndexError mid-crawl.
    "contents-no-month": (
        ["since=all"],
        [],
        {"RFI_SITEMAP_CONTENTS": r"contents_(\d{6})\.xml$"},
        "bad setting: RFI_SITEMAP_CONTENTS must be a regular expression with a group (?P<month>",
    ),
    "map-budget-negative": (
        [],
        [],
        {"RFI_SITEMAP_MAX_CHILDREN": "-5"},
        "bad setting: RFI_SITEMAP_MAX_CHILDREN",
    ),
    "O-items": ([], ["-O", "{a}/items.jsonl"], {}, "would overwrite the archive's own"),
    "o-state": ([], ["-o", "{a}/.state/seen.sqlite3:jsonl"], {}, "would overwrite the archive"),
    "o-warc": ([], ["-o", "file://{a}/warc/x.warc.gz:jsonl"], {}, "would overwrite the archive"),
    "o-dev-null": ([], ["-o", "/dev/null:jsonl"], {}, "/dev/null is not a regular file"),
    "O-symlink": ([], ["-O", "{a}/link:jsonl"], {}, "link is a symbolic link"),
    "output-is-a-file": ([], [], {"RFI_OUTPUT_DIR": "{a}/precious.txt"}, "is a file, not a"),
    "corrupt-state": ([], [], {"corrupt": ""}, "is not a SQLite database"),
}


@pytest.mark.parametrize("case", CRAWL_REFUSED, ids=list(CRAWL_REFUSED))
def test_a_bad_argument_setting_output_or_folder_is_one_line_exit_2_and_the_archive_is_kept(
    site: LocalSite, tmp_path: Path, case: str
) -> None:
    args, options, settings, message = CRAWL_REFUSED[case]
    archive = tmp_path / "archive"
    files = make_archive(archive)
    if "corrupt" in settings:
        settings = {}
        state = archive / ".state" / "seen.sqlite3"
        state.write_bytes(bytes(range(256)) * 64)
        files[state] = state.read_bytes()
    settings = {k: v.replace("{a}", str(archive)) for k, v in settings.items()}
    command, environment = crawl_command(archive, f"base_url={site.url}", *args, settings=settings)
    command += [option.replace("{a}", str(archive)) for option in options]
    site.requests.clear()
    done = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
    )
    assert_one_line_exit_2(done, message)
    assert done.stderr.startswith("scrapy crawl rfi_cn: ")
    assert not site.requests
    assert {p: p.read_bytes() for p in archive.rglob("*") if p.is_file()} == files
    assert Path("/dev/null").is_char_device()


# scrapy feed / wacz / qa: (the command's arguments, the message)
TOOL_REFUSED = {
    "feed-items": (["feed", "{a}", "-o", "{a}/items.jsonl"], "would overwrite the archive's own"),
    "feed-state": (["feed", "{a}", "-o", "{a}/.state/seen.sqlite3"], "would overwrite the"),
    # Not /dev/null: without the check, as root, the feed's rename would replace the system's.
    "feed-fifo": (["feed", "{a}", "-o", "{a}/fifo"], "fifo is not a regular file"),
    "feed-bad-setting": (
        ["feed", "{a}", "-o", "{a}/../f.atom", "-s", "RFI_EXTRACT_WORKERS=-1"],
        "scrapy feed: error: bad setting: RFI_EXTRACT_WORKERS",
    ),
    "wacz-warc": (["wacz", "{a}", "-o", "{a}/warc/x.warc.gz"], "would overwrite the archive's"),
    "wacz-symlink": (["wacz", "{a}", "-o", "{a}/link"], "link is a symbolic link"),
    "qa-html-items": (["qa", "{a}", "--html", "{a}/items.jsonl"], "QA could not check: --html"),
    "qa-bad-setting": (
        ["qa", "{a}", "-s", "RFI_QA_MIN_COVERAGE=half"],
        "QA could not check: bad setting: RFI_QA_MIN_COVERAGE",
    ),
}


@pytest.mark.parametrize("case", TOOL_REFUSED, ids=list(TOOL_REFUSED))
def test_feed_wacz_and_qa_refuse_in_one_line_and_keep_the_archive(
    tmp_path: Path, case: str
) -> None:
    arguments, message = TOOL_REFUSED[case]
    archive = tmp_path / "archive"
    files = make_archive(archive)
    command = [sys.executable, "-m", "scrapy", *(a.replace("{a}", str(archive)) for a in arguments)]
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("RFI_OUTPUT_DIR", "RFI_STATE_DIR", "REDIS_URL"):
        environment.pop(name, None)
    done = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
    )
    assert_one_line_exit_2(done, message)
    assert {p: p.read_bytes() for p in archive.rglob("*") if p.is_file()} == files
    assert (archive / "fifo").is_fifo() and (archive / "link").is_symlink()
    assert not (tmp_path / "f.atom").exists()
