"""Redis memory of a distributed crawl, per known URL (``rfi_spider.archive.redis_state``).

A throwaway ``redis-server`` (Debian's; AOF off, nothing saved) on a free loopback port.
``used_memory`` (Redis's own allocator count) is read before and after adding, through
:class:`~rfi_spider.archive.redis_state.RedisState`, ``n`` exported URLs (64-bit digests in
65,536 small sets of integers); for comparison the same digests as 8-byte strings in one
set (scrapy-redis's request fingerprints, kept as 8 bytes by ``SharedDupeFilter``, are such
a set) and the URLs as text in one set; and ``pending`` URLs in the crawl's queue of
pending articles (a sorted set of URLs: what a backfill holds while it runs).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from benchmarks.store import chunks
from rfi_spider.archive.redis_state import RedisState, digest

START_DEADLINE = 20.0


@dataclass
class RedisMemory:
    urls: int
    digest_bytes: float  # per URL among the exported URLs (sets of integers)
    string_bytes: float  # per URL as an 8-byte string in one set (the dupefilter's)
    text_bytes: float  # per URL as text in a set
    pending: int
    pending_bytes: float  # per URL in the pending queue
    insert_seconds: float  # adding the n digests
    version: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _used(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def bench_redis(n: int, pending: int) -> RedisMemory | None:
    """None when ``redis-server`` is not installed (``apt-get install redis-server``)."""
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    with tempfile.TemporaryDirectory(prefix="rfi-bench-redis-") as folder:
        port = _free_port()
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", folder, "--logfile", str(Path(folder) / "log")]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        client = redis.Redis(port=port)
        try:
            deadline = time.monotonic() + START_DEADLINE
            while True:
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise
                    time.sleep(0.02)
            state = RedisState(client, "rfi", "bench", "node", 60_000)
            before = _used(client)
            started = time.perf_counter()
            for chunk in chunks(0, n, 1000):
                state.add_exported(chunk)
            insert = time.perf_counter() - started
            digests = _used(client) - before
            client.delete(*state.exported_keys())
            before = _used(client)
            for chunk in chunks(0, n, 1000):
                client.sadd("bench:strings", *(digest(u) for u in chunk))
            strings = _used(client) - before
            client.delete("bench:strings")
            before = _used(client)
            for chunk in chunks(0, n, 1000):
                client.sadd("bench:text", *chunk)
            text = _used(client) - before
            client.delete("bench:text")
            before = _used(client)
            for chunk in chunks(0, pending, 1000):
                state.add_pending(chunk)
            queued = _used(client) - before
            version = str(client.info("server")["redis_version"])
        finally:
            client.close()
            process.terminate()
            process.wait(30)
    return RedisMemory(
        urls=n,
        digest_bytes=digests / n,
        string_bytes=strings / n,
        text_bytes=text / n,
        pending=pending,
        pending_bytes=queued / max(1, pending),
        insert_seconds=insert,
        version=version,
    )
