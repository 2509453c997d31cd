"""QA end to end: validation and Spidermon's monitors in a crawl, then ``scrapy qa`` on
what it wrote.

``scrapy qa`` runs in a subprocess, as a user runs it, on a copy of a real
crawl's output in which each test plants one fault.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import LISTINGS_ONLY, ROOT, SEED_COPY, CrawlResult, run_crawl

from rfi_spider.archive.seedfile import seed_file_name
from rfi_spider.archive.state import SeenStore
from rfi_spider.demo.localsite import LocalSite
from rfi_spider.quality import qa, qa_html

A1_PATH = (
    "/cn/%E5%9B%BD%E9%99%85/20240307-%E7%91%9E%E5%85%B8%E6%AD%A3%E5%BC%8F%E5%8A%A0%E5%85%A5"
    "%E5%8C%97%E7%BA%A6-%E6%88%90%E4%B8%BA%E7%AC%AC32%E4%B8%AA%E6%88%90%E5%91%98%E5%9B%BD"
)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def site() -> LocalSite:
    with LocalSite.sample() as served:
        yield served


@pytest.fixture(scope="module")
def crawl(site: LocalSite, tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    result = run_crawl(
        tmp_path_factory.mktemp("qa") / "out", f"base_url={site.url}", settings=LISTINGS_ONLY
    )
    assert result.returncode == 0, result.log[-3000:]
    return result


def run_qa(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``scrapy qa ARGS`` in the project, as a user runs it."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    if not env or "RFI_OUTPUT_DIR" not in env:
        environ.pop("RFI_OUTPUT_DIR", None)
    command = [sys.executable, "-m", "scrapy", "qa", *args]
    return subprocess.run(
        command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )


def copy_output(crawl: CrawlResult, tmp_path: Path) -> Path:
    target = tmp_path / "archive"
    shutil.copytree(crawl.output, target)
    return target


def jsonl_lines(archive: Path) -> list[str]:
    return (archive / "items.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)


def write_lines(archive: Path, lines: list[str]) -> None:
    (archive / "items.jsonl").write_text("".join(lines), encoding="utf-8")


def file_of(archive: Path, line: str) -> Path:
    item = json.loads(line)
    return archive / "articles" / seed_file_name(item["url"], item["published_at"])


# --- in the crawl ----------------------------------------------------------------
def test_clean_crawl_passes_its_monitors(crawl: CrawlResult) -> None:
    assert "[Spidermon] field coverage/always-filled fields at 100%... OK" in crawl.log
    assert crawl.stat("rfi/monitors/passed") == 5
    assert crawl.stat("rfi/monitors/failed") == 0
    assert crawl.stat("spidermon_item_scraped_count/ArticleItem/title") == len(crawl.items) == 6
    assert crawl.stat("spidermon/validation/items") == 6
    assert crawl.stat("spidermon/validation/items/errors") == 0
    assert crawl.stat("rfi/dropped/invalid") == 0


def test_invalid_item_is_not_exported_and_fails_the_monitors(tmp_path: Path) -> None:
    with LocalSite.sample() as site:
        page = site.pages[A1_PATH]
        # An IP-literal image host: a URL the loader keeps and the schema refuses.
        page.body = page.body.replace(b"https://s.rfi.fr/", b"https://[::1]/")
        url = "https://www.rfi.fr" + A1_PATH
        result = run_crawl(tmp_path / "out", f"base_url={site.url}", f"url={url}")
    assert result.returncode == 0, result.log[-3000:]
    assert result.items == []
    assert result.article_files == []
    assert result.stat("rfi/dropped/invalid") == 1
    # Spidermon's validation stats: one item with errors, dropped; the error by field.
    assert result.stat("spidermon/validation/items/errors") == 1
    assert result.stat("spidermon/validation/items/dropped") == 1
    assert result.stat("spidermon/validation/fields/errors/invalid_value/lead_image") == 1
    assert f"invalid item {url} not exported: lead_image: expected an absolute https URL" in (
        result.log
    )
    assert "FAIL: validation/no invalid items" in result.log
    assert "1 invalid items not exported; errors by field: lead_image 1" in result.log
    assert "'rfi/monitors/validation': 'failed'" in result.log
    assert "'rfi/monitors/items': 'failed'" in result.log  # nothing exported
    assert result.stat("rfi/monitors/failed") == 2
    assert "Traceback" not in result.log
    # Not recorded as exported: the next run fetches it again.
    store = SeenStore(result.output / ".state" / "seen.sqlite3")
    assert url not in store
    store.close()


# --- scrapy qa on a clean crawl -----------------------------------------------------
def test_clean_output_passes_with_a_readable_summary(crawl: CrawlResult, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    done = run_qa(str(crawl.output), "--html", str(html))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "items.jsonl: 6 lines, 6 items" in out
    assert "seed-style files: 6 under articles/" in out
    assert re.search(r"^  title\s+6\s+100%$", out, re.M)
    assert re.search(r"^  lead_image\s+5\s+83%$", out, re.M)
    assert re.search(r"^  2024-03-08\s+3\s+#+$", out, re.M)
    assert re.search(r"^  rfi\.fr\s+6$", out, re.M)
    assert "Problems: none" in out
    assert out.rstrip().endswith(f"HTML report: {html}")
    assert "QA passed: 6 items, no problems." in out


def test_html_report_opens_in_chromium_and_shows_the_chart(
    crawl: CrawlResult, tmp_path: Path
) -> None:
    html = tmp_path / "report.html"
    assert run_qa(str(crawl.output), "--html", str(html)).returncode == 0
    page = html.read_text(encoding="utf-8")
    assert "<script" not in page and not re.search(r'(src|href)="(https?:)?//', page)
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", html.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    chart = re.search(r'<svg[^>]*id="timeline-chart".*?</svg>', dom, re.S)
    assert chart, dom[:2000]
    bars = re.findall(r'<rect class="bar" data-day="([\d-]+)" data-count="(\d+)"', chart.group(0))
    assert bars == [("2024-03-06", "1"), ("2024-03-07", "2"), ("2024-03-08", "3")]
    assert "QA passed: 6 items, no problems." in dom


def test_dir_defaults_to_rfi_output_dir(crawl: CrawlResult) -> None:
    done = run_qa(env={"RFI_OUTPUT_DIR": str(crawl.output)})
    assert done.returncode == 0
    assert f"QA of {crawl.output}" in done.stdout


def test_missing_dir_is_a_usage_error(tmp_path: Path) -> None:
    done = run_qa(str(tmp_path / "nowhere"))
    assert done.returncode == 2
    assert "is not a folder" in done.stderr


# --- planted faults -----------------------------------------------------------------
def duplicate_line(archive: Path) -> list[str]:
    lines = jsonl_lines(archive)
    write_lines(archive, [*lines, lines[0]])
    # The crawl writes version 1 with its fields: the copy repeats version 1.
    return [
        r"\[duplicate\] items\.jsonl:7: version 1 again, as on line 1: https://www\.rfi\.fr/cn/"
    ]


def broken_json_line(archive: Path) -> list[str]:
    lines = jsonl_lines(archive)
    lines[2] = lines[2][: len(lines[2]) // 2] + "\n"
    write_lines(archive, lines)
    return [r"\[not-json\] items\.jsonl:3: not JSON \("]


def missing_field(archive: Path) -> list[str]:
    lines = jsonl_lines(archive)
    item = json.loads(lines[1])
    del item["title"]
    lines[1] = json.dumps(item, ensure_ascii=False) + "\n"
    write_lines(archive, lines)
    return [r"\[schema\] items\.jsonl:2: title: missing \(https://www\.rfi\.fr/cn/"]


def future_date(archive: Path) -> list[str]:
    lines = jsonl_lines(archive)
    item = json.loads(lines[3])
    item["published_at"] = "2099-01-01T00:00:00+00:00"
    lines[3] = json.dumps(item, ensure_ascii=False) + "\n"
    write_lines(archive, lines)
    return [r"\[date\] items\.jsonl:4: published_at 2099-01-01T00:00:00\+00:00 is in the future"]


def date_before_2000(archive: Path) -> list[str]:
    lines = jsonl_lines(archive)
    item = json.loads(lines[0])
    item["modified_at"] = "1999-12-31T23:00:00+00:00"
    lines[0] = json.dumps(item, ensure_ascii=False) + "\n"
    write_lines(archive, lines)
    return [r"\[date\] items\.jsonl:1: modified_at 1999-12-31T23:00:00\+00:00 is before 2000"]


def deleted_text_file(archive: Path) -> list[str]:
    path = file_of(archive, jsonl_lines(archive)[0])
    path.unlink()
    relative = re.escape(path.relative_to(archive).as_posix())
    return [rf"\[no-file\] items\.jsonl:1: no seed-style file for .* \(expected {relative}\)"]


def edited_text_file(archive: Path) -> list[str]:
    path = file_of(archive, jsonl_lines(archive)[1])
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("</p>", "（已编辑）</p>", 1), encoding="utf-8")
    where = re.escape(path.relative_to(archive).as_posix())
    return [rf"\[mismatch\] {where}: text differs from the item's, at character \d+.*已编辑"]


def edited_title(archive: Path) -> list[str]:
    path = file_of(archive, jsonl_lines(archive)[1])
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[1] = "[改过的标题" + lines[1][lines[1].index("](") :]
    path.write_text("\n".join(lines), encoding="utf-8")
    where = re.escape(path.relative_to(archive).as_posix())
    return [rf"\[mismatch\] {where}: title '改过的标题' is not the item's .*\(items\.jsonl:2\)"]


def file_without_item(archive: Path) -> list[str]:
    shutil.copy(SEED_COPY, archive / "articles" / "stray.txt")
    return [
        r"\[no-item\] articles/stray\.txt: no item in items\.jsonl for https://www\.rfi\.fr/cn/国际/"
    ]


def truncated_text_file(archive: Path) -> list[str]:
    path = file_of(archive, jsonl_lines(archive)[4])
    path.write_text(path.read_text(encoding="utf-8").split("\n", 1)[0], encoding="utf-8")
    where = re.escape(path.relative_to(archive).as_posix())
    return [rf"\[bad-file\] {where}: expected 5 lines and a final newline"]


FAULTS: dict[str, Callable[[Path], list[str]]] = {
    "duplicate line": duplicate_line,
    "broken JSON line": broken_json_line,
    "missing field": missing_field,
    "future date": future_date,
    "date before 2000": date_before_2000,
    "deleted text file": deleted_text_file,
    "edited text file": edited_text_file,
    "edited title": edited_title,
    "file without item": file_without_item,
    "truncated text file": truncated_text_file,
}


@pytest.mark.parametrize("fault", FAULTS)
def test_planted_fault_is_named_and_fails(crawl: CrawlResult, tmp_path: Path, fault: str) -> None:
    archive = copy_output(crawl, tmp_path)
    patterns = FAULTS[fault](archive)
    done = run_qa(str(archive))
    assert done.returncode == 1, done.stdout
    for pattern in patterns:
        assert re.search(pattern, done.stdout), f"{pattern!r} not in:\n{done.stdout}"
    assert "QA FAILED" in done.stdout.splitlines()[-1]


def test_every_planted_fault_at_once_is_named(crawl: CrawlResult, tmp_path: Path) -> None:
    archive = copy_output(crawl, tmp_path)
    planted = [FAULTS[name] for name in ("duplicate line", "broken JSON line", "missing field")]
    planted += [FAULTS[name] for name in ("deleted text file", "edited text file")]
    patterns = [pattern for plant in planted for pattern in plant(archive)]
    report = qa.check_archive(archive)
    text = qa.render_text(report, limit=None)
    for pattern in patterns:
        assert re.search(pattern, text), f"{pattern!r} not in:\n{text}"
    assert not report.ok


# --- other tools' archives ---------------------------------------------------------
def test_files_named_by_another_tool_are_paired_by_their_url(
    crawl: CrawlResult, tmp_path: Path
) -> None:
    archive = copy_output(crawl, tmp_path)
    files = sorted((archive / "articles").rglob("*.txt"))
    for number, path in enumerate(files):
        path.rename(archive / "articles" / f"{number:03d}_{path.stem}.md")
    done = run_qa(str(archive))
    assert done.returncode == 0, done.stdout
    assert "seed-style files: 6 under articles/" in done.stdout


def test_a_folder_of_seed_files_without_items_is_checked(tmp_path: Path) -> None:
    archive = tmp_path / "feedx"
    archive.mkdir()
    shutil.copy(SEED_COPY, archive / SEED_COPY.name)
    done = run_qa(str(archive))
    assert done.returncode == 0, done.stdout
    out = done.stdout
    assert "no items.jsonl: counting the seed-style files" in out
    assert re.search(r"^  lead_image\s+1\s+100%$", out, re.M)
    assert re.search(r"^  2024-03-07\s+1\s+#+$", out, re.M)
    shutil.copy(SEED_COPY, archive / "copy.md")
    done = run_qa(str(archive))
    assert done.returncode == 1
    assert f"[duplicate] copy.md: same URL as {SEED_COPY.name}" in done.stdout


def test_compare_with_another_archive(crawl: CrawlResult, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(SEED_COPY, other / SEED_COPY.name)
    ours = crawl.article_files
    shutil.copy(ours[0], other / "001_same.txt")
    lines = ours[1].read_text(encoding="utf-8").split("\n")
    lines[1] = "[另一个标题" + lines[1][lines[1].index("](") :]
    (other / "002_retitled.txt").write_text("\n".join(lines), encoding="utf-8")
    html = tmp_path / "report.html"
    done = run_qa(str(crawl.output), "--compare", str(other), "--html", str(html))
    assert done.returncode == 0, done.stdout  # a comparison informs; it does not fail
    out = done.stdout
    assert f"Compared with {other}: 3 articles in its files" in out
    assert "in both:           2 (titles differ: 1)" in out
    assert "only in this one:  4" in out
    assert "only in the other: 1" in out
    assert re.search(r"^  2024-03-07\s+2\s+2$", out, re.M)  # the seed's day, in both
    assert re.search(r"Only in the other \(1\)\n  2024-03-07  巴黎牵头支持乌克兰后续会议", out)
    assert "Titles that differ (1)" in out
    assert out.rstrip().splitlines()[-2] == "QA passed: 6 items, no problems."
    page = html.read_text(encoding="utf-8")
    assert f"Compared with {other}" in page and "巴黎牵头支持乌克兰后续会议" in page


def test_seed_file_fields_are_read_for_coverage(seed_text: str) -> None:
    from rfi_spider.archive import seedfile

    fields = qa.file_fields(seedfile.read(seed_text))
    assert fields["date_text"] == "07/03/2024 - 18:34"
    assert fields["lead_image"].startswith("https://s.rfi.fr/media/display/f4bf5c1c")
    assert fields["summary"].startswith("巴黎周四举行支持乌克兰国际会议")
    assert fields["paragraphs"][0].startswith("法国外交部和国防部宣布")
    assert fields["summary"] not in fields["paragraphs"]


# --- report details --------------------------------------------------------------------
def test_html_escapes_every_value_from_the_data(tmp_path: Path) -> None:
    hostile = "<script>alert(1)</script>"
    report = qa.Report(root=tmp_path / hostile, checked_at=datetime.now(UTC))
    report.has_items_file = True
    report.records = [{"source": hostile, "published_at": "2024-03-07T06:48:00+00:00"}]
    report.add("schema", f"items.jsonl:1 {hostile}", f"title: {hostile}")
    page = qa_html.render_html(report)
    assert "<script" not in page
    # In the page's title and heading, the sources table, the mirror warning (the only
    # source is not rfi.fr), and the problem's place and text.
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 6


def test_long_spans_are_tabled_per_month_and_bad_dates_left_out(tmp_path: Path) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    records: list[dict[str, Any]] = [
        {"published_at": "2024-01-15T10:00:00+00:00"},
        {"published_at": "2024-03-01T10:00:00+00:00"},
        {"published_at": "2024-03-02T10:00:00+00:00"},
        {"published_at": "2099-01-01T10:00:00+00:00"},
        {"published_at": "1999-01-01T10:00:00+00:00"},
    ]
    report = qa.Report(root=tmp_path, checked_at=now, records=records)
    assert report.per_day()[0][0].isoformat() == "2024-01-15"
    assert report.per_day()[-1][0].isoformat() == "2024-03-02"
    assert report.timeline(40) == ("month", [("2024-01", 1), ("2024-02", 0), ("2024-03", 2)])
    unit, days = report.timeline(48)
    assert (unit, len(days), days[0], days[-1]) == ("day", 48, ("2024-01-15", 1), ("2024-03-02", 1))


def test_problem_lists_are_cut_unless_all_are_asked_for(tmp_path: Path) -> None:
    report = qa.Report(root=tmp_path, checked_at=datetime.now(UTC))
    for number in range(1, 26):
        report.add("not-json", f"items.jsonl:{number}", "empty line")
    assert "... and 5 more (--all shows every one)" in qa.render_text(report, limit=20)
    assert "items.jsonl:25: empty line" in qa.render_text(report, limit=None)
    assert qa.verdict(report) == "QA FAILED: 25 problems (25 not-json)."


# --- several folders: the nodes of a distributed crawl ------------------------------
def split_archive(crawl: CrawlResult, tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """The crawl's archive split in two node folders: the first two items in one."""
    whole = copy_output(crawl, tmp_path)
    lines = jsonl_lines(whole)
    node_a, node_b = tmp_path / "node-a", tmp_path / "node-b"
    for folder, part in ((node_a, lines[:2]), (node_b, lines[2:])):
        folder.mkdir()
        write_lines(folder, part)
        for line in part:
            source = file_of(whole, line)
            target = file_of(folder, line)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    return node_a, node_b, lines


def test_qa_over_several_folders_checks_their_union(crawl: CrawlResult, tmp_path: Path) -> None:
    node_a, node_b, lines = split_archive(crawl, tmp_path)
    result = run_qa(str(node_a), str(node_b))
    assert result.returncode == 0, result.stdout
    assert f"QA passed: {len(lines)} items, no problems." in result.stdout
    assert f"QA of {node_a} + {node_b}" in result.stdout


def test_an_article_exported_in_two_folders_is_a_duplicate(
    crawl: CrawlResult, tmp_path: Path
) -> None:
    node_a, node_b, lines = split_archive(crawl, tmp_path)
    write_lines(node_b, [*jsonl_lines(node_b), lines[0]])  # node B exported it too
    target = file_of(node_b, lines[0])
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(file_of(node_a, lines[0]), target)
    result = run_qa(str(node_a), str(node_b))
    assert result.returncode == 1, result.stdout
    assert f"[duplicate] {node_b}/items.jsonl: also exported in {node_a}: " in result.stdout
    assert "QA FAILED: 1 problem (1 duplicate)." in result.stdout
    report = qa.check_archives([node_a, node_b])
    assert [f.kind for f in report.findings] == ["duplicate"]
    assert len(report.articles) == len(lines)
