"""``scrapy qa`` on hostile exports: findings instead of crashes, bounded memory, exit
statuses, values escaped for the terminal and the page, and the mirror-share warning.

``scrapy qa`` runs in a subprocess, as a user runs it, on a copy of a real crawl's
output (or on small archives written here) in which each test plants what it needs.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from html import escape
from pathlib import Path

import pytest
from conftest import LISTINGS_ONLY, ROOT, CrawlResult, run_crawl
from test_qa import copy_output, jsonl_lines, run_qa, write_lines

from rfi_spider.demo.localsite import LocalSite
from rfi_spider.quality import qa

# What must never reach a terminal as itself (a newline between report lines aside):
# C0/C1 controls (ESC, CSI 0x9b, BEL, CR...), bidi marks, overrides and isolates.
RAW_CONTROL = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    with LocalSite.sample() as site:
        result = run_crawl(
            tmp_path_factory.mktemp("qa-hostile") / "out",
            f"base_url={site.url}",
            settings=LISTINGS_ONLY,
        )
    assert result.returncode == 0, result.log[-3000:]
    return result


def with_published_at(value: str) -> Callable[[list[str]], str]:
    """A planting: line 3's ``published_at`` replaced (its file still pairs by URL)."""

    def plant(lines: list[str]) -> str:
        item = json.loads(lines[2])
        item["published_at"] = value
        lines[2] = json.dumps(item, ensure_ascii=False) + "\n"
        return "items.jsonl:3"

    return plant


def inserted(line: str) -> Callable[[list[str]], str]:
    """A planting: ``line`` inserted as line 3 (the six items stay around it)."""

    def plant(lines: list[str]) -> str:
        lines.insert(2, line + "\n")
        return "items.jsonl:3"

    return plant


