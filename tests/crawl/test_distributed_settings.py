"""Distributed mode is opt-in: the add-on changes nothing without REDIS_URL."""

from __future__ import annotations

import pytest
from scrapy.settings import Settings

from rfi_spider import settings as project
from rfi_spider.archive.redis_state import SharedCrawlError
from rfi_spider.crawl.distributed import (
    SharedCrawlAddon,
    check_arguments,
    crawl_config,
    preflight,
    redacted,
)
from rfi_spider.spiders.rfi_cn import RfiCnSpider

SWITCHED = ("SCHEDULER", "DUPEFILTER_CLASS", "SCHEDULER_PERSIST", "ITEM_PIPELINES", "EXTENSIONS")


def project_settings(**cmdline: str) -> Settings:
    settings = Settings()
    settings.setmodule(project, priority="project")
    settings.update(cmdline, priority="cmdline")
    return settings


def test_without_redis_url_nothing_changes() -> None:
    settings = project_settings()
    before = {name: settings.get(name) for name in SWITCHED}
    SharedCrawlAddon().update_settings(settings)
    assert {name: settings.get(name) for name in SWITCHED} == before
    assert settings.get("DUPEFILTER_CLASS") == "rfi_spider.crawl.dupefilter.ResumableDupeFilter"
    preflight(RfiCnSpider, {}, settings)  # no Redis asked


def test_redis_url_switches_to_scrapy_redis() -> None:
    settings = project_settings(REDIS_URL="redis://127.0.0.1:6379/0", RFI_CRAWL_ID="c1")
    SharedCrawlAddon().update_settings(settings)
    assert settings["SCHEDULER"] == "rfi_spider.crawl.distributed.SharedScheduler"
    assert settings["DUPEFILTER_CLASS"] == "rfi_spider.crawl.distributed.SharedDupeFilter"
    assert settings.getbool("SCHEDULER_PERSIST")  # a finishing node leaves the queue be
    assert settings["SCHEDULER_QUEUE_KEY"] == "rfi:c1:requests"
    pipelines = settings.getdict("ITEM_PIPELINES")
    assert "rfi_spider.archive.pipelines.ArchivePipeline" not in pipelines
    assert pipelines["rfi_spider.archive.shared_export.SharedArchivePipeline"] == 800


def test_the_default_crawl_id_is_the_spiders_name() -> None:
    settings = project_settings(REDIS_URL="redis://127.0.0.1:6379/0")
    SharedCrawlAddon().update_settings(settings)
    assert settings["SCHEDULER_QUEUE_KEY"] == "rfi:%(spider)s:requests"  # scrapy-redis fills it


def test_a_crawl_id_with_other_characters_is_refused() -> None:
    settings = project_settings(REDIS_URL="redis://h:1/0", RFI_CRAWL_ID="a b%")
    with pytest.raises(SharedCrawlError, match="RFI_CRAWL_ID"):
        SharedCrawlAddon().update_settings(settings)


def test_the_demo_does_not_share_a_crawl() -> None:
    with pytest.raises(SharedCrawlError, match="demo"):
        check_arguments({"demo": "1"})
    check_arguments({"base_url": "http://127.0.0.1:8000"})


def test_nodes_agree_on_edition_layout_and_arguments() -> None:
    settings = project_settings()
    one = crawl_config("rfi_cn", "cn", {"since": "2024-03-01"}, settings)
    assert one == crawl_config("rfi_cn", "cn", {"since": "2024-03-01"}, settings)
    assert one != crawl_config("rfi_tw", "tw", {"since": "2024-03-01"}, settings)
    assert one != crawl_config("rfi_cn", "cn", {"since": "2024-03-02"}, settings)
    assert "items.jsonl" in one["layout"] and "schema" in one["layout"]


def test_a_password_is_never_shown() -> None:
    assert redacted("redis://:s3cret@10.0.0.5:6379/0") == "redis://:***@10.0.0.5:6379/0"
    assert redacted("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
