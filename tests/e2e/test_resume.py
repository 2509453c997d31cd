"""Crashes and resumes: whatever the moment a crawl dies, the rerun leaves each article once.

A loopback site of generated articles (the benchmark's pages, unpadded) is
crawled by real ``scrapy crawl`` processes. A :class:`Gate` on the site holds
article requests from the n-th on, so that a crawl can be killed (``kill -9``)
or interrupted (Ctrl-C) with requests in flight at a moment the test chooses;
``RFI_TEST_CRASH_AT`` ends a crawl between the writes of one export. After the
resume, ``scrapy qa``'s checks must find every article exactly once, each with
one complete seed-style file, and no temporary file.
"""

from __future__ import annotations

import json
import random
import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote

import pytest
from conftest import CrawlResult, run_crawl, start_crawl
from crashhooks import CRASH_EXIT_STATUS
from feeds import Entry, feedx_html, rss

from benchmarks.crawl import site_settings
from benchmarks.pages import BenchSite
from rfi_spider.archive.seedfile import seed_file_name
from rfi_spider.canonical import is_article_url
from rfi_spider.demo.localsite import LocalSite, Page
from rfi_spider.quality import qa

ARTICLES = 20
BENCH = BenchSite(ARTICLES)
URLS = sorted(a.url for a in BENCH.articles())


def is_article(path: str) -> bool:
    return is_article_url("https://www.rfi.fr" + path)


EMPTY_FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>RFI</title></channel></rss>'


class Gate:
    """A LocalSite hook serving :data:`BENCH`: from the ``hold_from``-th article request on,
    each article request waits until :meth:`open` (``reached`` is set when one does).
    ``bare_listings``: the listings and the feed link to no article any more."""

    def __init__(
        self,
        hold_from: int | None = None,
        refuse: frozenset[str] = frozenset(),
        bare_listings: bool = False,
    ) -> None:
        self.hold_from = hold_from
        self.refuse = refuse  # article paths answered 404
        self.bare_listings = bare_listings
        self.articles = 0
        self.reached = threading.Event()
        self.opened = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, handler: BaseHTTPRequestHandler, key: str) -> Page | None:
        path = key.split("?")[0]
        if is_article(path):
            with self.lock:
                self.articles += 1
                number = self.articles
            if self.hold_from is not None and number >= self.hold_from:
                self.reached.set()
                self.opened.wait(60)
            if path in self.refuse:
                return Page(b"<html><body>404</body></html>", status=404)
        elif self.bare_listings and path == "/cn/rss":
            return Page(EMPTY_FEED, content_type="application/rss+xml")
        elif self.bare_listings and path.startswith("/cn/"):
            return Page(b"<html><body><main></main></body></html>")
        found = BENCH.route(key)
        if found is None:
            return None
        body, content_type = found
        return Page(body, content_type=content_type)

    def open(self) -> None:
        self.opened.set()


@pytest.fixture(scope="module")
def site() -> Iterator[LocalSite]:
    served = LocalSite(hook=Gate())
    with served:
        yield served


def settings(**extra: str) -> dict[str, str]:
    return {**site_settings(BENCH), **extra}


def interrupted(
    site: LocalSite, output: Path, hold_from: int, how: signal.Signals, **extra: str
) -> str:
    """Start a crawl, stop it with ``how`` once article request ``hold_from`` is in flight,
    let the held requests go, and return its log."""
    gate = Gate(hold_from)
    site.hook = gate
    log = output.parent / f"{output.name}-{hold_from}-{how.name}.log"
    process = start_crawl(output, f"base_url={site.url}", settings=settings(**extra), log=log)
    try:
        while not gate.reached.wait(0.1):  # the crawl got there, or it ended: say why
            assert process.poll() is None, log.read_text()[-3000:]
        process.send_signal(how)
        if how == signal.SIGINT:  # Scrapy finishes what is in flight, then stops
            gate.open()
        process.wait(60)
    finally:
        gate.open()
        if process.poll() is None:
            process.kill()
            process.wait()
    return log.read_text()


