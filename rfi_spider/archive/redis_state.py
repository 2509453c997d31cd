"""The state several crawler nodes share in Redis, for one node: :class:`RedisState`.

The keys and what they hold are described in :mod:`rfi_spider.archive.redis_keys`; the Lua
scripts that change several at once are in :mod:`rfi_spider.archive.redis_scripts`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import TypeVar

import redis

from rfi_spider.archive.redis_keys import (
    BUCKET_BITS,
    KEY_TYPES,
    KeyTypeError,
    PendingStatus,
    SharedCrawlError,
    SharedVersion,
    as_text,
    digest,
    exported_slot,
)
from rfi_spider.archive.redis_scripts import BEGIN_EXPORT, CLAIM, RELEASE, RENEW, SET_VERSION

T = TypeVar("T")
EXPORTING = "exporting:"
CHUNK = 1000

__all__ = [
    "BUCKET_BITS",
    "CHUNK",
    "EXPORTING",
    "KEY_TYPES",
    "KeyTypeError",
    "PendingStatus",
    "RedisState",
    "SharedCrawlError",
    "SharedVersion",
    "digest",
    "exported_slot",
]


class RedisState:
    """One crawl's keys in one Redis database, for one node."""

    def __init__(
        self, client: redis.Redis, prefix: str, crawl_id: str, node: str, lease_ms: int
    ) -> None:
        self.client = client
        self.node = node
        self.lease_ms = max(1, int(lease_ms))
        self.prefix = prefix
        self.crawl = f"{prefix}:{crawl_id}"
        self.pending_key = f"{self.crawl}:pending"
        self.started_key = f"{self.crawl}:started"
        self.start_done_key = f"{self.crawl}:start_done"
        self.config_key = f"{self.crawl}:config"
        self.pages_key = f"{self.crawl}:pages"
        self.page_takeovers_key = f"{self.crawl}:page_takeovers"
        self.exporting_value = EXPORTING + node
        self._renew = client.register_script(RENEW)
        self._claim = client.register_script(CLAIM)
        self._release = client.register_script(RELEASE)
        self._begin_export = client.register_script(BEGIN_EXPORT)
        self._set_version = client.register_script(SET_VERSION)

    # --- keys ----------------------------------------------------------------
    def claim_key(self, url: str) -> str:
        return f"{self.crawl}:claim:{digest(url).hex()}"

    def node_key(self, node: str) -> str:
        return f"{self.crawl}:node:{node}"

    def exporting_key(self, node: str) -> str:
        return f"{self.crawl}:exporting:{node}"

    # --- key types ---------------------------------------------------------------
    def check_types(self) -> None:
        """:class:`KeyTypeError` for the first key of the crawl (or of this node) that
        holds another type than the crawl keeps there; missing keys are fine."""
        wanted = {f"{self.crawl}:{name}": kind for name, kind in KEY_TYPES.items()}
        wanted[self.node_key(self.node)] = "string"
        wanted[self.exporting_key(self.node)] = "set"
        pipe = self.client.pipeline(transaction=False)
        for key in wanted:
            pipe.type(key)
        for (key, kind), found in zip(wanted.items(), pipe.execute(), strict=True):
            found = found.decode() if isinstance(found, bytes) else str(found)
            if found not in ("none", kind):
                raise KeyTypeError(key, found, kind)

    # --- the crawl's settings and its start ------------------------------------
    def check_config(self, config: dict[str, str], record: bool = True) -> None:
        """Refuse (:class:`SharedCrawlError`) settings other than those the crawl started
        with; the first node records its own (unless ``record`` is false)."""
        mine = json.dumps(config, sort_keys=True, ensure_ascii=False)
        if record:
            self.client.set(self.config_key, mine, nx=True)
        stored = self.client.get(self.config_key)
        if stored is None:
            return
        try:
            theirs = json.loads(stored)
        except (ValueError, RecursionError):
            theirs = None
        if not isinstance(theirs, dict):
            raise SharedCrawlError(
                f"crawl {self.crawl!r} in Redis: its settings ({self.config_key}) are not"
                " this project's JSON: refused; delete the key, or use another RFI_CRAWL_ID"
            )
        differ = sorted(k for k in config.keys() | theirs.keys() if config.get(k) != theirs.get(k))
        if differ:
            what = ", ".join(f"{k}={theirs.get(k)!r} there, {config.get(k)!r} here" for k in differ)
            raise SharedCrawlError(
                f"crawl {self.crawl!r} in Redis runs with other settings ({what}):"
                " refused; use the same settings, or another RFI_CRAWL_ID"
            )

    def start_once(self) -> bool:
        """True for the first node of the crawl: it reads the listings, feeds and sitemaps."""
        return bool(self.client.set(self.started_key, self.node, nx=True))

    def finish_start(self) -> None:
        """The first node has queued every start request."""
        self.client.set(self.start_done_key, self.node)

    def start_in_progress(self, live_nodes: set[str]) -> bool:
        """The first node, alive, is still queueing the start requests."""
        starter = self.client.get(self.started_key)
        if starter is None or self.client.exists(self.start_done_key):
            return False
        return as_text(starter) in live_nodes

    def finish_crawl(self) -> None:
        """The crawl is complete: its queue, fingerprints, start and settings go, so that
        the next run with this crawl id starts a new crawl (the exported URLs stay)."""
        keys: tuple[str, ...]
        keys = ("requests", "dupefilter", "started", "start_done", "config", "pending", "pages")
        keys += ("page_takeovers",)
        self.client.delete(*(f"{self.crawl}:{key}" for key in keys))

    # --- exported URLs ----------------------------------------------------------
    def slot(self, url: str) -> tuple[str, int]:
        return exported_slot(self.prefix, url)

    def is_exported(self, url: str) -> bool:
        # redis-py annotates a set member as str; it encodes an int as its digits, as SADD's.
        return bool(self.client.sismember(*self.slot(url)))  # type: ignore[arg-type]

    def exported_many(self, urls: list[str]) -> list[bool]:
        pipe = self.client.pipeline(transaction=False)
        for url in urls:
            pipe.sismember(*self.slot(url))  # type: ignore[arg-type]  # an int member: above
        return [bool(found) for found in pipe.execute()]

    def add_exported(self, urls: Iterable[str]) -> int:
        """Record URLs as exported (in chunks); returns how many were new."""
        added = 0
        for chunk in _chunks(urls, CHUNK):
            pipe = self.client.pipeline(transaction=False)
            for url in chunk:
                pipe.sadd(*self.slot(url))
            added += sum(int(n) for n in pipe.execute())
        return added

    def exported_keys(self) -> list[str]:
        return [as_text(k) for k in self.client.scan_iter(match=f"{self.prefix}:exported:*")]

    def exported_count(self) -> int:
        """How many URLs are marked exported (reads every set: for checks and tests)."""
        keys = self.exported_keys()
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.scard(key)
        return sum(int(n) for n in pipe.execute()) if keys else 0

    # --- pending articles ---------------------------------------------------------
    def add_pending(self, urls: Iterable[str]) -> list[str]:
        """Queue article URLs for the crawl; returns those no node had queued."""
        urls = list(dict.fromkeys(urls))
        if not urls:
            return []
        pipe = self.client.pipeline(transaction=False)
        now = time.time()
        for url in urls:
            pipe.zadd(self.pending_key, {url: now}, nx=True)
        return [url for url, added in zip(urls, pipe.execute(), strict=True) if added]

    def remove_pending(self, url: str) -> None:
        self.client.zrem(self.pending_key, url)

    def pending_count(self) -> int:
        return int(self.client.zcard(self.pending_key))

    def pending_status(self, live_nodes: set[str], limit: int = 500) -> PendingStatus:
        """The pending articles: those nobody works on (at most ``limit``), those a live
        lease or a live node's export holds, and those a dead node was exporting. Exported
        ones still queued are taken off the queue."""
        status = PendingStatus()
        start = 0
        while True:
            urls = [
                as_text(u) for u in self.client.zrange(self.pending_key, start, start + CHUNK - 1)
            ]
            if not urls:
                return status
            start += len(urls)
            exported = self.exported_many(urls)
            claims = self.client.mget([self.claim_key(u) for u in urls])
            done = []
            for url, is_exported, claim in zip(urls, exported, claims, strict=True):
                if is_exported:
                    done.append(url)
                elif claim is None:
                    if len(status.unclaimed) < limit:
                        status.unclaimed.append(url)
                elif as_text(claim).startswith(EXPORTING):
                    node = as_text(claim)[len(EXPORTING) :]
                    if node in live_nodes:
                        status.claimed += 1
                    else:
                        status.orphaned.append((url, node))
                else:
                    status.claimed += 1
            if done:
                self.client.zrem(self.pending_key, *done)
                start -= len(done)

    # --- pages: listings, feeds, mirrors taken from the queue and not read yet ----------
    def add_page(self, page: str, request: bytes) -> None:
        """Record a page request (serialized) until a node has read it."""
        self.client.hsetnx(self.pages_key, page, request)

    def page_pending(self, page: str) -> bool:
        return bool(self.client.hexists(self.pages_key, page))

    def page_done(self, page: str) -> None:
        self.client.hdel(self.pages_key, page)

    def count_takeover(self, page: str) -> int:
        """One more takeover of a page; returns how many it had."""
        return int(self.client.hincrby(self.page_takeovers_key, page, 1))

    def pages_status(self, limit: int = 100) -> tuple[list[tuple[str, bytes]], int]:
        """Pages no node works on (at most ``limit``, with their request), and how many a
        live claim holds."""
        unclaimed: list[tuple[str, bytes]] = []
        claimed = 0
        batch: list[tuple[bytes, bytes]] = []
        for entry in self.client.hscan_iter(self.pages_key, count=CHUNK):
            batch.append(entry)
        for start in range(0, len(batch), CHUNK):
            chunk = batch[start : start + CHUNK]
            pages = [page.decode() for page, _ in chunk]
            claims = self.client.mget([self.claim_key(f"page:{page}") for page in pages])
            for page, (_, request), claim in zip(pages, chunk, claims, strict=True):
                if claim is not None:
                    claimed += 1
                elif len(unclaimed) < limit:
                    unclaimed.append((page, request))
        return unclaimed, claimed

    # --- claims ---------------------------------------------------------------------
    def claim(self, url: str, token: str | None = None) -> str | None:
        """Claim an article for this node (or keep the claim ``token`` names); returns the
        token, None when another node holds it."""
        token = token or f"{self.node}:{uuid.uuid4().hex[:12]}"
        taken = self._claim(keys=[self.claim_key(url)], args=[token, self.lease_ms])
        return token if taken else None

    def renew(self, claims: dict[str, str]) -> list[str]:
        """Renew claims (url -> token); returns the URLs whose claim is no longer ours."""
        if not claims:
            return []
        pipe = self.client.pipeline(transaction=False)
        for url, token in claims.items():
            self._renew(keys=[self.claim_key(url)], args=[token, self.lease_ms], client=pipe)
        results = pipe.execute()
        return [url for url, ok in zip(claims, results, strict=True) if not ok]

    def release(self, url: str, token: str) -> bool:
        """Drop a claim if it is still ``token``'s; True when it was."""
        return bool(self._release(keys=[self.claim_key(url)], args=[token]))

    def holder(self, url: str) -> str | None:
        value = self.client.get(self.claim_key(url))
        return as_text(value) if value is not None else None

    # --- exports -----------------------------------------------------------------------
    def versions_slot(self, url: str) -> tuple[str, int]:
        """The hash and field that hold ``url``'s latest version."""
        key, member = self.slot(url)
        return key.replace(":exported:", ":versions:", 1), member

    def latest_version(self, url: str) -> SharedVersion | None:
        return SharedVersion.parse(self.client.hget(*self.versions_slot(url)))

    def set_versions(self, versions: Iterable[tuple[str, int, str, str]]) -> None:
        """Record ``(url, version, digest, fetched_at)`` rows, never lowering a version."""
        for chunk in _chunks(versions, CHUNK):
            pipe = self.client.pipeline(transaction=False)
            for url, number, content, fetched_at in chunk:
                key, member = self.versions_slot(url)
                self._set_version(
                    keys=[key], args=[member, number, content, fetched_at], client=pipe
                )
            pipe.execute()

    def begin_export(
        self,
        url: str,
        token: str | None,
        revisit: bool = False,
        digest: str = "",
        fetched_at: str = "",
    ) -> tuple[int, SharedVersion | None]:
        """Before the node writes an article: -1 already exported, -2 a revisit that found
        the latest version (the check recorded), 0 claimed by another node, 1 go (the
        claim is ``exporting:<node>`` until :meth:`end_export`); with the latest version
        Redis knows when a revisit read it."""
        exported, member = self.slot(url)
        versions, _ = self.versions_slot(url)
        keys = [exported, self.claim_key(url), self.exporting_key(self.node), versions]
        args: list[str | int] = [member, token or "", self.exporting_value, url]
        args.append("1" if revisit else "0")
        args += [digest or "-", fetched_at or ""]
        answer = self._begin_export(keys=keys, args=args)
        latest = SharedVersion.parse(answer[1]) if len(answer) > 1 else None
        return int(answer[0]), latest

    def end_export(self, url: str, version: tuple[int, str, str] | None = None) -> None:
        """After the node's own write: the URL is exported (``version``: ``(number,
        digest, fetched_at)``, recorded unless a later one is), off the queue, unclaimed."""
        pipe = self.client.pipeline(transaction=True)
        if version is not None:
            key, member = self.versions_slot(url)
            self._set_version(keys=[key], args=[member, *version], client=pipe)
        pipe.sadd(*self.slot(url))
        pipe.zrem(self.pending_key, url)
        pipe.delete(self.claim_key(url))
        pipe.srem(self.exporting_key(self.node), url)
        pipe.execute()

    def abort_export(self, url: str) -> None:
        """The write failed: the article is free again (still pending)."""
        self._release(keys=[self.claim_key(url)], args=[self.exporting_value])
        self.client.srem(self.exporting_key(self.node), url)

    def unsettled_exports(self) -> list[str]:
        """URLs this node began exporting and never settled (it was killed meanwhile)."""
        return sorted(as_text(u) for u in self.client.smembers(self.exporting_key(self.node)))

    # --- nodes ---------------------------------------------------------------------------
    def heartbeat(self, busy: bool) -> None:
        """Say this node is alive, busy or idle, for one lease."""
        self.client.set(self.node_key(self.node), "busy" if busy else "idle", px=self.lease_ms)

    def leave(self) -> None:
        self.client.delete(self.node_key(self.node))

    def nodes(self) -> dict[str, str]:
        """Live nodes of the crawl and their status."""
        keys = list(self.client.scan_iter(match=self.node_key("*"), count=100))
        values = self.client.mget(keys) if keys else []
        prefix = len(self.node_key(""))
        return {
            as_text(key)[prefix:]: as_text(value)
            for key, value in zip(keys, values, strict=True)
            if value is not None
        }


def _chunks(values: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for value in values:
        chunk.append(value)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
