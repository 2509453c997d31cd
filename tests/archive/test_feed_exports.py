"""Scrapy's own feed exports (-O, -o, FEEDS) next to the archive, and the mode of every file.

A crawl of the sample site that reads its mirror feed exports one article only
the mirror has (the site answers 404): that item carries the internal
``mirror_entry``, which once made every feed exporter fail on it
(``TypeError: 'NoneType' object is not callable``) and leave it out.
"""

from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import scrapy
from conftest import FIXTURES, ROOT, CrawlResult, crawl_command
from lxml import etree

from rfi_spider.archive import exporters, seedfile
from rfi_spider.demo.localsite import LocalSite
from rfi_spider.items import FIELDS

EXPECTED = json.loads((FIXTURES / "sample_site_expected.json").read_text(encoding="utf-8"))
MIRROR = EXPECTED["demo_mirror"]
(ONLY_MIRROR,) = MIRROR["from_mirror"]  # the site answers 404: the mirror's copy is exported
FEEDS = ("feed.jsonl", "feed.json", "feed.csv", "feed.xml")


@pytest.fixture(scope="module")
def site() -> Iterator[LocalSite]:
    with LocalSite.sample() as served:
        yield served


def crawl_with_feeds(site: LocalSite, output: Path, umask: int) -> CrawlResult:
    """``scrapy crawl rfi_cn`` with ``-O`` for each of :data:`FEEDS`, under ``umask``."""
    command, env = crawl_command(
        output, f"base_url={site.url}", f"mirrors={site.url}{MIRROR['feed']}"
    )
    for name in FEEDS:
        command += ["-O", str(output / name)]
    previous = os.umask(umask)  # inherited by the crawl
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
    finally:
        os.umask(previous)
    return CrawlResult(done.returncode, done.stdout + done.stderr, output)


@pytest.fixture(scope="module")
def feeds(site: LocalSite, tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    return crawl_with_feeds(site, tmp_path_factory.mktemp("feeds") / "out", umask=0o000)


def test_the_crawl_exports_a_mirror_item_without_error(feeds: CrawlResult) -> None:
    assert feeds.returncode == 0, feeds.log[-3000:]
    assert "Traceback" not in feeds.log
    assert feeds.stat("log_count/ERROR") == 0
    by_url = {item["url"]: item for item in feeds.items}
    assert by_url[ONLY_MIRROR]["source"] == "127.0.0.1"
    assert len(by_url) == len(EXPECTED["articles"]) + 1
    for name in FEEDS:
        assert f"feed ({len(by_url)} items) in: {feeds.output / name}" in feeds.log


def test_json_lines_feed_is_items_jsonl_line_for_line(feeds: CrawlResult) -> None:
    archive = (feeds.output / "items.jsonl").read_bytes().splitlines()
    feed = (feeds.output / "feed.jsonl").read_bytes().splitlines()
    assert sorted(feed) == sorted(archive)  # same fields, same order, same bytes
    for line in feed:
        assert list(json.loads(line)) == [f for f in FIELDS if f in json.loads(line)]
    assert ONLY_MIRROR in {json.loads(line)["url"] for line in feed}


def test_json_feed_holds_every_item_with_spec_fields_only(feeds: CrawlResult) -> None:
    items = json.loads((feeds.output / "feed.json").read_text(encoding="utf-8"))
    assert sorted(items, key=lambda i: i["url"]) == sorted(feeds.items, key=lambda i: i["url"])
    assert all(set(item) <= set(FIELDS) for item in items)


def test_csv_feed_holds_every_item_with_spec_fields_only(feeds: CrawlResult) -> None:
    with (feeds.output / "feed.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == list(FIELDS)
    by_url = {row["url"]: row for row in rows}
    assert sorted(by_url) == sorted(item["url"] for item in feeds.items)
    mirror = next(item for item in feeds.items if item["url"] == ONLY_MIRROR)
    assert by_url[ONLY_MIRROR]["title"] == mirror["title"]
    assert by_url[ONLY_MIRROR]["source"] == "127.0.0.1"


def test_xml_feed_holds_every_item_with_spec_fields_only(feeds: CrawlResult) -> None:
    root = etree.parse(str(feeds.output / "feed.xml")).getroot()
    items = root.findall("item")
    assert sorted(i.findtext("url") for i in items) == sorted(i["url"] for i in feeds.items)
    assert {child.tag for item in items for child in item} <= set(FIELDS)


def modes(folder: Path) -> dict[str, int]:
    return {
        str(path.relative_to(folder)): stat.S_IMODE(path.stat().st_mode)
        for path in folder.rglob("*")
        if path.is_file() and ".state" not in path.parts
    }


def test_every_exported_file_is_0644_under_umask_0(feeds: CrawlResult) -> None:
    found = modes(feeds.output)
    assert {"items.jsonl", *FEEDS} <= set(found)
    assert len(feeds.article_files) == len(feeds.items)
    assert {name: mode for name, mode in found.items() if mode != 0o644} == {}


def test_every_exported_file_follows_the_umask(site: LocalSite, tmp_path: Path) -> None:
    result = crawl_with_feeds(site, tmp_path / "out", umask=0o027)
    assert result.returncode == 0, result.log[-3000:]
    found = modes(result.output)
    assert len(result.article_files) == len(result.items) > 0
    assert {name: mode for name, mode in found.items() if mode != 0o640} == {}


def test_export_writers_create_files_with_one_mode(tmp_path: Path) -> None:
    previous = os.umask(0o002)
    try:
        jsonl = exporters.JsonLinesFile(tmp_path / "items.jsonl")
        jsonl.append(b'{"url": "torn')  # a killed write: moved aside below
        jsonl.close()
        aside = exporters.repair_torn_tail(tmp_path / "items.jsonl")
        record = seedfile.SeedRecord(
            ms=0, title="t", url="https://www.rfi.fr/cn/x", html="<p>x</p>"
        )
        written = exporters.SeedFiles(tmp_path / "articles").write(
            "https://www.rfi.fr/cn/x", "2024-03-07T17:34:12+00:00", record
        )
        storage = exporters.FileFeedStorage(str(tmp_path / "feed.csv"))
        storage.store(storage.open(scrapy.Spider(name="probe")))
    finally:
        os.umask(previous)
    assert aside is not None
    for path in (tmp_path / "items.jsonl", aside, written, tmp_path / "feed.csv"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
