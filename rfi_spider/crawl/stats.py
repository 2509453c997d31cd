"""The crawl's stats collector: Scrapy's in-memory one, without its per-read shim.

Scrapy 2.19's ``StatsCollector.__getattribute__`` is a shim that wraps the public methods
(``inc_value``, ``set_value``...) to warn when a caller still passes ``spider=``. It runs
on every attribute read: ``stats.inc_value`` builds the name ``_cached_inc_value``, looks
it up, and the call then goes through the wrapper's argument check before the method; the
method's own ``self._stats`` read goes through the shim again (an ``AttributeError`` raised
and caught for ``_cached__stats``). The crawl updates dozens of counters a page (Scrapy's,
the project's ``rfi/...``, Spidermon's): about 2% of the reactor's CPU (issue 26).

:class:`CrawlStats` reads its attributes the ordinary way (``object.__getattribute__``)
and overrides the shimmed methods, each giving Scrapy's deprecation warning when a
``spider`` argument is passed (by name or by position, ``None`` included), as the shim
does, then calling Scrapy's own method (reached through ``super()``, not the shim): the
stats are Scrapy's, kept Scrapy's way.
"""

from __future__ import annotations

import warnings
from typing import Any

from scrapy.exceptions import ScrapyDeprecationWarning
from scrapy.statscollectors import MemoryStatsCollector, StatsT

# The default of every ``spider`` parameter: any value passed, None included, is warned
# about (Scrapy's shim warns whenever the argument is given).
_NO_SPIDER: Any = object()


def _warn_spider(method: str) -> None:
    """Scrapy's warning for a ``spider`` argument, pointing at the caller's line."""
    warnings.warn(
        f"Passing a 'spider' argument to StatsCollector.{method}() is deprecated and "
        "the argument will be removed in a future Scrapy version.",
        category=ScrapyDeprecationWarning,
        stacklevel=3,
    )


class CrawlStats(MemoryStatsCollector):
    """``MemoryStatsCollector`` (``STATS_CLASS``) without the shim on every attribute read;
    the same stats, kept the same way, the same warning for a ``spider`` argument."""

    __getattribute__ = object.__getattribute__

    def get_value(self, key: str, default: Any = None, spider: Any = _NO_SPIDER) -> Any:
        if spider is not _NO_SPIDER:
            _warn_spider("get_value")
        return super().get_value(key, default)

    def get_stats(self, spider: Any = _NO_SPIDER) -> StatsT:
        if spider is not _NO_SPIDER:
            _warn_spider("get_stats")
        return super().get_stats()

    def set_value(self, key: str, value: Any, spider: Any = _NO_SPIDER) -> None:
        if spider is not _NO_SPIDER:
            _warn_spider("set_value")
        super().set_value(key, value)

    def set_stats(self, stats: StatsT, spider: Any = _NO_SPIDER) -> None:
        if spider is not _NO_SPIDER:
            _warn_spider("set_stats")
        super().set_stats(stats)

    def inc_value(self, key: str, count: int = 1, start: int = 0, spider: Any = _NO_SPIDER) -> None:
        if spider is not _NO_SPIDER:
            _warn_spider("inc_value")
        super().inc_value(key, count, start)

    def max_value(self, key: str, value: Any, spider: Any = _NO_SPIDER) -> None:
        if spider is not _NO_SPIDER:
            _warn_spider("max_value")
        super().max_value(key, value)

    def min_value(self, key: str, value: Any, spider: Any = _NO_SPIDER) -> None:
        if spider is not _NO_SPIDER:
            _warn_spider("min_value")
        super().min_value(key, value)

    def clear_stats(self, spider: Any = _NO_SPIDER) -> None:
        if spider is not _NO_SPIDER:
            _warn_spider("clear_stats")
        super().clear_stats()

    def open_spider(self, spider: Any = _NO_SPIDER) -> None:
        if spider is not _NO_SPIDER:
            _warn_spider("open_spider")
        super().open_spider()

    def close_spider(self, spider: Any = _NO_SPIDER, reason: str | None = None) -> None:
        if spider is not _NO_SPIDER:
            _warn_spider("close_spider")
        super().close_spider(reason=reason)
