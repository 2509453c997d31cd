"""GcFreeze: the start-up's objects out of the collector's walks while a spider runs, back
in them after the last spider of the process closes."""

from __future__ import annotations

import gc
import weakref

from scrapy.utils.project import get_project_settings

from rfi_spider.crawl.gc_freeze import GcFreeze


class Cycle:
    """An object in a reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_objects_alive_at_the_opening_are_not_walked_until_the_close() -> None:
    gc.unfreeze()
    freeze = GcFreeze()
    freeze.spider_opened()
    try:
        assert gc.get_freeze_count() > 0
        survivor = Cycle()  # made during the crawl: collected as ever
        alive = [obj for obj in gc.get_objects() if obj is survivor]
        assert alive  # tracked in a generation the collections walk
        del alive, survivor
    finally:
        freeze.spider_closed()
    assert gc.get_freeze_count() == 0


def test_cyclic_garbage_of_the_crawl_is_collected_while_it_runs() -> None:
    freeze = GcFreeze()
    freeze.spider_opened()
    try:
        made = weakref.ref(Cycle())  # garbage made during the crawl
        gc.collect()
        assert made() is None
    finally:
        freeze.spider_closed()


def test_garbage_frozen_at_the_opening_is_freed_at_the_last_close() -> None:
    gc.unfreeze()
    gc.collect()
    first, second = GcFreeze(), GcFreeze()
    left = weakref.ref(Cycle())  # garbage, not yet collected, at the opening
    first.spider_opened()
    second.spider_opened()
    gc.collect()
    assert left() is not None  # frozen: no collection walks it
    first.spider_closed()
    assert gc.get_freeze_count() > 0  # the other crawl still runs on them
    gc.collect()
    assert left() is not None
    second.spider_closed()
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert left() is None


def test_the_project_enables_it() -> None:
    extensions = get_project_settings().getdict("EXTENSIONS")
    assert "rfi_spider.crawl.gc_freeze.GcFreeze" in extensions
