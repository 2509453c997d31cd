"""The state several crawler nodes share in Redis: exported URLs, pending articles, claims.

Keys (``P`` is ``RFI_REDIS_PREFIX``, ``C`` the crawl id, ``RFI_CRAWL_ID``):

- ``P:exported:<4 hex>``: the archive's exported URLs, across crawls, as the 64-bit digest
  of ``urlset.py`` (:func:`~rfi_spider.urlset.url_key`): its first 16 bits
  name one of 65,536 sets, its other 48 bits are the member, an integer. Small sets of
  integers are Redis "intsets", 8 bytes a member (up to 512 a set: 33 million URLs);
  one set of 8-byte strings costs 64 bytes a URL (``BENCHMARKS.md``).
- ``P:versions:<4 hex>``: the latest version of each article exported with its content
  digest (issue 28), in hashes bucketed like ``P:exported``: field the 48-bit member,
  value ``"<version> <sha256 hex> <last settled fetch, ISO>"``. An export of a revisit
  reads it in ``begin_export`` (same digest: unchanged, nothing written) and
  ``end_export`` raises it; a version is never lowered (:data:`_SET_VERSION`).
- ``P:C:pending``: article URLs this crawl found and no node finished (a sorted set,
  scored by the time found, so takeovers go oldest first).
- ``P:C:claim:<16 hex>``: which node works on an article: a random token with a lease
  (``SET NX PX``), renewed while the node works on it. A killed node's claims expire and
  another node takes the article over. While a node writes the article's exports, its
  claim becomes ``exporting:<node>`` with no expiry, and the article is in
  ``P:C:exporting:<node>``: the exported mark (``P:exported``) is set after the node's
  own write, and a node killed between the two settles it when it comes back (its own
  ``items.jsonl`` says whether the write landed).
- ``P:C:started``: the node that read the listings, feeds and sitemaps (once per crawl);
  ``P:C:start_done`` once it queued them all.
- ``P:C:config``: the crawl's settings fingerprint; a node with other settings is refused.
- ``P:C:pages``: the listings, feeds and mirrors queued and not read yet (a hash of their
  requests): a page a killed node took from the queue is claimed like an article, and
  taken over the same way.
- ``P:C:requests``, ``P:C:dupefilter``: scrapy-redis's request queue and fingerprints.
  When a node finds the crawl complete (nothing pending, no node busy), the crawl's keys
  go: the next run with the same crawl id starts a new crawl; a run that finds an
  unfinished crawl (every node was killed) joins it and finishes it.
- ``P:C:node:<node>``: ``busy`` or ``idle``, with a lease: a node closes only when the
  pending articles are done and every live node is idle.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import redis

from rfi_spider.urlset import url_key

T = TypeVar("T")
EXPORTING = "exporting:"
CHUNK = 1000

# Renew a claim only if it is still ours; returns 1 when renewed.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# Take a claim: free (SET NX PX), or already ours (the same token: a retry or a redirect
# of the request that claimed it). Returns 1 when taken.
_CLAIM = """
local held = redis.call('GET', KEYS[1])
if held == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if held == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
# Delete a claim only if it is still the given value.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
# Begin an export: {-1} if the URL is exported already (and this is no revisit, or its
# content is not known); {-2, latest} if a revisit found the latest version's digest (the
# check's time is recorded); {0} if another node holds its claim; {1, latest or ""} when
# the claim (ours, or free) became "exporting:<node>" (no expiry) and the URL is in the
# node's exporting set. KEYS: exported, claim, exporting set, versions; ARGV: member,
# token, exporting value, url, revisit ("1"/"0"), content digest, fetch time.
_BEGIN_EXPORT = """
local latest = false
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
  if ARGV[5] ~= '1' then
    return {-1}
  end
  latest = redis.call('HGET', KEYS[4], ARGV[1])
  if latest == false then
    return {-1}
  end
  local number, digest, checked = string.match(latest, '^(%d+) (%x+) (%S+)$')
  if digest == ARGV[6] then
    if ARGV[7] > checked then
      redis.call('HSET', KEYS[4], ARGV[1], number .. ' ' .. digest .. ' ' .. ARGV[7])
    end
    return {-2, latest}
  end
end
local held = redis.call('GET', KEYS[2])
if held ~= false and held ~= ARGV[2] and held ~= ARGV[3] then
  return {0}
end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[4])
return {1, latest or ''}
"""
# Record a version unless a later one is recorded. KEYS: versions; ARGV: member, version,
# digest, fetch time.
_SET_VERSION = """
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if stored ~= false then
  local number = tonumber(string.match(stored, '^(%d+) '))
  if number ~= nil and number >= tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. ARGV[4])
return 1
"""


