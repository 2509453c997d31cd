"""The export pipeline of a distributed crawl (``REDIS_URL``): each article exported once
across every node, each node writing its own folder.

:class:`SharedArchivePipeline` is :class:`~rfi_spider.archive.pipelines.ArchivePipeline`
(the same files, the same order of writes, the node's own state) inside an export
protocol in Redis (``archive/redis_state.py``):

1. ``begin_export`` (one Lua script, atomic): the URL is not exported by any node, and
   no other node holds its claim; the claim becomes ``exporting:<node>``, with no expiry;
2. the node's own writes (seed-style file, JSON line, its local state);
3. ``end_export``: the URL is marked exported, off the queue, unclaimed.

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
from rfi_spider.crawl.distributed import SharedCrawl, redacted

logger = logging.getLogger(__name__)


class SharedArchivePipeline(ArchivePipeline):
    """:class:`ArchivePipeline` whose exports are exactly once across the crawl's nodes."""

    shared: SharedCrawl

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
            self.store.set_meta(self.marked_key, str(self.known_size))
            if added:
                logger.info("marked %d article(s) of this node's state as exported in Redis", added)
                self.stats.inc_value("rfi/redis/marked_from_local_state", added)
            for url in state.unsettled_exports():
                if url in self.store:
                    state.end_export(url)
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

    def export(self, item: Any, adapter: ItemAdapter, url: str) -> Any:
        """Begin the export in Redis, write as on one machine, then mark it exported."""
        state = self.shared.state
        if self.shared.stopped:
            self.stats.inc_value("rfi/dropped/redis_lost")
            raise ExportStopped(f"not exported (Redis lost): {url}", log_level="DEBUG")
        try:
            verdict = state.begin_export(url, self.shared.held.get(url))
        except redis.RedisError as error:
            self.shared.lost(error)
            self.stats.inc_value("rfi/dropped/redis_lost")
            raise ExportStopped(f"not exported (Redis lost): {url}", log_level="DEBUG") from error
        if verdict < 0:
            self.stats.inc_value("rfi/duplicates")
            self.stats.inc_value("rfi/redis/duplicates")
            raise DropItem(f"already exported (by a node of the crawl): {url}", log_level="DEBUG")
        if verdict == 0:
            self.stats.inc_value("rfi/redis/skipped/claimed_elsewhere")
            raise DropItem(f"another node exports {url}", log_level="DEBUG")
        try:
            path = super().export(item, adapter, url)
        except DropItem:  # in this node's own state already: exported
            self.settle(url, written=True)
            raise
        except BaseException:
            self.settle(url, written=False)
            raise
        self.settle(url, written=True)
        self.shared.held.pop(url, None)
        return path

    def settle(self, url: str, written: bool) -> None:
        """Mark the URL exported (written) or free it again; Redis lost meanwhile: the
        claim stays ``exporting:<node>`` and this node settles it when run again."""
        try:
            if written:
                self.shared.state.end_export(url)
            else:
                self.shared.state.abort_export(url)
        except redis.RedisError as error:
            self.shared.lost(error)
