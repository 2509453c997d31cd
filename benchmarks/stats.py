"""A stats collector that also writes the final stats as JSON (``BENCH_STATS_FILE``).

The benchmark runs crawls with ``-s STATS_CLASS=benchmarks.stats.JsonStatsCollector``
and reads the numbers from that file instead of scraping the log. At close (after every
``spider_closed`` handler: the WARC writer has drained) it adds the CPU time of the
process so far and of its main thread, the reactor's (``bench/cpu_process``,
``bench/cpu_main_thread``, seconds).
"""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path
from typing import Any

from scrapy.statscollectors import MemoryStatsCollector


class JsonStatsCollector(MemoryStatsCollector):
    """Scrapy's memory stats collector, plus a JSON dump of the stats at close."""

    def _persist_stats(self, stats: dict[str, Any]) -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        stats["bench/cpu_process"] = usage.ru_utime + usage.ru_stime
        stats["bench/cpu_main_thread"] = time.thread_time()  # Scrapy closes in the reactor's
        super()._persist_stats(stats)
        target = self._crawler.settings.get("BENCH_STATS_FILE")
        if target:
            Path(target).write_text(json.dumps(stats, default=str, indent=1), encoding="utf-8")
