"""The article window of a distributed crawl: takeovers at idle, and what a node gives up."""

from __future__ import annotations

from types import SimpleNamespace

from redisserver import RedisServer
from scrapy import Request, Spider
from scrapy.utils.test import get_crawler

from rfi_spider.archive.redis_state import RedisState
from rfi_spider.crawl.distributed.node import TAKEOVER, SharedCrawl
from rfi_spider.crawl.distributed.spider_state import SharedFrontier, SharedPending
from rfi_spider.crawl.redis_codec import encode_request
from rfi_spider.crawl.scope import Scope
from rfi_spider.editions import CN
from rfi_spider.spiders.rfi_cn import RfiCnSpider

URL = "https://www.rfi.fr/cn/国际/20240307-瑞典正式加入北约"
OTHER = "https://www.rfi.fr/cn/中国/20240308-两会"
SCOPE = Scope(CN)


def window(server: RedisServer, node: str = "b") -> tuple[SharedFrontier, RedisState]:
    state = RedisState(server.client(), "rfi", "crawl", node, 60_000)
    shared = SharedCrawl(get_crawler(RfiCnSpider), state)
    failures = Failures(given_up=set())
    return SharedFrontier(shared, SharedPending(shared), None, failures, SCOPE, 10), state


class Failures:
    """The failures table's given-up check, on a set (this node gave these up)."""

    def __init__(self, given_up: set[str]) -> None:
        self.given_up = given_up

    def gave_up(self, url: str) -> bool:
        return url in self.given_up

    def skipped(self, url: str) -> str:
        return "HTTP 404"


def test_at_idle_articles_nobody_works_on_are_taken_over(redis_server: RedisServer) -> None:
    articles, state = window(redis_server)
    other = RedisState(redis_server.client(), "rfi", "crawl", "a", 60_000)
    state.add_pending([URL, OTHER])
    other.claim(OTHER)  # a live node works on it
    articles.idle()
    handed = list(articles.hand_out())
    assert handed == [(URL, True)]  # a takeover: past the dupefilter (REFETCH)
    assert list(articles.hand_out()) == []  # once per idle


def test_an_article_this_node_gave_up_leaves_the_queue(redis_server: RedisServer) -> None:
    """Otherwise every node, having given it up, would wait for it forever."""
    articles, state = window(redis_server)
    state.add_pending([URL])
    articles.failures.given_up.add(URL)
    articles.idle()
    assert list(articles.hand_out()) == []
    assert state.pending_count() == 0


def test_urls_found_first_here_are_requested_at_once(redis_server: RedisServer) -> None:
    articles, state = window(redis_server)
    RedisState(redis_server.client(), "rfi", "crawl", "a", 60_000).add_pending([OTHER])
    articles.queue([URL, OTHER])  # OTHER: node a found it first, its request is queued
    assert list(articles.hand_out()) == [(URL, False)]
    assert state.pending_count() == 2


def test_a_node_whose_claim_was_taken_over_leaves_the_article_queued(
    redis_server: RedisServer,
) -> None:
    """Its lease ran out and another node took the article: that node's work, not done."""
    articles, state = window(redis_server)
    state.add_pending([URL])
    articles.shared.held[URL] = "b:expired"  # this node's claim, long gone
    RedisState(redis_server.client(), "rfi", "crawl", "a", 60_000).claim(URL)
    articles.finished(URL, produced_item=False)
    assert state.pending_count() == 1
    articles.shared.held[OTHER] = state.claim(OTHER) or ""
    state.add_pending([OTHER])
    articles.finished(OTHER, produced_item=False)  # its own claim: done
    assert state.pending_count() == 1 and state.holder(OTHER) is None


def test_a_page_never_read_is_given_up_after_three_takeovers(redis_server: RedisServer) -> None:
    """A page whose reading never ends (no answer, no error) must not keep nodes waiting."""
    articles, state = window(redis_server)
    state.add_page("p1", b"never decoded: given up first")
    for _ in range(3):
        state.count_takeover("p1")
    assert articles.shared.page_takeovers(spider=None) == 0
    assert not state.page_pending("p1")
    assert articles.shared.crawler.stats.get_value("rfi/redis/pages_given_up") == 1


def test_a_page_is_taken_over_three_times_and_given_up_on_the_fourth(
    redis_server: RedisServer,
) -> None:
    """MAX_PAGE_TAKEOVERS: taken over 3 times (each re-queued), given up on the 4th."""
    articles, state = window(redis_server)
    shared = articles.shared
    queued: list[Request] = []
    shared.crawler.engine = SimpleNamespace(crawl=queued.append)
    spider = Spider("rfi_cn")
    state.add_page("p1", encode_request(Request(URL, meta={"rfi_page": "p1"}), spider))
    assert [shared.page_takeovers(spider) for _ in range(3)] == [1, 1, 1]
    assert len(queued) == 3 and all(r.meta[TAKEOVER] for r in queued)
    assert state.page_pending("p1")
    assert shared.crawler.stats.get_value("rfi/redis/pages_given_up") is None
    assert shared.page_takeovers(spider) == 0  # the 4th: given up
    assert len(queued) == 3 and not state.page_pending("p1")
    assert shared.crawler.stats.get_value("rfi/redis/pages_given_up") == 1
    assert shared.crawler.stats.get_value("rfi/redis/takeovers/pages") == 3
