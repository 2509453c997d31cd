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
  ``end_export`` raises it; a version is never lowered (``redis_scripts.SET_VERSION``).
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

from dataclasses import dataclass, field

from rfi_spider.urlset import url_key


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


def as_text(value: object) -> str:
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
