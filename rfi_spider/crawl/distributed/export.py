"""The export pipeline of a distributed crawl (``REDIS_URL``): each article exported once
across every node, each node writing its own folder.

:class:`SharedArchivePipeline` is :class:`~rfi_spider.archive.pipelines.ArchivePipeline`
(the same files, the same order of writes, the node's own state) inside an export
protocol in Redis (``archive/redis_state.py``):

1. ``begin_export`` (one Lua script, atomic): the URL is not exported by any node, and
   no other node holds its claim; the claim becomes ``exporting:<node>``, with no expiry;
2. the node's own writes (seed-style file, JSON line, its local state);
3. ``end_export``: the URL is marked exported, off the queue, unclaimed.

Versions (issue 28): Redis holds the latest version of each article and its content
digest (``P:versions``). An item of a revisit whose digest is that version's is no new
version, whichever node exported it (``rfi/versions/unchanged``); another digest is
exported by this node as the next version, beside nothing in its own folder if another
node holds the earlier ones; ``end_export`` raises the version in Redis.

A node killed between 1 and 3 leaves the article claimed by ``exporting:<node>``: no
other node exports it. When the node comes back, its own ``items.jsonl`` (repaired as on
one machine) says whether the write landed: if it did, the mark is set; if not, the
claim is dropped and the article is exported again by whichever node takes it.
At open, the URLs of the node's local state are marked exported in Redis (an archive made
before the crawl went distributed, or a mark a kill kept from being set): all of them the
first time with a Redis, then those of the JSON lines written since the last open.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import redis
from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from rfi_spider.archive.pipelines import ArchivePipeline, ExportStopped
from rfi_spider.archive.redis_state import SharedVersion
from rfi_spider.archive.versions import Version, content_digest
from rfi_spider.crawl.distributed.config import redacted
from rfi_spider.crawl.distributed.node import SharedCrawl
from rfi_spider.extract.loaders import SITE_SOURCE

logger = logging.getLogger(__name__)


class SharedArchivePipeline(ArchivePipeline):
    """:class:`ArchivePipeline` whose exports are exactly once across the crawl's nodes."""

    shared: SharedCrawl
    # The crawl's latest version of the article being exported (a revisit), from Redis.
    shared_latest: dict[str, SharedVersion]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shared_latest = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedArchivePipeline:
        pipeline = super().from_crawler(crawler)
        assert isinstance(pipeline, SharedArchivePipeline)
        pipeline.shared = SharedCrawl.of(crawler)
        return pipeline

    def open_spider(self) -> None:
        super().open_spider()
        state = self.shared.state
        with self.lock:
            self.commit()
            added = state.add_exported(self.unmarked_urls())
            state.set_versions(self.unmarked_versions())
            self.store.set_meta(self.marked_key, str(self.known_size))
            if added:
                logger.info("marked %d article(s) of this node's state as exported in Redis", added)
                self.stats.inc_value("rfi/redis/marked_from_local_state", added)
            for url in state.unsettled_exports():
                latest = self.store.latest(url)
                if latest is not None:
                    state.end_export(url, self.version_of(url, latest))
                    self.stats.inc_value("rfi/repaired/redis_export_marked")
                    logger.warning("%s: exported before a kill, now marked exported", url)
                else:
                    state.abort_export(url)
                    self.stats.inc_value("rfi/repaired/redis_export_released")
                    logger.warning("%s: a kill stopped its export: free for any node", url)

    @property
    def marked_key(self) -> str:
        """The local state's record of how much of items.jsonl Redis knows, per Redis."""
        where = redacted(str(self.shared.crawler.settings.get("REDIS_URL")))
        return f"redis_marked:{where}:{self.shared.state.prefix}:{self.offset_key}"

    def unmarked_urls(self) -> Iterable[str]:
        """URLs of this folder Redis may not know: all of the state the first time with this
        Redis, then those of the JSON lines written since the last start."""
        marked = self.store.get_meta(self.marked_key)
        if marked is None or int(marked) > self.known_size:  # first time, or file replaced
            return (row[0] for row in self.store.db.execute("SELECT url FROM seen"))
        return [row.url for row in self.exported_rows(int(marked))]

    def unmarked_versions(self) -> Iterable[tuple[str, int, str, str]]:
        """The latest versions of this folder Redis may not know (as :meth:`unmarked_urls`)."""
        marked = self.store.get_meta(self.marked_key)
        if marked is None or int(marked) > self.known_size:
            rows = self.store.db.execute(
                "SELECT url, MAX(version), digest, fetched_at FROM versions GROUP BY url"
            )
            return (tuple(row) for row in rows)
        return [
            (row.url, row.version, row.digest, row.fetched_at or "")
            for row in self.exported_rows(int(marked))
        ]

    def version_of(self, url: str, latest: Version) -> tuple[int, str, str] | None:
        """What ``end_export`` records of a version of this folder (None: its digest is
        not known, a state older than versions)."""
        if not latest.digest:
            return None
        row = self.store.db.execute(
            "SELECT fetched_at FROM versions WHERE url = ? AND version = ?", (url, latest.number)
        ).fetchone()
        return latest.number, latest.digest, row[0] if row else ""

    def latest(self, url: str) -> Version | None:
        """The latest version of ``url``: this node's, or the crawl's in Redis if later."""
        local = super().latest(url)
        shared = self.shared_latest.get(url)
        if shared is not None and (local is None or shared.number > local.number):
            return Version(shared.number, shared.digest)
        return local

    def export(self, item: Any, adapter: ItemAdapter, url: str) -> Any:
        """Begin the export in Redis, write as on one machine, then mark it exported."""
        state = self.shared.state
        if self.shared.stopped:
            self.stats.inc_value("rfi/dropped/redis_lost")
            raise ExportStopped(f"not exported (Redis lost): {url}", log_level="DEBUG")
        revisit = bool(adapter.get("revisit")) and adapter.get("source") == SITE_SOURCE
        fetched_at = adapter.get("crawled_at") or ""
        try:
            verdict, shared = state.begin_export(
                url, self.shared.held.get(url), revisit, content_digest(adapter), fetched_at
            )
        except redis.RedisError as error:
            self.shared.lost(error)
            self.stats.inc_value("rfi/dropped/redis_lost")
            raise ExportStopped(f"not exported (Redis lost): {url}", log_level="DEBUG") from error
        if verdict == -2:
            self.stats.inc_value("rfi/versions/unchanged")
            raise DropItem(f"unchanged (the crawl's latest version): {url}", log_level="DEBUG")
        if verdict < 0:
            self.stats.inc_value("rfi/duplicates")
            self.stats.inc_value("rfi/redis/duplicates")
            raise DropItem(f"already exported (by a node of the crawl): {url}", log_level="DEBUG")
        if verdict == 0:
            self.stats.inc_value("rfi/redis/skipped/claimed_elsewhere")
            raise DropItem(f"another node exports {url}", log_level="DEBUG")
        if shared is not None:
            self.shared_latest[url] = shared
        try:
            path = super().export(item, adapter, url)
        except DropItem:  # in this node's own state already: exported
            self.settle(url, written=True)
            raise
        except BaseException:
            self.settle(url, written=False)
            raise
        finally:
            self.shared_latest.pop(url, None)
        version = (adapter["version"], adapter["content_digest"], fetched_at)
        self.settle(url, written=True, version=version)
        self.shared.held.pop(url, None)
        return path

    def settle(self, url: str, written: bool, version: tuple[int, str, str] | None = None) -> None:
        """Mark the URL exported (written; ``version`` recorded) or free it again; Redis
        lost meanwhile: the claim stays ``exporting:<node>`` and this node settles it when
        run again."""
        try:
            if written:
                self.shared.state.end_export(url, version)
            else:
                self.shared.state.abort_export(url)
        except redis.RedisError as error:
            self.shared.lost(error)
