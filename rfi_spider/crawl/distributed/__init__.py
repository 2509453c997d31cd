"""Several crawler processes on one crawl: scrapy-redis's shared frontier, opted in by
``REDIS_URL`` (``-s REDIS_URL=redis://host:port/db``). Without it nothing here runs.

The add-on :class:`SharedCrawlAddon` switches a crawl to distributed mode when
``REDIS_URL`` is set: scrapy-redis's scheduler and dupefilter (one request queue and one
set of request fingerprints for every node of the crawl, ``SCHEDULER_PERSIST`` on so
that a node that finishes leaves the queue to the others), and the components below:

- :class:`SharedScheduler`: scrapy-redis's scheduler; an article request popped from the
  queue is fetched only if its article is not exported and this node can claim it (a
  lease, renewed while the node works on it; ``archive/redis_state.py``).
- :class:`SharedDupeFilter`: scrapy-redis's, keeping 8-byte fingerprints; a takeover (an
  article whose node died) gets past it.
- :class:`SharedStart`: the listings, feeds, sitemaps and mirrors are read by the first
  node of a crawl only.
- :class:`SharedCrawlExtension`: renews the node's claims and heartbeat; at idle, keeps the
  node open while other nodes work or articles wait, so that it takes over a killed
  node's articles once their claims expire.
- :class:`~rfi_spider.crawl.distributed.export.SharedArchivePipeline`: exported exactly
  once across nodes.

The spider's pending queue and "already exported" checks go to Redis through
:class:`SharedPending`, :class:`SharedSeen` and :class:`SharedFrontier`.

One job a module: ``config`` (on or off, crawl and node ids, what the nodes agree on, the
checks before a crawl), ``node`` (:class:`SharedCrawl`: this node's claims, idle and
takeovers), ``export`` (the export pipeline), ``spider_state`` (the stand-ins for the
spider's local state, and the protocols they keep) and ``components`` (the add-on and
the Scrapy components above).
The names are also here, so that dotted paths written before the split
(``rfi_spider.crawl.distributed.SharedScheduler``) keep working.
"""

from rfi_spider.crawl.distributed.components import (
    SharedCrawlAddon,
    SharedCrawlExtension,
    SharedDupeFilter,
    SharedPagesMiddleware,
    SharedScheduler,
    SharedStart,
)
from rfi_spider.crawl.distributed.config import (
    REDIS_BAD_KEY,
    REDIS_LOST,
    enabled,
    preflight,
    redacted,
)
from rfi_spider.crawl.distributed.node import SharedCrawl
from rfi_spider.crawl.distributed.spider_state import (
    SharedFrontier,
    SharedPending,
    SharedSeen,
)

__all__ = [
    "REDIS_BAD_KEY",
    "REDIS_LOST",
    "SharedCrawl",
    "SharedCrawlAddon",
    "SharedCrawlExtension",
    "SharedDupeFilter",
    "SharedFrontier",
    "SharedPagesMiddleware",
    "SharedPending",
    "SharedScheduler",
    "SharedSeen",
    "SharedStart",
    "enabled",
    "preflight",
    "redacted",
]