def resume(site: LocalSite, output: Path, bare_listings: bool = False, **extra: str) -> CrawlResult:
    site.hook = Gate(bare_listings=bare_listings)
    result = run_crawl(output, f"base_url={site.url}", settings=settings(**extra))
    assert result.returncode == 0, result.log[-3000:]
    assert "Traceback" not in result.log, result.log[-3000:]
    return result


def assert_archive_complete(output: Path, urls: list[str] = URLS) -> None:
    """``scrapy qa`` finds nothing wrong, every article once, one file each, no leftovers."""
    report = qa.check_archive(output)
    assert report.ok, qa.render_text(report, limit=None)
    lines = (output / "items.jsonl").read_bytes().splitlines()
    assert sorted(json.loads(line)["url"] for line in lines) == sorted(urls)
    files = [p for p in (output / "articles").rglob("*.txt") if ".tmp" not in p.parts]
    assert len(files) == len(urls)
    assert not list((output / "articles" / ".tmp").iterdir())


# --- kill -9 and Ctrl-C ---------------------------------------------------------
def test_three_kills_at_random_moments_then_a_resume(site: LocalSite, tmp_path: Path) -> None:
    """The acceptance test: killed before any export, then twice at random moments; the
    last run finishes from the pending queue alone: its listings show no article any more."""
    output = tmp_path / "out"
    moments = [1, *random.Random(7).sample(range(2, ARTICLES), 2)]
    for hold_from in moments:
        interrupted(site, output, hold_from, signal.SIGKILL)
    result = resume(site, output, bare_listings=True)
    assert result.stat("rfi/resumed/articles") > 0
    assert "resuming:" in result.log
    assert_archive_complete(output)


def test_a_kill_with_requests_in_flight_loses_nothing_with_jobdir(
    site: LocalSite, tmp_path: Path
) -> None:
    """With JOBDIR, Scrapy records the requests in flight at a kill as seen: the resumed job
    fetches them again from the pending queue (and walks the listings again)."""
    output, job = tmp_path / "out", {"JOBDIR": str(tmp_path / "job")}
    log = interrupted(site, output, 5, signal.SIGKILL, **job)
    assert "Traceback" not in log
    result = resume(site, output, **job)
    assert result.stat("rfi/resumed/articles") >= 2  # at least the two held in flight
    assert_archive_complete(output)


def test_a_job_queue_a_kill_left_torn_is_set_aside(site: LocalSite, tmp_path: Path) -> None:
    """A kill can leave Scrapy's disk queue torn: a FIFO queue (queuelib's FifoDiskQueue,
    a folder per priority: ``info.json`` and chunks ``q00000``...) whose ``info.json``
    counts a record its chunk holds half a header of; popping it fails ("unpack requires
    a buffer of 4 bytes") and those requests were lost unanswered. The resumed job sets
    the killed run's queue aside and loses nothing."""
    output, job = tmp_path / "out", {"JOBDIR": str(tmp_path / "job")}
    interrupted(site, output, 5, signal.SIGKILL, **job)
    slots = [p for p in (tmp_path / "job" / "requests.queue").iterdir() if p.is_dir()]
    assert slots
    for slot in slots:  # every priority the resumed job will push to: torn
        for priority in (-6, -5, 0):
            queue = slot / str(priority)
            queue.mkdir(exist_ok=True)
            info = {"chunksize": 100000, "size": 1, "tail": [0, 0, 0], "head": [0, 1]}
            (queue / "info.json").write_text(json.dumps(info))
            (queue / "q00000").write_bytes(b"\x00\x00")
    result = resume(site, output, **job)
    assert "its request queue, which a kill can leave torn, is set aside" in result.log
    assert result.stat("rfi/repaired/jobdir_queue") == 1
    assert result.stat("log_count/ERROR") == 0
    assert list((tmp_path / "job").glob("requests.queue.killed-*"))
    assert not (tmp_path / "job" / "rfi-run-open").exists()  # this run closed cleanly
    assert_archive_complete(output)