# name: (planting, the finding's kind, what its message says)
HOSTILE: dict[str, tuple[Callable[[list[str]], str], str, str]] = {
    "nested 100,000 levels": (
        inserted('{"url": ' + "[" * 100_000 + "]" * 100_000 + "}"),
        "not-json",
        "not JSON that can be read (nested too deep)",
    ),
    "nested 40 levels": (
        inserted('{"tags": ' + "[" * 40 + "]" * 40 + "}"),
        "not-json",
        "not JSON that can be read (nested deeper than 32 levels)",
    ),
    "5,000-digit integer": (
        inserted('{"url": ' + "7" * 5000 + "}"),
        "not-json",
        "not JSON that can be read (an integer of 5000 digits)",
    ),
    "lone surrogate": (
        inserted('{"title": "abc\\ud800", "url": "https://www.rfi.fr/cn/x"}'),
        "not-json",
        r"not JSON that can be read (a lone surrogate (\ud800) in a string: not Unicode text)",
    ),
    "NaN": (
        inserted('{"title": NaN}'),
        "not-json",
        "not JSON that can be read (NaN is not a JSON value)",
    ),
    "year 1 with an offset": (
        with_published_at("0001-01-01T00:00:00+05:00"),
        "date",
        "published_at 0001-01-01T00:00:00+05:00 is out of range",
    ),
    "year 9999 with an offset": (
        with_published_at("9999-12-31T23:59:59-05:00"),
        "date",
        "published_at 9999-12-31T23:59:59-05:00 is out of range",
    ),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_line_is_a_finding_and_the_report_is_written(
    crawl: CrawlResult, tmp_path: Path, name: str
) -> None:
    plant, kind, message = HOSTILE[name]
    archive = copy_output(crawl, tmp_path)
    lines = jsonl_lines(archive)
    where = plant(lines)
    write_lines(archive, lines)
    html = tmp_path / "report.html"
    done = run_qa(str(archive), "--html", str(html))
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert f"[{kind}] {where}: {message}" in out, out
    # The only problem; the lines around it are read and checked as usual.
    assert f"QA FAILED: 1 problem (1 {kind})." in out
    assert re.search(r"^  title\s+6\s+100%$", out, re.M), out
    page = html.read_text(encoding="utf-8")
    assert f'id="verdict">QA FAILED: 1 problem (1 {kind}).</p>' in page
    assert escape(message) in page


def test_line_over_the_cap_is_a_finding_and_the_next_line_is_read(
    crawl: CrawlResult, tmp_path: Path
) -> None:
    archive = copy_output(crawl, tmp_path)
    lines = jsonl_lines(archive)
    lines.insert(1, json.dumps({"title": "x" * 9000}) + "\n")  # 9,013 bytes
    write_lines(archive, lines)
    done = run_qa(str(archive), "-s", "RFI_QA_MAX_LINE_BYTES=9000")
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "items.jsonl: 7 lines, 6 items" in out
    assert (
        "[too-long] items.jsonl:2: 9013 bytes, over the limit of 9000 "
        "(RFI_QA_MAX_LINE_BYTES): not read"
    ) in out
    assert "QA FAILED: 1 problem (1 too-long)." in out
    # With the default cap the same line is read (and is a schema problem, not too long).
    done = run_qa(str(archive))
    assert "too-long" not in done.stdout and "[schema] items.jsonl:2:" in done.stdout


def test_read_lines_caps_each_line_at_max_bytes() -> None:
    data = b"a" * 10 + b"\n" + b"b" * 11 + b"\n" + b"c" * 25 + b"\n" + b"d" * 10 + b"\n" + b"e" * 12
    got = list(qa.read_lines(io.BytesIO(data), max_bytes=10))
    assert got == [
        (b"a" * 10 + b"\n", 10),
        (None, 11),
        (None, 25),
        (b"d" * 10 + b"\n", 10),
        (None, 12),
    ]


def test_memory_stays_bounded_on_a_512_mib_line(crawl: CrawlResult, tmp_path: Path) -> None:
    """A sparse 512 MiB line (no disk used) with the default 16 MiB cap: QA skips it in
    chunks, reads the line after it, and its peak memory stays far below the line's size."""
    archive = copy_output(crawl, tmp_path)
    first = jsonl_lines(archive)[0]
    size = 512 * 1024 * 1024
    with (archive / "items.jsonl").open("r+b") as handle:
        handle.truncate(0)
        handle.seek(size)  # a hole: reads as NUL bytes
        handle.write(b"\n" + first.encode("utf-8"))
    out = tmp_path / "stdout.txt"
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    environ.pop("RFI_OUTPUT_DIR", None)
    # The peak is the QA process's own (VmHWM, written as it exits): ru_maxrss of a child
    # also counts the test process's memory at the fork, which grows with the suite.
    peak = tmp_path / "peak.txt"
    report_peak = (
        "import atexit, os, runpy, sys\n"
        "where = sys.argv[1]\n"
        "def peak():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        "            open(where, 'w').write(line.split()[1])\n"
        "atexit.register(peak)\n"
        "_exit = os._exit\n"
        "def exit_after_peak(code):\n"
        "    peak()\n"
        "    _exit(code)\n"
        "os._exit = exit_after_peak\n"
        "sys.argv = ['scrapy'] + sys.argv[2:]\n"
        "runpy.run_module('scrapy', run_name='__main__')\n"
    )
    with out.open("wb") as stdout:
        proc = subprocess.run(
            [sys.executable, "-c", report_peak, str(peak), "qa", str(archive)],
            cwd=ROOT,
            env=environ,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            check=False,
        )
    text = out.read_text(encoding="utf-8")
    assert proc.returncode == 1, text[-3000:]
    assert f"[too-long] items.jsonl:1: {size} bytes, over the limit of {16 * 1024 * 1024}" in text
    assert "items.jsonl: 2 lines, 1 items" in text
    peak_mib = int(peak.read_text()) / 1024  # kilobytes
    assert peak_mib < 200, f"peak memory {peak_mib:.0f} MiB for a {size >> 20} MiB line"


# --- exit statuses ----------------------------------------------------------------
def test_unreadable_items_file_exits_2_with_one_line(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    # A file every read of which fails (EIO), even for root: the reader's own memory at 0.
    (archive / "items.jsonl").symlink_to("/proc/self/mem")
    html = tmp_path / "report.html"
    done = run_qa(str(archive), "--html", str(html))
    assert done.returncode == 2, done.stdout + done.stderr
    message = done.stderr.strip().splitlines()
    assert len(message) == 1, done.stderr
    # Input/output error (or, where /proc forbids it, permission denied): one line.
    assert message[0].startswith(f"QA could not check: cannot read {archive / 'items.jsonl'}: ")
    assert "QA FAILED" not in done.stdout and not html.exists()


def test_clean_exits_0_problems_1_bad_setting_2(crawl: CrawlResult, tmp_path: Path) -> None:
    assert run_qa(str(crawl.output)).returncode == 0
    archive = copy_output(crawl, tmp_path)
    write_lines(archive, [*jsonl_lines(archive), "{\n"])
    assert run_qa(str(archive)).returncode == 1
    done = run_qa(str(archive), "-s", "RFI_QA_MAX_LINE_BYTES=0")
    assert done.returncode == 2
    assert "RFI_QA_MAX_LINE_BYTES must be a whole number of bytes above 0" in done.stderr
    assert "Traceback" not in done.stderr


def test_seed_file_with_a_timestamp_out_of_range_is_a_bad_file(
    crawl: CrawlResult, tmp_path: Path
) -> None:
    archive = copy_output(crawl, tmp_path)
    path = crawl.article_files[0]
    target = archive / path.relative_to(crawl.output)
    text = target.read_text(encoding="utf-8")
    body = text.split("\n", 1)[1]
    for stamp in ("9" * 30, "9" * 5000):
        target.write_text(f"<!--{stamp}-->\n{body}", encoding="utf-8")
        done = run_qa(str(archive))
        out = done.stdout
        assert done.returncode == 1, out + done.stderr
        assert "Traceback" not in done.stderr
        finding = re.search(
            r"\[bad-file\] articles/\S+: line 1: timestamp out of range$", out, re.M
        )
        assert finding, out


# --- escaping ---------------------------------------------------------------------
def test_visible_escapes_controls_bidi_and_surrogates() -> None:
    assert qa.visible("a\x1b[31mb\x9b2Jc\x07\r\n\t") == "a\\x1b[31mb\\x9b2Jc\\x07\\x0d\\x0a\\x09"
    assert qa.visible("x\u202ey\u2066z\u2069\u200e\u200f\u061c\u202a") == (
        "x\\u202ey\\u2066z\\u2069\\u200e\\u200f\\u061c\\u202a"
    )
    assert qa.visible("\ud800") == "\\ud800"
    assert qa.visible("瑞典 «NATO» — ok") == "瑞典 «NATO» — ok"


def test_values_are_escaped_in_the_terminal_and_the_page(
    crawl: CrawlResult, tmp_path: Path
) -> None:
    archive = copy_output(crawl, tmp_path)
    other = tmp_path / "other\x1b[5m"
    shutil.copytree(archive, other)
    osc = "\x1b]0;pwned\x07"  # sets the terminal's title
    lines = jsonl_lines(archive)
    item = json.loads(lines[0])
    item["source"] = f"evil{osc}\u202egpj.exe"
    item["url"] += "%1B%5B2J"  # decoded for display: ESC [ 2 J
    lines[0] = json.dumps(item, ensure_ascii=False) + "\n"
    retitled = json.loads(lines[1])
    retitled["title"] = "retitled\x1b]8;;http://x\x07link\u202e"  # a hyperlink, flipped
    lines[1] = json.dumps(retitled, ensure_ascii=False) + "\n"
    lines.append(json.dumps({"title": "\x1b[31mred\u2066", "url": "https://x/\u202e"}) + "\n")
    write_lines(archive, lines)
    stray = archive / "articles" / "a\x1b[2Jb\u202e.txt"
    stray.write_text("not a seed file\n", encoding="utf-8")
    html = tmp_path / "report.html"
    done = run_qa(str(archive), "--compare", str(other), "--html", str(html), "--all")
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    found = RAW_CONTROL.findall(out)
    assert not found, f"raw {found!r} in:\n{out}"
    assert "evil\\x1b]0;pwned\\x07\\u202egpj.exe" in out  # the sources table
    assert "[bad-file] articles/a\\x1b[2Jb\\u202e.txt:" in out
    assert re.search(
        r"Titles that differ \(1\)\n .*retitled\\x1b\]8;;http://x\\x07link\\u202e", out
    )
    assert "other\\x1b[5m" in out
    page = html.read_text(encoding="utf-8")
    found = RAW_CONTROL.findall(page)
    assert not found, f"raw {found!r} in the page"
    assert "evil\\x1b]0;pwned\\x07\\u202egpj.exe" in page


# --- the mirror share -------------------------------------------------------------
def with_sources(archive: Path, sources: list[str]) -> None:
    lines = jsonl_lines(archive)
    for index, source in enumerate(sources):
        item = json.loads(lines[index])
        item["source"] = source
        lines[index] = json.dumps(item, ensure_ascii=False) + "\n"
    write_lines(archive, lines)


def test_qa_warns_when_mirrors_supplied_most_items(crawl: CrawlResult, tmp_path: Path) -> None:
    archive = copy_output(crawl, tmp_path)
    with_sources(archive, ["feedx.net", "feedx.net", "rsshub.app", "feedx.net"])
    html = tmp_path / "report.html"
    done = run_qa(str(archive), "--html", str(html))
    assert done.returncode == 0, done.stdout  # a warning, not a problem
    warning = (
        "Warning: mirrors supplied 4 of 6 items (67%), not rfi.fr; "
        "per source: feedx.net 3, rfi.fr 2, rsshub.app 1"
    )
    assert warning in done.stdout.splitlines()
    assert "QA passed: 6 items, no problems." in done.stdout
    assert f'<p class="warning" id="mirror-warning">{warning}</p>' in html.read_text("utf-8")


def test_no_warning_when_mirrors_supplied_half_or_less(crawl: CrawlResult, tmp_path: Path) -> None:
    archive = copy_output(crawl, tmp_path)
    with_sources(archive, ["feedx.net", "feedx.net", "rsshub.app"])
    html = tmp_path / "report.html"
    done = run_qa(str(archive), "--html", str(html))
    assert done.returncode == 0, done.stdout
    assert re.search(r"^  feedx\.net\s+2$", done.stdout, re.M)
    assert "Warning" not in done.stdout
    assert "mirror-warning" not in html.read_text("utf-8")


# --- the comparison section of the page (issue 19, item 1) ----------------------------
def hostile_item(url: str, title: str, published_at: str) -> str:
    item = {
        "url": url,
        "title": title,
        "published_at": published_at,
        "source": '"><img src=x onerror=alert("source")>',
    }
    return json.dumps(item, ensure_ascii=False) + "\n"


def test_compare_escapes_titles_urls_and_sources_in_the_page(tmp_path: Path) -> None:
    base = "https://www.rfi.fr/cn/国际/20240307-"
    shared = base + '"><img src=x onerror=alert("url")>'
    this = tmp_path / "this"
    other = tmp_path / '<script>alert("root")'  # a folder's name has no "/"
    this.mkdir()
    other.mkdir()
    (this / "items.jsonl").write_text(
        hostile_item(
            base + "<script>only-this</script>",
            "<script>alert(1)</script>",
            "2024-03-07T01:00:00+00:00",
        )
        + hostile_item(shared, '"><img src=x onerror=alert("this")>', "2024-03-07T02:00:00+00:00"),
        encoding="utf-8",
    )
    (other / "items.jsonl").write_text(
        hostile_item(shared, "<script>alert('other')</script>", "2024-03-07T02:00:00+00:00")
        + hostile_item(
            base + '"><img onerror=x>', "<b onmouseover=alert(3)>x</b>", "2024-03-08T01:00:00+00:00"
        ),
        encoding="utf-8",
    )
    html = tmp_path / "report.html"
    done = run_qa(str(this), "--compare", str(other), "--html", str(html))
    assert done.returncode == 1, done.stdout + done.stderr  # schema problems, no crash
    assert "Only in the other (1)" in done.stdout and "Titles that differ (1)" in done.stdout
    page = html.read_text(encoding="utf-8")
    for markup in ("<script", "<img", "<b "):
        assert markup not in page, f"raw {markup!r} in the page"
    section = page[page.index("<h2>Compared with") :]
    # The comparison's tables do show the hostile values, escaped.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section
    assert "&lt;b onmouseover=alert(3)&gt;x&lt;/b&gt;" in section
    assert "&quot;&gt;&lt;img src=x onerror=alert(&quot;url&quot;)&gt;" in section
    assert "Compared with " + str(tmp_path / "&lt;script&gt;alert(&quot;root&quot;)") in section
