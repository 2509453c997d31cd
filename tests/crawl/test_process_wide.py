"""The base of process-wide extensions: undone after the last open spider closes."""

from __future__ import annotations

from rfi_spider.crawl.process_wide import WhileAnySpiderOpen


def kinds() -> tuple[type[WhileAnySpiderOpen], type[WhileAnySpiderOpen], list[str]]:
    calls: list[str] = []

    class First(WhileAnySpiderOpen):
        def opened(self) -> None:
            calls.append("first opened")

        def last_closed(self) -> None:
            calls.append("first undone")

    class Second(WhileAnySpiderOpen):
        def last_closed(self) -> None:
            calls.append("second undone")

    return First, Second, calls


def test_undone_after_the_last_of_two_crawls() -> None:
    first, _, calls = kinds()
    one, two = first(), first()
    one.spider_opened()
    two.spider_opened()
    one.spider_closed()
    assert calls == ["first opened", "first opened"]  # the other crawl still runs
    two.spider_closed()
    assert calls == ["first opened", "first opened", "first undone"]


def test_each_kind_counts_its_own_crawls() -> None:
    """One crawl with two such extensions: closing it undoes both (one shared count would
    leave the second's instance open after the first closed)."""
    first, second, calls = kinds()
    a, b = first(), second()
    a.spider_opened()
    b.spider_opened()
    a.spider_closed()
    b.spider_closed()
    assert calls == ["first opened", "first undone", "second undone"]
