"""WARC end to end: what a loopback crawl writes, judged by warcio's own command-line tools.

The loopback copy of the sample site is crawled with its mirror feed reached through a
301 (``/mirror/old.xml`` -> ``/mirror/rfi.xml``), so that the run fetches every kind of
response the archive must keep: ``robots.txt``, the home page, listings, the site's RSS
feed, articles, a 200 error page, a 404 (the article only the mirror has), a redirect and
the mirror feed. ``warcio check`` and ``warcio index`` (the venv's, as a user runs them)
read the files the crawl wrote.

Then ``-a from_warc=`` rebuilds the archive from those files into a new folder: once with
the site still up (it must not be asked for anything), once with it stopped; both give the
live run's items and seed-style files, ``crawled_at`` aside (the record's date there).

A page only the browser fallback gets (behind a JavaScript challenge; Debian's Chromium)
is kept as the HTML the browser got, in a ``resource`` record marked ``RFI-Fetched-By:
browser``, and re-extracts to the same item.

Replay with a real tool: pywb 2.10 cannot be installed beside this project (it pins
``redis==2.10.6`` and ``pyOpenSSL<26.2``, which would break scrapy-redis and downgrade
Scrapy's TLS stack), so the archive is indexed with ``cdxj-indexer`` (pywb's own
indexer) and an article looked up in the sorted CDXJ index, as a wayback server does,
then read at its offset with warcio.

``scrapy wacz`` packs a run's WARC files as a WACZ file; ``wacz validate`` (py-wacz's
command) passes on it, and its page list names the run's articles.
"""

from __future__ import annotations

import bisect
import gzip
import json
import os
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import ROOT, CrawlResult, run_crawl
from surt import surt
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from rfi_spider import __version__
from rfi_spider.dates import iso_utc
from rfi_spider.demo.localsite import ChallengeHook, LocalSite, route_key
from rfi_spider.demo.sample_site import MIRROR_FEED, SECTIONS

BIN = Path(sys.executable).parent
WARCIO = str(BIN / "warcio")
CDXJ_INDEXER = str(BIN / "cdxj-indexer")
WACZ = str(BIN / "wacz")
OLD_MIRROR = "/mirror/old.xml"  # moved: answers 301 to MIRROR_FEED
# The article the site answers 404 (the seed's; only the mirror feed has it).
MISSING = route_key("/cn/国际/20240307-巴黎牵头支持乌克兰后续会议-近30国出席-马克龙拼了")
# An article behind a JavaScript challenge (403): only a real browser gets it.
CHALLENGED = route_key("/cn/国际/20240307-瑞典正式加入北约-成为第32个成员国")
INDEX_FIELDS = (
    "warc-type,warc-target-uri,warc-record-id,warc-concurrent-to,warc-date,"
    "warc-ip-address,warc-payload-digest,http:status,http:location,offset,filename,"
    "content-type,rfi-fetched-by,warc-profile,warc-refers-to-target-uri,warc-refers-to-date"
)


def sample_site() -> LocalSite:
    """The sample site, its mirror feed also at an old address that redirects to it."""
    site = LocalSite.sample()
    site.add(OLD_MIRROR, b"", status=301, headers={"Location": MIRROR_FEED})
    return site


def crawl_args(site: LocalSite) -> list[str]:
    return [f"base_url={site.url}", f"mirrors={site.url}{OLD_MIRROR}"]


# The sample site's listings only (the others would be 404s too, and slower).
SAMPLE = {"RFI_SECTIONS": ",".join(SECTIONS)}


@dataclass
class LiveRun:
    """The live crawl, what the server answered, and the WARC files it wrote."""

    result: CrawlResult
    base_url: str
    served: list[str]  # the paths the server answered, in order

    @property
    def warc_files(self) -> list[Path]:
        return sorted((self.result.output / "warc").glob("*.warc.gz"))