class SharedCrawlError(Exception):
    """The shared crawl cannot go on: Redis unreachable, or another crawl's settings."""


class KeyTypeError(SharedCrawlError):
    """A key of the crawl holds another Redis type than the crawl's (another program's
    key under the same prefix, or one written by hand): a configuration fault, not a lost
    Redis (exit 2)."""

    def __init__(self, key: str, found: str, wanted: str) -> None:
        super().__init__(
            f"Redis key {key!r} is a {found}, not the {wanted} this crawl keeps there:"
            " another program uses these keys; delete it, or use another RFI_REDIS_PREFIX"
            " or RFI_CRAWL_ID"
        )
        self.key = key


# The Redis type of each key of a crawl (by its name after "P:C:"), as TYPE reports it.
KEY_TYPES = {
    "requests": "zset",
    "dupefilter": "set",
    "pending": "zset",
    "pages": "hash",
    "page_takeovers": "hash",
    "config": "string",
    "started": "string",
    "start_done": "string",
}


BUCKET_BITS = 16
_MEMBER_MASK = (1 << (64 - BUCKET_BITS)) - 1


def digest(url: str) -> bytes:
    """The 8 bytes a URL is known by (the local state's 64-bit digest)."""
    return url_key(url).to_bytes(8, "big")


def _text(value: object) -> str:
    """A reply as text. The client answers bytes (no ``decode_responses``), which redis-py's
    annotations cannot tell apart from str (or, for a sorted set, from member-score pairs)."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, str):
        return value
    raise TypeError(f"a Redis reply of {type(value).__name__}, not text")


def exported_slot(prefix: str, url: str) -> tuple[str, int]:
    """The set and the integer member that hold ``url`` among the exported URLs."""
    key = url_key(url)
    return f"{prefix}:exported:{key >> (64 - BUCKET_BITS):04x}", key & _MEMBER_MASK


@dataclass(frozen=True)
class SharedVersion:
    """The latest version of an article the crawl's Redis knows."""

    number: int
    digest: str
    checked_at: str  # the last settled fetch (ISO 8601)

    @classmethod
    def parse(cls, value: bytes | str | None) -> SharedVersion | None:
        """A ``P:versions`` value; None for none, or one that is not ours."""
        if value is None or value == b"" or value == "":
            return None
        text = value.decode() if isinstance(value, bytes) else value
        parts = text.split(" ")
        if len(parts) != 3 or not parts[0].isdigit():
            return None
        return cls(int(parts[0]), parts[1], parts[2])


@dataclass
class PendingStatus:
    """What the pending articles of a crawl wait for."""

    unclaimed: list[str] = field(default_factory=list)  # no node works on them: take over
    claimed: int = 0  # a live lease or a live node's export
    orphaned: list[tuple[str, str]] = field(default_factory=list)  # (url, dead exporting node)

    @property
    def waiting(self) -> bool:
        return bool(self.unclaimed or self.claimed)


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
        self._renew = client.register_script(_RENEW)
        self._claim = client.register_script(_CLAIM)
        self._release = client.register_script(_RELEASE)
        self._begin_export = client.register_script(_BEGIN_EXPORT)
        self._set_version = client.register_script(_SET_VERSION)

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
        return _text(starter) in live_nodes

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
        return [_text(k) for k in self.client.scan_iter(match=f"{self.prefix}:exported:*")]

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
                _text(u) for u in self.client.zrange(self.pending_key, start, start + CHUNK - 1)
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
                elif _text(claim).startswith(EXPORTING):
                    node = _text(claim)[len(EXPORTING) :]
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
        return _text(value) if value is not None else None

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
            for url, number, digest, fetched_at in chunk:
                key, member = self.versions_slot(url)
                self._set_version(
                    keys=[key], args=[member, number, digest, fetched_at], client=pipe
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
        return sorted(_text(u) for u in self.client.smembers(self.exporting_key(self.node)))

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
            _text(key)[prefix:]: _text(value)
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
