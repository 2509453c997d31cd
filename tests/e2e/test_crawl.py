"""End-to-end: crawl a loopback copy of the sample site and check what was exported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, SEED_COPY, CrawlResult, first_version, run_crawl

from rfi_spider.archive import seedfile
from rfi_spider.demo.localsite import LocalSite
from rfi_spider.items import FIELDS

EXPECTED = json.loads((FIXTURES / "sample_site_expected.json").read_text(encoding="utf-8"))
BY_URL = {a["url"]: a for a in EXPECTED["articles"]}


@pytest.fixture(scope="module")
def site() -> LocalSite:
    with LocalSite.sample() as served:
        yield served


@pytest.fixture(scope="module")
def first_crawl(site: LocalSite, tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    site.requests.clear()
    result = run_crawl(tmp_path_factory.mktemp("crawl") / "out", f"base_url={site.url}")
    result.requests = list(site.requests)  # type: ignore[attr-defined]
    return result


def comparable(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in first_version(item).items() if k not in ("crawled_at", "body_html")}


def test_crawl_finishes_cleanly(first_crawl: CrawlResult) -> None:
    assert first_crawl.returncode == 0, first_crawl.log[-3000:]
    assert "Traceback" not in first_crawl.log
    assert first_crawl.stat("log_count/ERROR") == 0


def test_every_article_exported_once_with_every_field_right(first_crawl: CrawlResult) -> None:
    items = first_crawl.items
    assert sorted(i["url"] for i in items) == sorted(BY_URL)
    for item in items:
        assert comparable(item) == BY_URL[item["url"]]
        assert list(item) == [f for f in FIELDS if f in item]  # spec order
        assert item["body_html"].startswith("<")
        assert item["crawled_at"].endswith("+00:00")


def test_jsonl_is_utf8_one_object_per_line(first_crawl: CrawlResult) -> None:
    raw = (first_crawl.output / "items.jsonl").read_bytes()
    assert raw.endswith(b"\n")
    assert b"\\u" not in raw  # not ASCII-escaped
    assert len(raw.splitlines()) == len(BY_URL)


def test_one_seed_style_file_per_article(first_crawl: CrawlResult) -> None:
    files = first_crawl.article_files
    assert len(files) == len(BY_URL)
    by_url = {i["url"]: i for i in first_crawl.items}
    for path in files:
        record = seedfile.read(path.read_text(encoding="utf-8"))
        item = by_url[record.url]
        assert record.title == item["title"]
        assert record.published_at == item["published_at"]
        assert record.html == seedfile.site_html(item)
        # The path comes from the date and the URL, never the title.
        relative = path.relative_to(first_crawl.output / "articles")
        assert relative.parts[0] == item["published_at"][:4]
        assert item["title"][:4] not in str(path)
    assert not any((first_crawl.output / "articles" / ".tmp").iterdir())


def test_a_crawl_in_worker_processes_gives_the_same_as_in_one(
    site: LocalSite, first_crawl: CrawlResult, tmp_path: Path
) -> None:
    assert "worker process(es)" not in first_crawl.log  # a crawl's default: one process
    workers = run_crawl(
        tmp_path / "out", f"base_url={site.url}", settings={"RFI_EXTRACT_WORKERS": "2"}
    )
    assert workers.returncode == 0, workers.log[-3000:]
    assert "article extraction: 2 worker process(es)" in workers.log
    by_url = {i["url"]: comparable(i) for i in first_crawl.items}
    assert {i["url"]: comparable(i) for i in workers.items} == by_url
    for kind in ("rfi/exported", "rfi/dropped/no_title", "rfi/articles/fetched"):
        assert workers.stat(kind) == first_crawl.stat(kind)


def test_re_extraction_from_the_warc_runs_in_the_workers_too(
    first_crawl: CrawlResult, tmp_path: Path
) -> None:
    again = run_crawl(tmp_path / "out", f"from_warc={first_crawl.output / 'warc'}")
    assert again.returncode == 0, again.log[-3000:]
    assert "worker process(es)" in again.log
    by_url = {i["url"]: comparable(i) for i in first_crawl.items}
    assert {i["url"]: comparable(i) for i in again.items} == by_url


def test_decoys_are_not_followed(first_crawl: CrawlResult) -> None:
    exported = {i["url"] for i in first_crawl.items}
    assert not exported & set(EXPECTED["must_not_export"])
    paths = [path for _, path, _ in first_crawl.requests]  # type: ignore[attr-defined]
    for url in EXPECTED["must_not_export"]:
        assert url.removeprefix("https://www.rfi.fr") not in paths
    assert not [p for p in paths if "%E5%85%B3%E9%94%AE%E8%AF%8D" in p]  # 关键词 tag hubs
    assert not [p for p in paths if "%E4%BD%9C%E8%80%85" in p]  # 作者 author hubs


def test_requests_are_honest_and_obey_robots(first_crawl: CrawlResult) -> None:
    requests = first_crawl.requests  # type: ignore[attr-defined]
    assert requests[0][1] == "/robots.txt"
    agents = {headers.get("User-Agent", "") for _, _, headers in requests}
    assert len(agents) == 1 and agents.pop().startswith("rfi-spider/")


def test_error_page_is_dropped_with_a_counter(first_crawl: CrawlResult) -> None:
    for reason, count in EXPECTED["dropped"].items():
        assert first_crawl.stat(f"rfi/dropped/{reason}") == count
    assert "dropped http://127.0.0.1" in first_crawl.log


def test_summary_in_the_log(first_crawl: CrawlResult) -> None:
    log = first_crawl.log
    assert "rfi_cn crawl summary (finished)" in log
    assert f"exported:                  {len(BY_URL)}" in log
    assert "no_title: 1" in log


def test_second_run_exports_nothing_new(site: LocalSite, first_crawl: CrawlResult) -> None:
    before = (first_crawl.output / "items.jsonl").read_bytes()
    files_before = first_crawl.article_files
    site.requests.clear()
    again = run_crawl(first_crawl.output, f"base_url={site.url}")
    assert again.returncode == 0
    assert (first_crawl.output / "items.jsonl").read_bytes() == before
    assert again.article_files == files_before
    assert again.stat("rfi/exported") == 0
    assert again.stat("rfi/skipped/already_exported") == len(BY_URL)
    # Already exported articles are not even fetched again.
    fetched = {path for _, path, _ in site.requests}
    assert not fetched & {u.removeprefix("https://www.rfi.fr") for u in BY_URL}


def test_backfill_walks_the_archive_and_keeps_the_range(site: LocalSite, tmp_path: Path) -> None:
    days = ("since=2024-03-07", "until=2024-03-08")
    # The daily archive alone (an option now: the sitemaps are the backfill's source).
    archive_only = {"RFI_BACKFILL_ARCHIVE": "True", "RFI_SITEMAPS": "False"}
    result = run_crawl(tmp_path / "out", f"base_url={site.url}", *days, settings=archive_only)
    assert result.returncode == 0, result.log[-3000:]
    expected = EXPECTED["archive"]["2024-03-07..2024-03-08"]
    assert sorted(i["url"] for i in result.items) == sorted(expected)
    for item in result.items:
        assert item["date_text"][:10] in ("07/03/2024", "08/03/2024")


def test_single_url(site: LocalSite, tmp_path: Path) -> None:
    url = EXPECTED["articles"][0]["url"]
    result = run_crawl(tmp_path / "out", f"base_url={site.url}", f"url={url}")
    assert result.returncode == 0, result.log[-3000:]
    assert [i["url"] for i in result.items] == [url]


def test_bad_arguments_fail_clearly(tmp_path: Path) -> None:
    result = run_crawl(tmp_path / "out", "since=07/03/2024")
    assert result.returncode != 0
    assert "takes a date as YYYY-MM-DD" in result.log


def test_demo_serves_the_sample_site_and_crawls_it(tmp_path: Path) -> None:
    result = run_crawl(tmp_path / "out", "demo=1", fast=False)  # the demo needs no -s
    assert result.returncode == 0, result.log[-3000:]
    # The demo also reads the sample site's mirror feed: the site's articles, plus the
    # one only the mirror has (the seed's, which the site answers with 404).
    mirror = EXPECTED["demo_mirror"]
    by_url = {i["url"]: i for i in result.items}
    assert sorted(by_url) == sorted([*BY_URL, *mirror["from_mirror"]])
    assert len(result.items) == len(by_url)
    assert {by_url[u]["source"] for u in mirror["from_mirror"]} == {"127.0.0.1"}
    assert {by_url[u]["source"] for u in mirror["site_wins"]} == {"rfi.fr"}
    assert len(result.article_files) == len(by_url)
    assert SEED_COPY.read_bytes() in [p.read_bytes() for p in result.article_files]
