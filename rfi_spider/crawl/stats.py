"""The crawl's stats collector: Scrapy's in-memory one, its own attributes read directly.

Scrapy 2.19's ``StatsCollector.__getattribute__`` is a shim that wraps the public methods
(``inc_value``, ``set_value``...) to warn when a caller still passes ``spider=``. It runs
on every attribute read, the collector's own included: ``inc_value`` reading
``self._stats`` first looks for ``_cached__stats``, and raises and catches an
``AttributeError`` for it. The crawl updates dozens of counters a page (Scrapy's, the
project's ``rfi/...``, Spidermon's), so that cost about 0.1 ms of the reactor's CPU a page
(issue 26). :class:`CrawlStats` reads names that begin with ``_`` (the collector's own
state, never one of the shimmed methods) straight from the object, and leaves every
public name to the shim, so a caller passing ``spider=`` is still warned.
"""

from __future__ import annotations

from typing import Any

from scrapy.statscollectors import MemoryStatsCollector


class CrawlStats(MemoryStatsCollector):
    """``MemoryStatsCollector`` (``STATS_CLASS``), with its private attributes read
    without the deprecation shim; the same stats, kept the same way."""

    def __getattribute__(self, name: str) -> Any:
        if name[:1] == "_":
            return object.__getattribute__(self, name)
        return MemoryStatsCollector.__getattribute__(self, name)
