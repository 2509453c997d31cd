"""Two crawler processes on one crawl through one Redis (``-s REDIS_URL=...``).

The loopback benchmark site (300 generated articles) is crawled by two real ``scrapy
crawl`` processes, each into its own folder. Node A's article requests are held by the
site from its 20th on, so that A is killed (``kill -9``) with articles claimed and in
flight; node B, alone, goes on exporting articles; A, restarted, joins the crawl again;
the crawl ends, A's articles taken over once their claims expire. The union of both
folders holds every article exactly once, and ``scrapy qa`` over both folders passes.
Each step waits on a condition (a held request, a count of exported lines), never on
time: a node that waits at idle polls the shared queue on Scrapy's 5-second heartbeat.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import redis
from conftest import ROOT, CrawlResult, run_crawl, start_crawl
from crashhooks import CRASH_EXIT_STATUS
from redisserver import RedisServer, free_port

from benchmarks.crawl import site_settings
from benchmarks.pages import BenchSite
from rfi_spider.archive.redis_state import RedisState, exported_slot
from rfi_spider.canonical import is_article_url
from rfi_spider.demo.localsite import LocalSite, Page

ARTICLES = 300
BENCH = BenchSite(ARTICLES)
URLS = sorted(a.url for a in BENCH.articles())
HOLD_FROM = 20  # node A's article requests from this one on wait at the site
B_ALONE = 5  # node B's article requests wait while A lives, and from the 5th after its death
DEADLINE = 120  # seconds any one wait of this file may take


class HoldNode:
    """Serves :data:`BENCH`; article requests of the node whose User-Agent is ``agent``
    wait, from the ``hold_from``-th on, until :meth:`open` (``reached`` then set)."""

    def __init__(self, agent: str, hold_from: int) -> None:
        self.agent = agent
        self.hold_from = hold_from
        self.count = 0
        self.lock = threading.Lock()
        self.reached = threading.Event()
        self.opened = threading.Event()

    def __call__(self, handler: BaseHTTPRequestHandler, key: str) -> Page | None:
        path = key.split("?")[0]
        if (
            is_article_url("https://www.rfi.fr" + path)
            and handler.headers.get("User-Agent") == self.agent
        ):
            with self.lock:
                self.count += 1
                held = self.count >= self.hold_from
                reached, opened = self.reached, self.opened
            if held:
                reached.set()
                opened.wait(DEADLINE)
        found = BENCH.route(key)
        if found is None:
            return None
        body, content_type = found
        return Page(body, content_type=content_type)

    def open(self) -> None:
        self.opened.set()

    def hold_after(self, more: int) -> None:
        """Let the held requests go; hold again from the ``more``-th one from now on."""
        with self.lock:
            self.hold_from = self.count + more
            self.reached, self.opened, opened = threading.Event(), threading.Event(), self.opened
        opened.set()


def by_agent(*gates: HoldNode) -> Callable[[BaseHTTPRequestHandler, str], Page | None]:
    """A site hook: each request goes through the gate of its User-Agent (the first gate
    for others, which it does not hold)."""

    def hook(handler: BaseHTTPRequestHandler, key: str) -> Page | None:
        agent = handler.headers.get("User-Agent")
        return next((g for g in gates if g.agent == agent), gates[0])(handler, key)

    return hook


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with LocalSite() as served:
        yield served


def node_settings(redis: RedisServer, node: str, **extra: str) -> dict[str, str]:
    return {
        **site_settings(BENCH),
        "REDIS_URL": redis.url,
        "RFI_REDIS_LEASE_SECONDS": "2",
        "RFI_WARC": "False",
        "USER_AGENT": f"rfi-spider-test ({node})",
        **extra,
    }


def items(folder: Path) -> list[dict[str, object]]:
    path = folder / "items.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def exported_lines(folder: Path) -> int:
    """Complete lines of ``items.jsonl``, while its node may be writing it."""
    path = folder / "items.jsonl"
    return path.read_bytes().count(b"\n") if path.exists() else 0


def wait_until(condition: Callable[[], bool], process: subprocess.Popen[bytes], log: Path) -> None:
    """Until ``condition()`` holds (at most :data:`DEADLINE` seconds); ``process``, the
    node that brings it about, must keep running meanwhile."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"no {condition.__name__} in {DEADLINE} s"
        try:
            process.wait(0.1)
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(log.read_text(errors="replace")[-3000:])