def test_ctrl_c_pauses_and_the_same_jobdir_resumes(site: LocalSite, tmp_path: Path) -> None:
    output, job = tmp_path / "out", {"JOBDIR": str(tmp_path / "job")}
    log = interrupted(site, output, 8, signal.SIGINT, **job)
    assert "Closing spider (shutdown)" in log, log[-3000:]
    first = [json.loads(line)["url"] for line in (output / "items.jsonl").open(encoding="utf-8")]
    assert 0 < len(first) < ARTICLES
    result = resume(site, output, **job)
    assert result.stat("rfi/exported") == ARTICLES - len(first)
    assert_archive_complete(output)


# --- a crash between the writes of one export -------------------------------------
# Each run dies at the named step of its n-th export; the next run repairs, and says so
# (a run that dies dumps no stats: its warnings are what is left of it).
CRASHES = ["intent:3", "file:2", "torn:2", "line:1", "store:1"]
REPAIRS = {
    "file": ["removed {articles}/"],  # the file of an export that never reached its line
    "torn": ["items.jsonl ended in a torn line", "removed {articles}/"],
    "line": ["recorded 1 exported article(s) the state had missed"],
}


def test_a_crash_at_each_step_of_an_export(site: LocalSite, tmp_path: Path) -> None:
    output = tmp_path / "out"
    articles = output / "articles"
    site.hook = Gate()
    logs = []
    for crash in CRASHES:
        result = run_crawl(
            output, f"base_url={site.url}", settings=settings(), env={"RFI_TEST_CRASH_AT": crash}
        )
        assert result.returncode == CRASH_EXIT_STATUS, (crash, result.log[-3000:])
        assert "Traceback" not in result.log
        logs.append(result.log)
    final = resume(site, output)
    logs.append(final.log)
    for crash, after in zip(CRASHES, logs[1:], strict=True):
        for message in REPAIRS.get(crash.split(":")[0], []):
            assert message.format(articles=articles) in after, (crash, message)
    assert len(list(output.glob("items.jsonl.torn-*"))) == 1
    assert_archive_complete(output)


def test_a_file_written_before_a_crash_at_another_path_is_removed(
    site: LocalSite, tmp_path: Path
) -> None:
    """The site refuses an article; its mirror copy (another day: the entry's date) is being
    exported when the crawl dies, after its file and before its JSON line. The rerun gets
    the site's page, whose file goes under the page's own date: the first file must go."""
    article = BENCH.article(0)
    path = article.path
    output = tmp_path / "out"
    mirror_date = "Mon, 04 Mar 2024 08:00:00 GMT"  # the page says 2024-03-07
    entry = Entry(
        article.title,
        article.url,
        feedx_html("04/03/2024 - 09:00", None, None, "<p>镜像正文。</p>", article.url),
        mirror_date,
    )
    site.hook = Gate(refuse=frozenset({path}))
    site.add("/mirror/feedx.xml", rss([entry]), content_type="application/rss+xml")
    args = (f"base_url={site.url}", f"url={article.url}", f"mirrors={site.url}/mirror/feedx.xml")
    crashed = run_crawl(
        output, *args, settings={"RFI_BROWSER_PATH": ""}, env={"RFI_TEST_CRASH_AT": "file:1"}
    )
    assert crashed.returncode == CRASH_EXIT_STATUS, crashed.log[-3000:]
    mirror_file = output / "articles" / seed_file_name(article.url, "2024-03-04T08:00:00+00:00")
    assert mirror_file.is_file()  # the file of the mirror's copy, under the mirror's date
    site.hook = Gate()  # the site serves the article now
    result = run_crawl(output, *args)
    assert result.returncode == 0, result.log[-3000:]
    assert result.stat("rfi/repaired/unfinished_export") == 1
    assert f"removed {mirror_file}" in result.log
    assert [i["source"] for i in result.items] == ["rfi.fr"]
    assert not mirror_file.exists()
    assert_archive_complete(output, [article.url])


def test_the_gate_holds_only_articles() -> None:
    """The helper itself: listings and the feed are never held."""
    assert is_article(unquote(BENCH.article(3).path))
    assert not is_article("/cn/") and not is_article("/cn/rss")
