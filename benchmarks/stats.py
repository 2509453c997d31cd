"""A stats collector that also writes the final stats as JSON (``BENCH_STATS_FILE``).

The benchmark runs crawls with ``-s STATS_CLASS=benchmarks.stats.JsonStatsCollector``
and reads the numbers from that file instead of scraping the log. At close (after every
``spider_closed`` handler: the WARC writer has drained) it adds the CPU time the process
and its main thread, the reactor's, spent since the spider opened (``bench/cpu_process``,
``bench/cpu_main_thread``, seconds): the crawl's, without the imports and set-up before
it, which weigh on a short crawl and differ between the project and the null spider.
Also the voluntary context switches of both (``bench/waits_process``,
``bench/waits_main_thread``): a thread waiting for the interpreter lock, or for I/O, is
one; unlike time, their count hardly moves with the machine's load (issue 26). And how
long the main thread was ready to run but waited for a core (``bench/run_delay_main_thread``,
seconds, from ``/proc/thread-self/schedstat``) and how often it was preempted
(``bench/preempted_main_thread``, involuntary context switches): the share of the cores the
reactor did not get, from the machine's load or from the crawl's own child processes.

The null spider's is :class:`JsonStatsCollector`, on Scrapy's own collector; the project's
crawls use :class:`CrawlJsonStats`, on the project's (``STATS_CLASS``,
``rfi_spider/crawl/stats.py``), so that each is timed with the collector it runs with.
"""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path
from typing import Any

from scrapy.statscollectors import MemoryStatsCollector

from rfi_spider.crawl.stats import CrawlStats


def _process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _run_delay() -> float:
    """Seconds the calling thread has waited on a run queue (0 where not Linux)."""
    try:
        with open("/proc/thread-self/schedstat", encoding="ascii") as schedstat:
            return int(schedstat.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def _waits(who: int) -> int:
    """Voluntary context switches so far: of the process (its threads, ended ones too) or
    of the calling thread."""
    return resource.getrusage(who).ru_nvcsw


class JsonStats:
    """A JSON dump of the stats at close, with the CPU figures: mixed into a collector."""

    _opened = (0.0, 0.0)  # (process, main thread) CPU seconds when the spider opened
    _opened_waits = (0, 0)  # (process, main thread) voluntary context switches then
    _opened_delay = (0.0, 0)  # the main thread's run delay and involuntary switches then

    _crawler: Any

    def open_spider(self, *args: Any, **kwargs: Any) -> None:
        super().open_spider(*args, **kwargs)  # type: ignore[misc]
        self._opened = (_process_cpu(), time.thread_time())  # Scrapy opens in the reactor's
        self._opened_waits = (_waits(resource.RUSAGE_SELF), _waits(resource.RUSAGE_THREAD))
        self._opened_delay = (_run_delay(), resource.getrusage(resource.RUSAGE_THREAD).ru_nivcsw)

    def _persist_stats(self, stats: dict[str, Any]) -> None:
        stats["bench/cpu_process"] = _process_cpu() - self._opened[0]
        stats["bench/cpu_main_thread"] = time.thread_time() - self._opened[1]
        stats["bench/waits_process"] = _waits(resource.RUSAGE_SELF) - self._opened_waits[0]
        stats["bench/waits_main_thread"] = _waits(resource.RUSAGE_THREAD) - self._opened_waits[1]
        stats["bench/run_delay_main_thread"] = _run_delay() - self._opened_delay[0]
        preempted = resource.getrusage(resource.RUSAGE_THREAD).ru_nivcsw - self._opened_delay[1]
        stats["bench/preempted_main_thread"] = preempted
        super()._persist_stats(stats)  # type: ignore[misc]
        target = self._crawler.settings.get("BENCH_STATS_FILE")
        if target:
            Path(target).write_text(json.dumps(stats, default=str, indent=1), encoding="utf-8")


class JsonStatsCollector(JsonStats, MemoryStatsCollector):
    """Scrapy's memory stats collector, plus a JSON dump of the stats at close."""


class CrawlJsonStats(JsonStats, CrawlStats):
    """The project's stats collector, plus a JSON dump of the stats at close."""
