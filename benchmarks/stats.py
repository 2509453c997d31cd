"""A stats collector that also writes the final stats as JSON (``BENCH_STATS_FILE``).

The benchmark runs crawls with ``-s STATS_CLASS=benchmarks.stats.JsonStatsCollector``
and reads the numbers from that file instead of scraping the log. At close (after every
``spider_closed`` handler: the WARC writer has drained) it adds the CPU time the process
and its main thread, the reactor's, spent since the spider opened (``bench/cpu_process``,
``bench/cpu_main_thread``, seconds): the crawl's, without the imports and set-up before
it, which weigh on a short crawl and differ between the project and the null spider.
"""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path
from typing import Any

from scrapy.statscollectors import MemoryStatsCollector


def _process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class JsonStatsCollector(MemoryStatsCollector):
    """Scrapy's memory stats collector, plus a JSON dump of the stats at close."""

    _opened = (0.0, 0.0)  # (process, main thread) CPU seconds when the spider opened

    def open_spider(self, *args: Any, **kwargs: Any) -> None:
        super().open_spider(*args, **kwargs)
        self._opened = (_process_cpu(), time.thread_time())  # Scrapy opens in the reactor's

    def _persist_stats(self, stats: dict[str, Any]) -> None:
        stats["bench/cpu_process"] = _process_cpu() - self._opened[0]
        stats["bench/cpu_main_thread"] = time.thread_time() - self._opened[1]
        super()._persist_stats(stats)
        target = self._crawler.settings.get("BENCH_STATS_FILE")
        if target:
            Path(target).write_text(json.dumps(stats, default=str, indent=1), encoding="utf-8")
