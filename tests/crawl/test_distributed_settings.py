"""Distributed mode is opt-in: the add-on changes nothing without REDIS_URL."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from redisserver import RedisServer, free_port
from scrapy.settings import Settings
from scrapy.utils.misc import load_object
from scrapy.utils.test import get_crawler
from twisted.internet.defer import succeed

from rfi_spider import settings as project
from rfi_spider.archive.redis_state import KeyTypeError, RedisState, SharedCrawlError
from rfi_spider.crawl.distributed.components import SharedCrawlAddon
from rfi_spider.crawl.distributed.config import (
    REDIS_BAD_KEY,
    check_arguments,
    crawl_config,
    preflight,
    redacted,
    scrubbed,
)
from rfi_spider.crawl.distributed.node import SharedCrawl
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
    assert settings["SCHEDULER"] == "rfi_spider.crawl.distributed.components.SharedScheduler"
    dupefilter = "rfi_spider.crawl.distributed.components.SharedDupeFilter"
    assert settings["DUPEFILTER_CLASS"] == dupefilter
    assert settings.getbool("SCHEDULER_PERSIST")  # a finishing node leaves the queue be
    assert settings["SCHEDULER_QUEUE_KEY"] == "rfi:c1:requests"
    pipelines = settings.getdict("ITEM_PIPELINES")
    assert "rfi_spider.archive.pipelines.ArchivePipeline" not in pipelines
    assert pipelines["rfi_spider.crawl.distributed.export.SharedArchivePipeline"] == 800


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


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://10.0.0.5:6379/0?password=s3cret", "redis://10.0.0.5:6379/0?password=***"),
        (
            "redis://10.0.0.5/0?username=ops&password=s3cret&db=2",
            "redis://10.0.0.5/0?username=***&password=***&db=2",
        ),
        ("rediss://h/0?ssl_password=s3cret", "rediss://h/0?ssl_password=***"),
        ("redis://ops:s3cret@h:6379/0", "redis://ops:***@h:6379/0"),
        ("redis://[h:6379/0?password=s3cret", "redis:*** (not a valid URL)"),
    ],
)
def test_a_password_in_the_query_is_never_shown(url: str, shown: str) -> None:
    assert redacted(url) == shown
    assert scrubbed("AUTH s3cret: invalid password", url) == "AUTH ***: invalid password"


def test_an_unreachable_redis_names_no_password_of_the_query() -> None:
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0?password=s3cret&username=ops"
    settings = project_settings(REDIS_URL=url, RFI_REDIS_TIMEOUT="5")
    with pytest.raises(SharedCrawlError) as error:
        preflight(RfiCnSpider, {}, settings)
    assert "s3cret" not in str(error.value) and "ops" not in str(error.value)
    assert f"cannot reach Redis at redis://127.0.0.1:{port}/0?password=***&username=***" in str(
        error.value
    )


def test_a_key_of_another_type_fails_the_preflight_as_a_configuration_fault(
    redis_server: RedisServer,
) -> None:
    redis_server.client().set("rfi:rfi_cn:requests", "another program's")
    settings = project_settings(REDIS_URL=redis_server.url)
    with pytest.raises(KeyTypeError, match="'rfi:rfi_cn:requests' is a string, not the zset"):
        preflight(RfiCnSpider, {}, settings)


def test_a_wrong_type_mid_crawl_is_not_redis_lost(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """WRONGTYPE from Redis names the key and its type; the finish reason says so."""
    client = redis_server.client()
    state = RedisState(client, "rfi", "rfi_cn", "a", 60_000)
    crawler = get_crawler(RfiCnSpider, {"REDIS_URL": redis_server.url})
    closed: list[str] = []
    crawler.engine = SimpleNamespace(
        close_spider_async=lambda reason: closed.append(reason) or succeed(None)
    )
    shared = SharedCrawl(crawler, state)
    client.rpush(state.pending_key, "a list, not a sorted set")
    pending = shared.pending.add(["https://www.rfi.fr/cn/a"])
    assert pending == [] and shared.stopped
    assert closed == [REDIS_BAD_KEY]
    assert "Redis lost" not in caplog.text
    assert "Redis key 'rfi:rfi_cn:pending' is a list, not the zset" in caplog.text
    assert crawler.stats.get_value("rfi/redis/wrong_type") == 1


@pytest.mark.parametrize(
    "name",
    [
        "SharedCrawlAddon",
        "SharedScheduler",
        "SharedDupeFilter",
        "SharedStart",
        "SharedPagesMiddleware",
        "SharedCrawlExtension",
    ],
)
def test_dotted_paths_from_before_the_split_still_load(name: str) -> None:
    """Settings and Scrapyd jobs written before crawl/distributed.py became a package name
    its components by the old dotted path: it loads the same class."""
    from rfi_spider.crawl.distributed import components

    assert load_object(f"rfi_spider.crawl.distributed.{name}") is getattr(components, name)
