"""What a distributed crawl reads from Redis is data, never code: requests are JSON.

A pickle planted in the crawl's request queue or among its pages (whose unpickling would
create a file) is never unpickled: it is skipped and counted (``rfi/redis/bad_value``).
"""

from __future__ import annotations

import pickle
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from redisserver import RedisServer
from scrapy import Request, Spider
from scrapy.http import JsonRequest
from scrapy.utils.test import get_crawler

from rfi_spider import meta_keys
from rfi_spider.archive.redis_state import RedisState
from rfi_spider.crawl.distributed.node import SharedCrawl
from rfi_spider.crawl.redis_codec import (
    BadValueError,
    RequestQueue,
    UnencodableError,
    decode_request,
    dumps,
    encode_request,
    loads,
)
from rfi_spider.spiders.rfi_cn import RfiCnSpider

URL = "https://www.rfi.fr/cn/国际/20240307-瑞典正式加入北约"


class Planted:
    """Unpickled, creates the file ``path`` (what an attacker's payload would do)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.path), "w"))


class CodecSpider(Spider):
    name = "rfi_cn"

    def parse_article(self, response: Any, site_url: str) -> None:
        """A callback, as the project's spiders have."""

    def on_error(self, failure: Any) -> None:
        """An errback."""


@pytest.fixture
def spider() -> CodecSpider:
    return CodecSpider()


def test_the_projects_requests_go_through_json_and_back(spider: CodecSpider) -> None:
    article = Request(
        URL,
        callback=spider.parse_article,
        errback=spider.on_error,
        cb_kwargs={"site_url": URL, "month": date(2024, 3, 1), "pair": (1, "a")},
        meta={meta_keys.KIND: "article", "redirect_urls": [URL], "download_maxsize": 5},
        headers={"Referer": "https://www.rfi.fr/cn/"},
        body=b"\x00\xff bytes",
        priority=3,
        dont_filter=True,
    )
    data = encode_request(article, spider)
    assert data.startswith(b"{") and b"\\u0000" in data  # JSON text, readable in redis-cli
    back = decode_request(data, spider)
    assert back.to_dict(spider=spider) == article.to_dict(spider=spider)
    assert back.cb_kwargs["month"] == date(2024, 3, 1) and back.cb_kwargs["pair"] == (1, "a")
    assert back.callback == spider.parse_article and back.body == b"\x00\xff bytes"
    form = decode_request(encode_request(JsonRequest(URL, data={"a": 1}), spider), spider)
    assert type(form) is JsonRequest


def test_a_request_holding_live_objects_is_not_encoded(spider: CodecSpider) -> None:
    with pytest.raises(UnencodableError):
        encode_request(Request(URL, meta={"document": object()}), spider)
    with pytest.raises(UnencodableError):
        dumps({"score": float("nan")})


@pytest.mark.parametrize(
    "data",
    [
        pickle.dumps({"url": URL}),  # a pickle, even of plain data
        b"\x80\x04not json",
        b'"a string"',
        b'{"url": "https://www.rfi.fr/cn/"}',  # an object that is not a tag
        b'{"dict": [["url", "https://www.rfi.fr/cn/"], ["callback", "__class__"]]}',
        b'{"dict": [["url", "https://www.rfi.fr/cn/"], ["callback", "settings"]]}',
        b'{"dict": [["url", "https://www.rfi.fr/cn/"], ["_class", "os.system"]]}',
        b'{"dict": [["url", "https://www.rfi.fr/cn/"], ["_class", "no_such_module.Request"]]}',
        b'{"dict": [["url", "https://www.rfi.fr/cn/"], ["priority", "high"]]}',
        b'{"dict": [[["unhashable"], 1]]}',
        b'{"bytes": "\\u4e2d"}',  # not a latin-1 byte string
        b"[" * 100_000 + b"]" * 100_000,  # json's RecursionError
    ],
)
def test_a_value_that_is_not_a_request_of_ours_is_refused(data: bytes, spider: CodecSpider) -> None:
    with pytest.raises(BadValueError):
        decode_request(data, spider)


def test_a_module_named_in_a_value_is_never_imported(spider: CodecSpider) -> None:
    import sys

    data = b'{"dict": [["url", "https://www.rfi.fr/cn/"], ["_class", "this.Request"]]}'
    with pytest.raises(BadValueError):
        decode_request(data, spider)
    assert "this" not in sys.modules  # importing it would print the Zen of Python


def test_loads_takes_back_what_dumps_writes() -> None:
    value = {"k": [b"\x01", (2, None), {b"h": [b"v"]}, 1.5, True, date(2024, 1, 2)]}
    assert loads(dumps(value)) == value


def test_a_pickle_planted_in_the_request_queue_is_never_unpickled(
    redis_server: RedisServer, tmp_path: Path, spider: CodecSpider
) -> None:
    marker = tmp_path / "pwned"
    client = redis_server.client()
    queue = RequestQueue(client, spider, "rfi:%(spider)s:requests")
    client.zadd("rfi:rfi_cn:requests", {pickle.dumps(Planted(marker)): 0})
    queue.push(Request(URL, callback=spider.parse_article, priority=-1))
    with pytest.raises(BadValueError):
        queue.pop()  # the planted value comes first (priority): off the queue, not run
    assert queue.pop().url == Request(URL).url  # the crawl goes on with the next one
    assert not marker.exists()
    assert len(queue) == 0


def test_a_pickle_planted_among_the_pages_is_skipped_and_counted(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """At idle a node takes over the pages no node reads: a planted one is never run,
    leaves the crawl's pages (nobody waits for it) and is counted."""
    marker = tmp_path / "pwned"
    state = RedisState(redis_server.client(), "rfi", "crawl", "b", 60_000)
    crawler = get_crawler(RfiCnSpider)
    crawler.engine = SimpleNamespace(crawl=lambda request: None)
    shared = SharedCrawl(crawler, state)
    state.add_page("p1", pickle.dumps(Planted(marker)))
    assert shared.page_takeovers(spider=CodecSpider()) == 0
    assert not marker.exists()
    assert not state.page_pending("p1")
    assert crawler.stats.get_value("rfi/redis/bad_value") == 1
    assert crawler.stats.get_value("rfi/redis/takeovers/pages") is None