def wait(process: subprocess.Popen[bytes], log: Path) -> CrawlResult:
    try:
        process.wait(DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return CrawlResult(process.returncode, log.read_text(errors="replace"), log.parent)


def exported_count(client: redis.Redis) -> int:
    return RedisState(client, "rfi", "-", "-", 1).exported_count()


def qa(*folders: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "scrapy", "qa", *map(str, folders)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=DEADLINE)


def test_two_nodes_one_killed_every_article_once(
    redis_server: RedisServer, site: LocalSite, tmp_path: Path
) -> None:
    a, b = tmp_path / "node-a", tmp_path / "node-b"
    gate = HoldNode("rfi-spider-test (a)", HOLD_FROM)
    # B's articles wait while A lives, so that A (maybe idle on its 5-second heartbeat
    # after it joined) reaches its HOLD_FROM-th article before B has crawled them all.
    gate_b = HoldNode("rfi-spider-test (b)", 1)
    site.hook = by_agent(gate, gate_b)
    base = f"base_url={site.url}"
    node_a = start_crawl(a, base, settings=node_settings(redis_server, "a"), log=tmp_path / "a.log")
    node_b = start_crawl(b, base, settings=node_settings(redis_server, "b"), log=tmp_path / "b.log")
    restarted: subprocess.Popen[bytes] | None = None
    try:
        while not gate.reached.wait(0.1):  # A has articles claimed and in flight
            assert node_a.poll() is None, (tmp_path / "a.log").read_text()[-3000:]
        node_a.kill()  # kill -9
        node_a.wait(DEADLINE)
        gate.open()
        # Complete lines: a kill -9 in the middle of an append leaves a torn last line
        # (repaired by A's next run), which items() would fail to read.
        held = exported_lines(a)
        assert held < HOLD_FROM
        # A is dead: B alone goes on. Its requests from the B_ALONE-th on wait again, so
        # that the crawl is not over when A comes back; the ones before are exported.
        before = exported_lines(b)
        gate_b.hold_after(B_ALONE)

        def b_exported_alone() -> bool:
            return gate_b.reached.is_set() and exported_lines(b) >= before + B_ALONE - 1

        wait_until(b_exported_alone, node_b, tmp_path / "b.log")
        restarted = start_crawl(
            a, base, settings=node_settings(redis_server, "a"), log=tmp_path / "a2.log"
        )

        def a_exported_again() -> bool:  # A rejoined the crawl (B still holds its claims)
            return exported_lines(a) > held

        wait_until(a_exported_again, restarted, tmp_path / "a2.log")
        gate_b.open()
        result_b = wait(node_b, tmp_path / "b.log")
        result_a = wait(restarted, tmp_path / "a2.log")
    finally:
        gate.open()
        gate_b.open()
        for process in (node_a, node_b, restarted):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    for result in (result_a, result_b):
        assert result.returncode == 0, result.log[-3000:]
        assert "Traceback" not in result.log, result.log[-3000:]
        assert "'finish_reason': 'finished'" in result.log
    assert "joining crawl" in result_a.log  # the restarted node joined, read no listing
    # A's claims expired and a node took its articles over.
    assert result_a.stat("rfi/redis/takeovers") + result_b.stat("rfi/redis/takeovers") > 0
    union = [item["url"] for item in items(a) + items(b)]
    assert sorted(union) == URLS  # every article, exactly once
    checked = qa(a, b)
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
    # The crawl is complete: cleared, so that the next run with its id starts a new one.
    client = redis_server.client()
    assert exported_count(client) == ARTICLES
    assert not client.exists("rfi:rfi_cn:started", "rfi:rfi_cn:requests")
    kept = (b"rfi:exported:", b"rfi:versions:")  # what later runs need: exported, versions
    left = [key for key in client.keys("rfi:*") if not key.startswith(kept)]
    assert left == []  # no queue, claim, node or crawl key stays


class HoldPages(HoldNode):
    """:class:`HoldNode` for the listings and feeds of node ``agent`` (robots.txt passes)."""

    def __call__(self, handler: BaseHTTPRequestHandler, key: str) -> Page | None:
        path = key.split("?")[0]
        page = not is_article_url("https://www.rfi.fr" + path) and path != "/robots.txt"
        if page and handler.headers.get("User-Agent") == self.agent:
            self.reached.set()
            self.opened.wait(DEADLINE)
        found = BENCH.route(key)
        if found is None:
            return None
        body, content_type = found
        return Page(body, content_type=content_type)


def test_the_first_node_killed_with_listings_in_flight_loses_no_article(
    redis_server: RedisServer, site: LocalSite, tmp_path: Path
) -> None:
    """Node A reads the start pages and is killed while it fetches listings (taken from the
    queue, in flight or waiting in its downloader): node B, started after, takes those
    listings over once A's claims expire, and the crawl still finds every article."""
    a, b = tmp_path / "node-a", tmp_path / "node-b"
    gate = HoldPages("rfi-spider-test (a)", 1)
    site.hook = gate
    base = f"base_url={site.url}"
    node_a = start_crawl(a, base, settings=node_settings(redis_server, "a"), log=tmp_path / "a.log")
    try:
        while not gate.reached.wait(0.1):  # A has listings claimed and in flight
            assert node_a.poll() is None, (tmp_path / "a.log").read_text()[-3000:]
        node_a.kill()
        node_a.wait(DEADLINE)
        gate.open()
        result = run_crawl(b, base, settings=node_settings(redis_server, "b"))
    finally:
        gate.open()
        if node_a.poll() is None:
            node_a.kill()
            node_a.wait()
    assert result.returncode == 0, result.log[-3000:]
    assert "joining crawl" in result.log
    assert result.stat("rfi/redis/takeovers/pages") > 0
    assert items(a) == []
    assert sorted(item["url"] for item in items(b)) == URLS


def test_a_node_killed_between_its_write_and_the_mark_settles_it_when_back(
    redis_server: RedisServer, site: LocalSite, tmp_path: Path
) -> None:
    """Killed right after the JSON line of its 3rd export, before the exported mark: no
    other node may export that article (its claim stays ``exporting:<node>``); the node,
    restarted, finds the line in its own folder and sets the mark."""
    site.hook = HoldNode("nobody", HOLD_FROM)
    output, settings = tmp_path / "node", node_settings(redis_server, "a")
    crashed = run_crawl(
        output, f"base_url={site.url}", settings=settings, env={"RFI_TEST_CRASH_AT": "line:3"}
    )
    assert crashed.returncode == CRASH_EXIT_STATUS, crashed.log[-3000:]
    client = redis_server.client()
    (exporting,) = client.keys("rfi:rfi_cn:exporting:*")
    (url,) = client.smembers(exporting)
    assert url.decode() == items(output)[2]["url"]  # its line is written ...
    assert not client.sismember(*exported_slot("rfi", url.decode()))  # ... not yet marked
    resumed = run_crawl(output, f"base_url={site.url}", settings=settings)
    assert resumed.returncode == 0, resumed.log[-3000:]
    assert resumed.stat("rfi/repaired/redis_export_marked") == 1
    assert sorted(item["url"] for item in items(output)) == URLS
    assert exported_count(client) == ARTICLES
    assert not client.smembers(exporting)


def test_a_node_that_loses_redis_stops_cleanly_and_resumes_when_it_is_back(
    redis_server: RedisServer, site: LocalSite, tmp_path: Path
) -> None:
    """Redis stops while the node has articles in flight: the node stops (exit 1, one
    error line, no traceback), marks nothing it did not write; with Redis back (its
    AOF), the node runs again and the crawl ends with every article once."""
    gate = HoldNode("rfi-spider-test (a)", HOLD_FROM)
    site.hook = gate
    output, log = tmp_path / "node", tmp_path / "lost.log"
    settings = node_settings(redis_server, "a")
    process = start_crawl(output, f"base_url={site.url}", settings=settings, log=log)
    try:
        client, done = redis_server.client(), HOLD_FROM - 1

        def held_with_the_rest_exported() -> bool:
            # the articles ahead of the held ones are written and marked: else Redis could
            # go between a line and its mark, the case of the test above (repair on restart)
            held = gate.reached.is_set()
            return held and exported_lines(output) == done and exported_count(client) == done

        wait_until(held_with_the_rest_exported, process, log)
        redis_server.stop()  # a clean shutdown: the AOF holds every write
        gate.open()
        lost = wait(process, log)
    finally:
        gate.open()
        if process.poll() is None:
            process.kill()
            process.wait()
    assert lost.returncode == 1, lost.log[-3000:]
    assert "Traceback" not in lost.log, lost.log[-3000:]
    assert "'finish_reason': 'redis_lost'" in lost.log
    assert "Redis lost, crawl stopped:" in lost.log
    written = [item["url"] for item in items(output)]
    assert 0 < len(written) < ARTICLES
    redis_server.start()  # same port, same folder: the AOF is read back
    client = redis_server.client()
    assert all(client.sismember(*exported_slot("rfi", url)) for url in written)
    assert exported_count(client) == len(written)  # nothing unwritten marked
    resumed = run_crawl(output, f"base_url={site.url}", settings=settings)
    assert resumed.returncode == 0, resumed.log[-3000:]
    assert sorted(item["url"] for item in items(output)) == URLS
    checked = qa(output)
    assert checked.returncode == 0, checked.stdout[-3000:]


def test_an_unreachable_redis_is_one_line_and_exit_1(tmp_path: Path) -> None:
    port = free_port()  # nobody listens there
    url = f"redis://:secret@127.0.0.1:{port}/0"
    result = run_crawl(tmp_path / "out", f"url={URLS[0]}", settings={"REDIS_URL": url})
    assert result.returncode == 1
    lines = result.log.strip().splitlines()
    assert len(lines) == 1, result.log
    redacted = f"redis://:***@127.0.0.1:{port}/0"
    assert lines[0].startswith(f"scrapy crawl rfi_cn: cannot reach Redis at {redacted}: ")
    assert "secret" not in result.log


def test_a_node_of_another_edition_is_refused(
    redis_server: RedisServer, site: LocalSite, tmp_path: Path
) -> None:
    """While an rfi_cn node works on the crawl, an rfi_tw node given the same crawl id is
    refused before it starts: one line, exit 1, nothing written."""
    gate = HoldNode("rfi-spider-test (cn)", 1)
    site.hook = gate
    shared = {"REDIS_URL": redis_server.url, "RFI_CRAWL_ID": "shared", "RFI_WARC": "False"}
    cn_settings = {**shared, "USER_AGENT": "rfi-spider-test (cn)"}
    log = tmp_path / "cn.log"
    first = start_crawl(
        tmp_path / "cn", f"base_url={site.url}", f"url={URLS[0]}", settings=cn_settings, log=log
    )
    try:
        while not gate.reached.wait(0.1):  # the cn node holds its article: it is working
            assert first.poll() is None, log.read_text()[-3000:]
        other = run_crawl(tmp_path / "tw", f"base_url={site.url}", settings=shared, spider="rfi_tw")
        gate.open()
        result = wait(first, log)
    finally:
        gate.open()
        if first.poll() is None:
            first.kill()
            first.wait()
    assert other.returncode == 1
    assert "runs with other settings" in other.log and "edition='cn' there" in other.log
    assert len(other.log.strip().splitlines()) == 1, other.log
    assert not (tmp_path / "tw" / "items.jsonl").exists()
    assert result.returncode == 0, result.log[-3000:]
    assert [item["url"] for item in items(tmp_path / "cn")] == [URLS[0]]


class Planted:
    """Unpickled, creates the file ``path``: what a value planted in Redis would do."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, ...]:
        return (open, (str(self.path), "w"))


def test_pickles_planted_in_the_crawls_redis_are_never_run(
    redis_server: RedisServer, site: LocalSite, tmp_path: Path
) -> None:
    """Anyone who can write the crawl's Redis keys could plant a pickle in its request
    queue (popped first: the highest priority) and among its pages (taken over at idle):
    neither is unpickled; each is skipped, counted, and the crawl ends as usual."""
    site.hook = HoldNode("nobody", HOLD_FROM)
    marker = tmp_path / "pwned"
    client = redis_server.client()
    client.zadd("rfi:rfi_cn:requests", {pickle.dumps(Planted(marker)): -1000})
    client.hset("rfi:rfi_cn:pages", "0123456789abcdef", pickle.dumps(Planted(marker)))
    result = run_crawl(
        tmp_path / "node",
        f"base_url={site.url}",
        f"url={URLS[0]}",
        settings=node_settings(redis_server, "a"),
    )
    assert result.returncode == 0, result.log[-3000:]
    assert not marker.exists()
    assert "Traceback" not in result.log, result.log[-3000:]
    assert result.stat("rfi/redis/bad_value") == 2
    assert result.log.count("that is not a request of ours") == 2
    assert [item["url"] for item in items(tmp_path / "node")] == [URLS[0]]


def test_a_crawl_key_of_another_type_mid_crawl_is_exit_2_not_redis_lost(
    redis_server: RedisServer, site: LocalSite, tmp_path: Path
) -> None:
    """Another program turns the crawl's pending articles into a list while the node
    works: one error line naming the key and its type, finish reason redis_bad_key, exit
    2 (a configuration fault), no traceback; not "Redis lost"."""
    gate = HoldNode("rfi-spider-test (a)", 1)
    site.hook = gate
    log = tmp_path / "node.log"
    process = start_crawl(
        tmp_path / "node",
        f"base_url={site.url}",
        f"url={URLS[0]}",
        settings=node_settings(redis_server, "a"),
        log=log,
    )
    try:
        while not gate.reached.wait(0.1):  # the node fetches its article
            assert process.poll() is None, log.read_text()[-3000:]
        client = redis_server.client()
        client.delete("rfi:rfi_cn:pending")
        client.rpush("rfi:rfi_cn:pending", "another program's list")
        gate.open()
        result = wait(process, log)
    finally:
        gate.open()
        if process.poll() is None:
            process.kill()
            process.wait()
    assert result.returncode == 2, result.log[-3000:]
    assert "Traceback" not in result.log, result.log[-3000:]
    assert "Redis lost" not in result.log
    assert "Redis key 'rfi:rfi_cn:pending' is a list, not the zset" in result.log
    assert "'finish_reason': 'redis_bad_key'" in result.log
