"""The item pipelines' settings: what a response's output costs the reactor."""

from __future__ import annotations

import asyncio
import inspect

from scrapy.utils.misc import load_object
from scrapy.utils.project import get_project_settings


def test_few_item_tasks_a_response_as_the_pipelines_are_synchronous() -> None:
    # Scrapy starts CONCURRENT_ITEMS asyncio tasks for every response's output: its
    # default of 100 cost about 0.9 ms of the reactor's CPU a page (issue 26). A small
    # number loses nothing while no pipeline awaits anything.
    settings = get_project_settings()
    assert settings.getint("CONCURRENT_ITEMS") <= 8
    for path in settings.getwithbase("ITEM_PIPELINES"):
        pipeline = load_object(path)
        process_item = pipeline.process_item
        assert not inspect.iscoroutinefunction(process_item), path
        assert not asyncio.iscoroutinefunction(process_item), path
