"""A stats collector that also writes the final stats as JSON (``BENCH_STATS_FILE``).

The benchmark runs crawls with ``-s STATS_CLASS=benchmarks.stats.JsonStatsCollector``
and reads the numbers from that file instead of scraping the log. At close (after every
``spider_closed`` handler: the WARC writer has drained) it adds the CPU time the process
and its main thread, the reactor's, spent since the spider opened (``bench/cpu_process``,
``bench/cpu_main_thread``, seconds): the crawl's, without the imports and set-up before
it, which weigh on a short crawl and differ between the project and the null spider.
Also the voluntary context switches of both (``bench/waits_process``,
``bench/waits_main_thread``): a thread waiting for the interpreter lock, or for I/O, is
one; unlike time, their count hardly moves with the machine's load (issue 26).
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


def _waits(who: int) -> int:
    """Voluntary context switches so far: of the process (its threads, ended ones too) or
    of the calling thread."""
    return resource.getrusage(who).ru_nvcsw


class JsonStatsCollector(MemoryStatsCollector):
    """Scrapy's memory stats collector, plus a JSON dump of the stats at close."""

    _opened = (0.0, 0.0)  # (process, main thread) CPU seconds when the spider opened
    _opened_waits = (0, 0)  # (process, main thread) voluntary context switches then

    def open_spider(self, *args: Any, **kwargs: Any) -> None:
        super().open_spider(*args, **kwargs)
        self._opened = (_process_cpu(), time.thread_time())  # Scrapy opens in the reactor's
        self._opened_waits = (_waits(resource.RUSAGE_SELF), _waits(resource.RUSAGE_THREAD))

    def _persist_stats(self, stats: dict[str, Any]) -> None:
        stats["bench/cpu_process"] = _process_cpu() - self._opened[0]
        stats["bench/cpu_main_thread"] = time.thread_time() - self._opened[1]
        stats["bench/waits_process"] = _waits(resource.RUSAGE_SELF) - self._opened_waits[0]
        stats["bench/waits_main_thread"] = _waits(resource.RUSAGE_THREAD) - self._opened_waits[1]
        super()._persist_stats(stats)
        target = self._crawler.settings.get("BENCH_STATS_FILE")
        if target:
            Path(target).write_text(json.dumps(stats, default=str, indent=1), encoding="utf-8")