def warcio(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([WARCIO, *args], capture_output=True, text=True, timeout=120, check=False)


def index(paths: list[Path]) -> list[dict[str, Any]]:
    """``warcio index`` of the files: one dict per record."""
    done = warcio("index", "-f", INDEX_FIELDS, *map(str, paths))
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return route_key(parts.path + (f"?{parts.query}" if parts.query else ""))


@pytest.fixture(scope="module")
def site() -> Iterator[LocalSite]:
    with sample_site() as served:
        yield served


@pytest.fixture(scope="module")
def live(site: LocalSite, tmp_path_factory: pytest.TempPathFactory) -> LiveRun:
    site.requests.clear()
    result = run_crawl(tmp_path_factory.mktemp("live") / "out", *crawl_args(site), settings=SAMPLE)
    assert result.returncode == 0, result.log[-3000:]
    return LiveRun(result, site.url, [path for _, path, _ in site.requests])


@pytest.fixture(scope="module")
def records(live: LiveRun) -> list[dict[str, Any]]:
    return index(live.warc_files)


def test_the_crawl_writes_warc_files_that_warcio_check_passes(live: LiveRun) -> None:
    files = live.warc_files
    assert files, "no WARC file written"
    assert not list((live.result.output / "warc").glob("*.open"))  # all closed
    done = warcio("check", "-v", *map(str, files))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "digest pass" in done.stdout
    assert "fail" not in done.stdout
    assert live.result.stat("rfi/warc/records") == sum(
        1 for r in index(files) if r["warc-type"] != "warcinfo"
    )


def test_every_response_the_server_sent_has_a_request_and_a_response_record(
    live: LiveRun, records: list[dict[str, Any]]
) -> None:
    # An identical payload of a URL is a revisit record (robots.txt, read twice).
    responses = [r for r in records if r["warc-type"] in ("response", "revisit")]
    requests = [r for r in records if r["warc-type"] == "request"]
    # One pair per exchange: each response as often as the server answered its URL.
    assert Counter(path_of(r["warc-target-uri"]) for r in responses) == Counter(live.served)
    assert len(requests) == len(responses)
    by_id = {r["warc-record-id"]: r for r in responses}
    for request in requests:
        response = by_id[request["warc-concurrent-to"]]
        assert request["warc-target-uri"] == response["warc-target-uri"]


def test_an_identical_payload_is_a_revisit_record_naming_the_first(
    records: list[dict[str, Any]],
) -> None:
    """Identical-payload-digest profile: headers, the digest, the record that holds it."""
    revisits = [r for r in records if r["warc-type"] == "revisit"]
    assert revisits
    for revisit in revisits:
        assert revisit["warc-profile"].endswith("/revisit/identical-payload-digest")
        (first,) = [
            r
            for r in records
            if r["warc-type"] == "response"
            and r["warc-target-uri"] == revisit["warc-refers-to-target-uri"]
            and r["warc-date"] == revisit["warc-refers-to-date"]
        ]
        assert first["warc-payload-digest"] == revisit["warc-payload-digest"]
        assert revisit["http:status"] == first["http:status"]


def test_every_kind_of_response_is_there(live: LiveRun, records: list[dict[str, Any]]) -> None:
    status = {
        path_of(r["warc-target-uri"]): r["http:status"]
        for r in records
        if r["warc-type"] == "response"
    }
    articles = {path_of(i["url"]) for i in live.result.items if i["source"] == "rfi.fr"}
    assert articles and all(status[path] == "200" for path in articles)
    assert status[route_key("/robots.txt")] == "200"
    assert status[route_key("/cn/")] == "200"
    assert status[route_key(f"/cn/{SECTIONS[0]}/")] == "200"
    assert status[route_key("/cn/rss")] == "200"
    assert status[OLD_MIRROR] == "301"
    assert status[MIRROR_FEED] == "200"
    assert status[MISSING] == "404"
    (moved,) = [r for r in records if r.get("http:status") == "301"]
    assert moved["http:location"] == MIRROR_FEED


def test_records_name_the_url_fetched_its_ip_and_payload_digest(
    live: LiveRun, records: list[dict[str, Any]]
) -> None:
    for record in records:
        if record["warc-type"] == "warcinfo":
            continue
        # The URL actually fetched (the loopback site), not the canonical rfi.fr one.
        assert record["warc-target-uri"].startswith(live.base_url + "/")
        assert record["warc-ip-address"] == "127.0.0.1"
        assert record["warc-payload-digest"].startswith("sha1:")
        assert record["warc-date"].endswith("Z")


def test_warcinfo_names_the_project_and_its_version(live: LiveRun) -> None:
    for path in live.warc_files:
        with path.open("rb") as stream:
            first = next(iter(ArchiveIterator(stream)))
            assert first.rec_type == "warcinfo"
            fields = first.content_stream().read().decode()
        assert f"software: rfi-spider/{__version__} " in fields
        assert "isPartOf: rfi_cn" in fields
        assert f"rfi-base-url: {live.base_url}" in fields


# --- re-extraction: -a from_warc= ------------------------------------------------
def replay(warc: Path, output: Path) -> CrawlResult:
    """``scrapy crawl rfi_cn -a from_warc=<warc> -s RFI_OUTPUT_DIR=<output>``, nothing else."""
    result = run_crawl(output, f"from_warc={warc}")
    assert result.returncode == 0, result.log[-3000:]
    return result


@dataclass
class Replayed:
    result: CrawlResult
    asked: list[str]  # what the site server was asked meanwhile


@pytest.fixture(scope="module")
def replay_site_up(
    live: LiveRun, site: LocalSite, tmp_path_factory: pytest.TempPathFactory
) -> Replayed:
    """Re-extraction while the site that was crawled still answers on the same port."""
    site.requests.clear()
    result = replay(live.result.output / "warc", tmp_path_factory.mktemp("up") / "out")
    return Replayed(result, [path for _, path, _ in site.requests])


@pytest.fixture(scope="module")
def replay_site_down(
    live: LiveRun,
    site: LocalSite,
    replay_site_up: Replayed,
    tmp_path_factory: pytest.TempPathFactory,
) -> CrawlResult:
    """Re-extraction with the site stopped: its port refuses every connection."""
    site.stop()
    return replay(live.result.output / "warc", tmp_path_factory.mktemp("down") / "out")


def without_crawled_at(result: CrawlResult) -> list[dict[str, Any]]:
    items = [{k: v for k, v in i.items() if k != "crawled_at"} for i in result.items]
    return sorted(items, key=lambda item: item["url"])


def seed_files(result: CrawlResult) -> dict[str, bytes]:
    folder = result.output / "articles"
    return {str(p.relative_to(folder)): p.read_bytes() for p in result.article_files}


def test_from_warc_with_the_site_down_gives_the_live_runs_items_and_files(
    live: LiveRun, replay_site_down: CrawlResult
) -> None:
    assert live.result.items
    assert without_crawled_at(replay_site_down) == without_crawled_at(live.result)
    assert seed_files(replay_site_down) == seed_files(live.result)
    assert replay_site_down.stat("log_count/ERROR") == 0
    assert replay_site_down.stat("rfi/warc/not_archived") == 0
    assert not (replay_site_down.output / "warc").exists()  # nothing captured again


def test_from_warc_crawled_at_is_the_records_date(
    live: LiveRun, replay_site_down: CrawlResult, records: list[dict[str, Any]]
) -> None:
    dates = {
        path_of(r["warc-target-uri"]): iso_utc(datetime.fromisoformat(r["warc-date"]))
        for r in records
        if r["warc-type"] == "response" and r["http:status"] == "200"
    }
    for item in replay_site_down.items:
        # A site article: its page's record; an entry only the mirror has: the feed's.
        fetched = path_of(item["url"]) if item["source"] == "rfi.fr" else MIRROR_FEED
        assert item["crawled_at"] == dates[fetched], item["url"]


def test_from_warc_asks_the_site_for_nothing_even_when_it_is_up(
    live: LiveRun, replay_site_up: Replayed
) -> None:
    assert replay_site_up.asked == []
    assert without_crawled_at(replay_site_up.result) == without_crawled_at(live.result)
    assert seed_files(replay_site_up.result) == seed_files(live.result)


def test_the_demo_as_a_new_user_runs_it(tmp_path: Path) -> None:
    """The demo writes WARC files next to its JSON Lines; ``warcio check`` passes on them;
    ``from_warc`` of them (the demo's server is gone with its crawl) gives the same items."""
    demo = run_crawl(tmp_path / "output", "demo=1", fast=False)
    assert demo.returncode == 0, demo.log[-3000:]
    files = sorted((tmp_path / "output" / "warc").glob("*.warc.gz"))
    assert files and (tmp_path / "output" / "items.jsonl").exists()
    done = warcio("check", *map(str, files))
    assert done.returncode == 0, done.stdout + done.stderr
    again = replay(tmp_path / "output" / "warc", tmp_path / "output-new")
    assert demo.items and without_crawled_at(again) == without_crawled_at(demo)
    assert seed_files(again) == seed_files(demo)


# --- a page the browser fallback fetched ---------------------------------------
def record_body(path: Path, offset: int | str) -> bytes:
    with path.open("rb") as stream:
        stream.seek(int(offset))
        return next(iter(ArchiveIterator(stream))).content_stream().read()


def test_a_browser_page_is_kept_as_the_html_the_browser_got_and_re_extracts(
    tmp_path: Path,
) -> None:
    site = sample_site()
    site.hook = ChallengeHook(site.pages, {CHALLENGED: 403}.get)
    with site:
        live = run_crawl(
            tmp_path / "live", *crawl_args(site), settings={**SAMPLE, "RFI_BACKOFF_START": "0.05"}
        )
    assert live.returncode == 0, live.log[-3000:]
    assert live.stat("rfi/browser/succeeded") == 1
    files = sorted((tmp_path / "live" / "warc").glob("*.warc.gz"))
    assert warcio("check", *map(str, files)).returncode == 0
    records = index(files)
    # The plain attempt, as the server answered it: the challenge, a 403.
    plain = [
        r
        for r in records
        if r["warc-type"] == "response" and path_of(r["warc-target-uri"]) == CHALLENGED
    ]
    assert [r["http:status"] for r in plain] == ["403"]
    assert b"Just a moment" in record_body(
        tmp_path / "live" / "warc" / plain[0]["filename"], plain[0]["offset"]
    )
    # The browser's: a resource record of the page's HTML, marked as the browser's.
    (browser,) = [r for r in records if r["warc-type"] == "resource"]
    assert path_of(browser["warc-target-uri"]) == CHALLENGED
    assert browser["rfi-fetched-by"] == "browser"
    assert browser["content-type"].startswith("text/html")
    assert browser["warc-payload-digest"].startswith("sha1:")
    body = record_body(tmp_path / "live" / "warc" / browser["filename"], browser["offset"])
    assert body == site.pages[CHALLENGED].body

    again = replay(tmp_path / "live" / "warc", tmp_path / "again")
    assert without_crawled_at(again) == without_crawled_at(live)
    assert seed_files(again) == seed_files(live)
    (item,) = [i for i in again.items if path_of(i["url"]) == CHALLENGED]
    assert item["crawled_at"] == iso_utc(datetime.fromisoformat(browser["warc-date"]))


# --- replay with a real tool: cdxj-indexer and a lookup ---------------------------
def lookup(index_lines: list[str], url: str) -> list[dict[str, Any]]:
    """The captures of ``url`` in a sorted CDXJ index: its SURT key, found by bisection."""
    key = surt(url) + " "
    at = bisect.bisect_left(index_lines, key)
    found = []
    while at < len(index_lines) and index_lines[at].startswith(key):
        found.append(json.loads(index_lines[at].split(" ", 2)[2]))
        at += 1
    return found


def test_an_article_is_found_with_cdxj_indexer_and_read_back(live: LiveRun, tmp_path: Path) -> None:
    cdxj = tmp_path / "index.cdxj"
    done = subprocess.run(
        [CDXJ_INDEXER, "--sort", "-o", str(cdxj), *map(str, live.warc_files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = cdxj.read_text(encoding="utf-8").splitlines()
    assert lines == sorted(lines)
    assert len(lines) == len(live.served)  # one capture per response (requests aside)

    item = next(i for i in live.result.items if i["source"] == "rfi.fr")
    fetched = live.base_url + path_of(item["url"])
    (capture,) = lookup(lines, fetched)
    assert capture["url"] == fetched
    assert capture["status"] == "200"
    assert capture["mime"] == "text/html"
    folder = live.result.output / "warc"
    with (folder / capture["filename"]).open("rb") as stream:
        stream.seek(int(capture["offset"]))
        raw = stream.read(int(capture["length"]))
    record = next(iter(ArchiveIterator(BytesIO(raw))))
    assert record.rec_type == "response"
    assert record.rec_headers.get_header("WARC-Target-URI") == fetched
    assert record.rec_headers.get_header("WARC-Payload-Digest") == capture["digest"]
    served = LocalSite.sample().pages[path_of(item["url"])].body
    assert record.content_stream().read() == served

    (moved,) = lookup(lines, live.base_url + OLD_MIRROR)
    assert moved["status"] == "301"
    assert lookup(lines, live.base_url + "/cn/never-fetched") == []


# --- a WACZ package of a run: scrapy wacz ------------------------------------------
def scrapy_wacz(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "wacz", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_scrapy_wacz_packs_a_run_that_wacz_validate_passes(live: LiveRun, tmp_path: Path) -> None:
    target = tmp_path / "packages" / "run.wacz"
    done = scrapy_wacz(str(live.result.output), "-o", str(target))
    assert done.returncode == 0, done.stdout + done.stderr
    site_articles = [i for i in live.result.items if i["source"] == "rfi.fr"]
    assert f"{len(site_articles)} article page(s)" in done.stdout
    assert "1 article(s) from mirror feeds only" in done.stdout
    assert [p.name for p in target.parent.iterdir()] == ["run.wacz"]  # no temporary left

    validated = subprocess.run(
        [WACZ, "validate", "-f", str(target)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "Validation succeeded" in validated.stdout

    with zipfile.ZipFile(target) as package:
        names = package.namelist()
        assert {f"archive/{p.name}" for p in live.warc_files} <= set(names)
        assert "indexes/index.cdx.gz" in names and "datapackage.json" in names
        lines = package.read("pages/pages.jsonl").decode("utf-8").splitlines()
    header, *pages = map(json.loads, lines)
    assert header["format"] == "json-pages-1.0"
    expected = {live.base_url + path_of(i["url"]): i["title"] for i in site_articles}
    assert {page["url"]: page["title"] for page in pages} == expected


def test_scrapy_wacz_says_what_is_wrong_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = scrapy_wacz(str(tmp_path / "empty"), "-o", str(tmp_path / "x.wacz"))
    assert done.returncode == 2
    assert "no .warc.gz file in" in done.stderr
    done = scrapy_wacz(str(tmp_path / "empty"))
    assert done.returncode == 2
    assert "-o FILE is required" in done.stderr
    assert not (tmp_path / "x.wacz").exists()
    (tmp_path / "empty" / "warc").mkdir()
    garbage = tmp_path / "empty" / "warc" / "rfi-x-20260301000000000-00000.warc.gz"
    garbage.write_bytes(b"this is no WARC at all\n" * 10)
    done = scrapy_wacz(str(tmp_path / "empty"), "-o", str(tmp_path / "x.wacz"))
    assert done.returncode == 2
    assert "could not be read to its end: left out" in done.stderr
    assert "no WARC file that can be read to its end" in done.stderr
    assert not (tmp_path / "x.wacz").exists()
    # A valid gzip that is no WARC: refused, naming it (it used to be left out silently).
    garbage.write_bytes(gzip.compress(b"<html>not a WARC</html>"))
    done = scrapy_wacz(str(tmp_path / "empty"), "-o", str(tmp_path / "x.wacz"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"scrapy wacz: error: {garbage} is not a WARC file (a gzip of something else)"
    ]
    assert not (tmp_path / "x.wacz").exists()


def test_scrapy_wacz_leaves_a_file_it_cannot_read_out(live: LiveRun, tmp_path: Path) -> None:
    (tmp_path / "run" / "warc").mkdir(parents=True)
    (good,) = live.warc_files
    (tmp_path / "run" / "warc" / good.name).write_bytes(good.read_bytes())
    torn = tmp_path / "run" / "warc" / "rfi-torn-20260301000000000-00000.warc.gz"
    torn.write_bytes(good.read_bytes()[:-100])
    done = scrapy_wacz(str(tmp_path / "run"), "-o", str(tmp_path / "run.wacz"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{torn} could not be read to its end: left out" in done.stderr
    with zipfile.ZipFile(tmp_path / "run.wacz") as package:
        archived = [n for n in package.namelist() if n.startswith("archive/")]
    assert archived == [f"archive/{good.name}"]


# --- an archive of the real site: https --------------------------------------------------
SITE = "https://www.rfi.fr"
MIRROR_HOST = "https://mirror.example"  # the mirror feed, on a host of its own
# Where any connection would go: nothing listens there, so any network use fails loudly.
NOWHERE = "http://127.0.0.1:9"


def https_url(url: str, base_url: str) -> str:
    """A URL of the live run as a crawl of the real site would have fetched it."""
    assert url.startswith(base_url + "/")
    path = url[len(base_url) :]
    return (MIRROR_HOST if path.startswith("/mirror/") else SITE) + path


def as_fetched_from_the_site(files: list[Path], base_url: str, folder: Path) -> Path:
    """The live run's WARC files as a crawl of https://www.rfi.fr would have written them:
    every ``WARC-Target-URI``, the warcinfo's fetch root and mirrors, all https."""
    folder.mkdir()
    for path in files:
        with path.open("rb") as stream, (folder / path.name).open("wb") as out:
            writer = WARCWriter(out, gzip=True)
            for record in ArchiveIterator(stream):
                if record.rec_type == "warcinfo":
                    text = record.content_stream().read().decode()
                    fields = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
                    fields["rfi-base-url"] = SITE
                    fields["rfi-mirrors"] = ",".join(
                        https_url(m, base_url) for m in fields["rfi-mirrors"].split(",")
                    )
                    writer.write_record(writer.create_warcinfo_record(path.name, fields))
                    # The mirror's host has a robots.txt of its own (loopback shared one).
                    robots = b"User-agent: *\nAllow: /\n"
                    writer.write_record(
                        writer.create_warc_record(
                            MIRROR_HOST + "/robots.txt",
                            "response",
                            payload=BytesIO(robots),
                            length=len(robots),
                            warc_headers_dict={"WARC-Date": record.rec_headers["WARC-Date"]},
                            http_headers=StatusAndHeaders(
                                "200 OK", [("Content-Type", "text/plain")], "HTTP/1.1"
                            ),
                        )
                    )
                    continue
                uri = record.rec_headers.get_header("WARC-Target-URI")
                record.rec_headers.replace_header("WARC-Target-URI", https_url(uri, base_url))
                writer.write_record(record)
    return folder


def test_from_warc_of_an_https_site_answers_every_request_from_the_archive(
    live: LiveRun, tmp_path: Path
) -> None:
    """A real archive's records are https://www.rfi.fr URLs: the replay must answer https
    requests from it too (issue 30, item 5). Any connection goes to a proxy that is not
    there, so a request that left the archive fails, and items would be missing."""
    archive = as_fetched_from_the_site(live.warc_files, live.base_url, tmp_path / "warc")
    proxies = {"http_proxy": NOWHERE, "https_proxy": NOWHERE, "no_proxy": ""}
    result = run_crawl(tmp_path / "out", f"from_warc={archive}", env=proxies)
    assert result.returncode == 0, result.log[-3000:]
    expected = without_crawled_at(live.result)
    for item in expected:  # the entry only the mirror has names the mirror's host
        if item["source"] == "127.0.0.1":
            item["source"] = "mirror.example"
    assert without_crawled_at(result) == expected
    assert seed_files(result) == seed_files(live.result)
    assert result.stat("rfi/warc/not_archived") == 0
    assert result.stat("downloader/exception_count") == 0
    assert result.stat("log_count/ERROR") == 0
