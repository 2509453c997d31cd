"""The frontier on its own: each URL checked once, at most ``size`` out, what an interrupted
run left checked when it is handed out, items taking their article off the queue."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from scrapy.crawler import Crawler
from scrapy.utils.test import get_crawler

from rfi_spider.archive.failures import FailedArticles
from rfi_spider.archive.state import PendingArticles, SeenStore
from rfi_spider.crawl.frontier import Frontier
from rfi_spider.crawl.scope import Scope
from rfi_spider.editions import CN
from rfi_spider.items import ArticleItem

ROOT = "https://www.rfi.fr/cn/%E5%9B%BD%E9%99%85/"
A, B, C = (f"{ROOT}2024030{n}-a{n}" for n in (7, 8, 9))
PLAIN = Scope(CN)  # a plain run of /cn
TW = "https://www.rfi.fr/tw/%E5%9C%8B%E9%9A%9B/20240307-a"


class State:
    """A state folder's store, pending queue and failures table, for one run."""

    def __init__(self, folder: Path) -> None:
        self.seen = SeenStore(folder / "seen.sqlite3")
        self.pending = PendingArticles(self.seen, folder)
        self.failures = FailedArticles(self.seen, max_attempts=1)

    def frontier(self, crawler: Crawler, scope: Scope = PLAIN, size: int = 10) -> Frontier:
        return Frontier(self.pending, self.seen, self.failures, scope, size, crawler)

    def close(self) -> None:
        self.pending.close()
        self.seen.close()


@pytest.fixture
def state(tmp_path: Path) -> Iterator[State]:
    made = State(tmp_path)
    yield made
    made.close()


@pytest.fixture
def crawler() -> Crawler:
    return get_crawler()


def test_each_url_is_checked_once_and_skips_are_counted(state: State, crawler: Crawler) -> None:
    state.seen.add(B, "test")  # exported by an earlier run
    state.failures.record(C, "HTTP 404")  # given up (max_attempts 1)
    frontier = state.frontier(crawler)
    frontier.add([A, A, B, C, TW])
    frontier.add([A])  # found again: not counted again
    assert list(frontier.hand_out()) == [(A, False)]
    stats = crawler.stats
    assert stats.get_value("rfi/articles/found") == 3
    assert stats.get_value("rfi/skipped/already_exported") == 1
    assert stats.get_value("rfi/skipped/other_edition") == 1
    assert stats.get_value("rfi/gave_up") == 1


def test_a_backfill_skips_urls_dated_outside_its_range(state: State, crawler: Crawler) -> None:
    scope = Scope(CN, since=date(2024, 3, 9), until=date(2024, 3, 9))
    frontier = state.frontier(crawler, scope)
    frontier.add([A, B, C])  # A: two days before; B: a day of slack
    assert [url for url, _ in frontier.hand_out()] == [B, C]
    assert crawler.stats.get_value("rfi/skipped/out_of_range") == 1


def test_at_most_size_urls_are_out(state: State, crawler: Crawler) -> None:
    frontier = state.frontier(crawler, size=2)
    frontier.add([A, B, C])
    assert [url for url, _ in frontier.hand_out()] == [A, B]
    assert list(frontier.hand_out()) == []  # full
    frontier.finished(A, produced_item=False)
    assert [url for url, _ in frontier.hand_out()] == [C]


def test_what_an_interrupted_run_left_is_checked_when_handed_out(
    tmp_path: Path, crawler: Crawler
) -> None:
    killed = State(tmp_path)
    killed.pending.add([A, B, C, TW])
    killed.pending.take(4)
    killed.pending._lock_path.unlink()  # the run died: its lock is gone
    killed.seen.close()
    rerun = State(tmp_path)
    try:
        rerun.seen.add(A, "test")  # exported since (the killed run's item was written)
        rerun.failures.record(C, "HTTP 404")  # given up
        frontier = rerun.frontier(crawler)
        assert list(frontier.hand_out()) == [(B, True)]
        assert crawler.stats.get_value("rfi/skipped/already_exported") == 1
        assert crawler.stats.get_value("rfi/gave_up") == 1
        frontier.finished(B, produced_item=False)
        assert rerun.pending.finish() == 0
        assert len(rerun.pending) == 0  # TW left for rfi_tw's next run; A and C done
    finally:
        rerun.close()


def test_an_item_under_another_url_takes_both_off_the_queue(state: State, crawler: Crawler) -> None:
    frontier = state.frontier(crawler)
    frontier.add([A])
    list(frontier.hand_out())
    frontier.item_for(A, B)  # A redirected to B
    frontier.finished(A, produced_item=True)
    assert frontier.item_done(ArticleItem(url=B)) == [B, A]
    assert frontier.settle() == 0
    assert frontier.item_done({"url": A}) == []  # not an article's item
