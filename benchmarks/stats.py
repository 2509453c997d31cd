"""A stats collector that also writes the final stats as JSON (``BENCH_STATS_FILE``).

The benchmark runs crawls with ``-s STATS_CLASS=benchmarks.stats.JsonStatsCollector``
and reads the numbers from that file instead of scraping the log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scrapy.statscollectors import MemoryStatsCollector


class JsonStatsCollector(MemoryStatsCollector):
    """Scrapy's memory stats collector, plus a JSON dump of the stats at close."""

    def _persist_stats(self, stats: dict[str, Any]) -> None:
        super()._persist_stats(stats)
        target = self._crawler.settings.get("BENCH_STATS_FILE")
        if target:
            Path(target).write_text(json.dumps(stats, default=str, indent=1), encoding="utf-8")
