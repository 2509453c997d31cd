"""The crawl's stats collector: Scrapy's, without the shim on its own attributes."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from scrapy.statscollectors import MemoryStatsCollector, StatsCollector
from scrapy.utils.test import get_crawler

from rfi_spider import settings as project_settings
from rfi_spider.crawl.stats import CrawlStats


def test_the_project_uses_it() -> None:
    crawler = get_crawler(settings_dict={"STATS_CLASS": project_settings.STATS_CLASS})
    assert type(crawler.stats) is CrawlStats


def test_the_same_stats_as_scrapys_collector() -> None:
    results = []
    for cls in (MemoryStatsCollector, CrawlStats):
        stats = cls(get_crawler())
        stats.set_value("a", 1)
        stats.inc_value("a", 2)
        stats.inc_value("b")
        stats.max_value("c", 5)
        stats.max_value("c", 3)
        stats.min_value("d", 5)
        stats.min_value("d", 3)
        results.append((stats.get_stats(), stats.get_value("a"), stats.get_value("z", 0)))
    assert results[0] == results[1] == ({"a": 3, "b": 1, "c": 5, "d": 3}, 3, 0)


def test_a_spider_argument_is_still_warned_about() -> None:
    stats = CrawlStats(get_crawler())
    with pytest.warns(Warning, match="spider"):
        stats.inc_value("a", spider=object())
    assert stats.get_value("a") == 1


# Each method: its arguments, then the same with a spider passed by position.
CALLS = [
    ("get_value", ("a",), ("a", 0, None)),
    ("get_stats", (), (None,)),
    ("set_value", ("a", 1), ("a", 1, None)),
    ("set_stats", ({},), ({}, None)),
    ("inc_value", ("a",), ("a", 1, 0, None)),
    ("max_value", ("a", 1), ("a", 1, None)),
    ("min_value", ("a", 1), ("a", 1, None)),
    ("clear_stats", (), (None,)),
    ("open_spider", (), (None,)),
]


@pytest.mark.parametrize(("method", "args", "positional"), CALLS)
def test_the_same_warnings_as_scrapys_shim(method: str, args: tuple, positional: tuple) -> None:
    """A ``spider`` argument by name (None too) or by position is warned about, with
    Scrapy's category and message, pointing at the caller's line; none is warned about
    without it."""
    caught = {}
    for cls in (MemoryStatsCollector, CrawlStats):
        stats = cls(get_crawler())
        with warnings.catch_warnings(record=True) as records:
            warnings.simplefilter("always")
            getattr(stats, method)(*args)
            getattr(stats, method)(*args, spider=None)
            getattr(stats, method)(*positional)
        caught[cls] = [(r.category, str(r.message), r.filename) for r in records]
    assert caught[CrawlStats] == caught[MemoryStatsCollector]
    assert len(caught[CrawlStats]) == 2
    assert {filename for _, _, filename in caught[CrawlStats]} == {__file__}


def test_no_attribute_read_goes_through_the_shim(monkeypatch: pytest.MonkeyPatch) -> None:
    """An update reads neither the method nor the collector's ``_stats`` through Scrapy's
    shim (Scrapy's own collector does both)."""
    seen: list[str] = []
    shim = StatsCollector.__getattribute__

    def counted(self: Any, name: str) -> Any:
        seen.append(name)
        return shim(self, name)

    monkeypatch.setattr(StatsCollector, "__getattribute__", counted)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for cls in (MemoryStatsCollector, CrawlStats):
            stats = cls(get_crawler())
            seen.clear()
            stats.inc_value("a")
            assert stats.get_value("a") == 1
            if cls is CrawlStats:
                assert seen == []
            else:
                assert "_stats" in seen
