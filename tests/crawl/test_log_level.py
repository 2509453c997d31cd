"""LogLevelFloor: no DEBUG record made when no handler takes it; every handler gets the same."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from scrapy.utils.project import get_project_settings

from rfi_spider.crawl.log_level import LogLevelFloor, level_floors


class Collect(logging.Handler):
    """A handler that keeps what it receives."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def scrapy_logging() -> Iterator[Collect]:
    """Logging as the ``scrapy`` command leaves it: the root at NOTSET with one handler at
    INFO (pytest's capture handlers, which take everything, off meanwhile), ``scrapy`` at
    DEBUG. Entered in the test itself: pytest adds its handlers around the test's call."""
    handler = Collect(logging.INFO)
    root, scrapy_logger = logging.root, logging.getLogger("scrapy")
    saved = (root.handlers, root.level, scrapy_logger.level)
    root.handlers = [handler]
    root.setLevel(logging.NOTSET)
    scrapy_logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.handlers = saved[0]
        root.setLevel(saved[1])
        scrapy_logger.setLevel(saved[2])


def log_all(name: str) -> None:
    logger = logging.getLogger(name)
    logger.debug("debug %s", name)
    logger.info("info %s", name)
    logger.warning("warning %s", name)


def received(handler: Collect) -> list[tuple[str, str]]:
    return [(record.name, record.getMessage()) for record in handler.records]


def test_no_debug_record_is_made_while_the_spider_runs() -> None:
    floor = LogLevelFloor()
    with scrapy_logging() as handler:
        floor.spider_opened()
        try:
            for name in ("rfi_spider.archive.pipelines", "scrapy.core.engine"):
                assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name
                assert logging.getLogger(name).isEnabledFor(logging.INFO), name
            log_all("scrapy.core.scraper")
            log_all("rfi_spider.x")
        finally:
            floor.spider_closed()
        # put back at the close
        assert logging.root.level == logging.NOTSET
        assert logging.getLogger("scrapy").level == logging.DEBUG
    assert received(handler) == [
        ("scrapy.core.scraper", "info scrapy.core.scraper"),
        ("scrapy.core.scraper", "warning scrapy.core.scraper"),
        ("rfi_spider.x", "info rfi_spider.x"),
        ("rfi_spider.x", "warning rfi_spider.x"),
    ]


def test_a_handler_that_takes_everything_keeps_the_levels() -> None:
    everything = Collect(logging.NOTSET)  # a test's capture, a user's own set-up
    floor = LogLevelFloor()
    with scrapy_logging():
        logging.root.addHandler(everything)
        floor.spider_opened()
        try:
            assert logging.getLogger("scrapy.core.engine").isEnabledFor(logging.DEBUG)
            assert logging.getLogger("rfi_spider.x").isEnabledFor(logging.DEBUG)
            log_all("rfi_spider.x")
        finally:
            floor.spider_closed()
    assert [r.getMessage() for r in everything.records] == [
        "debug rfi_spider.x",
        "info rfi_spider.x",
        "warning rfi_spider.x",
    ]


def test_a_logger_with_its_own_debug_handler_keeps_its_debug(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A logger that does not propagate, with a DEBUG handler: the root decides its level,
    so the root goes no higher than DEBUG; a logger whose only handler is a NullHandler
    counts only what reaches the root."""
    own = logging.getLogger("test_log_level.own")
    mine = Collect(logging.DEBUG)
    monkeypatch.setattr(own, "handlers", [mine])
    monkeypatch.setattr(own, "propagate", False)
    quiet = logging.getLogger("test_log_level.quiet")
    monkeypatch.setattr(quiet, "handlers", [logging.NullHandler()])
    floor = LogLevelFloor()
    with scrapy_logging():
        floors = level_floors()
        assert floors[logging.root] == logging.DEBUG
        assert floors[logging.getLogger("scrapy")] == logging.INFO  # no DEBUG handler under it
        floor.spider_opened()
        try:
            log_all("test_log_level.own")
        finally:
            floor.spider_closed()
    assert [r.getMessage() for r in mine.records] == [
        "debug test_log_level.own",
        "info test_log_level.own",
        "warning test_log_level.own",
    ]


def test_a_level_changed_meanwhile_is_left_as_it_is() -> None:
    floor = LogLevelFloor()
    with scrapy_logging():
        floor.spider_opened()
        logging.root.setLevel(logging.WARNING)  # someone else's change
        floor.spider_closed()
        assert logging.root.level == logging.WARNING
        assert logging.getLogger("scrapy").level == logging.DEBUG


def test_the_project_enables_it() -> None:
    extensions = get_project_settings().getdict("EXTENSIONS")
    assert "rfi_spider.crawl.log_level.LogLevelFloor" in extensions


def test_a_later_crawl_that_logs_debug_gets_it_and_the_last_close_puts_back() -> None:
    """Two crawlers in one process: the second one's LOG_LEVEL=DEBUG (Scrapy's handler,
    reinstalled at its level) puts back what the first one raised; the levels stay until
    the last one closes."""
    first, second = LogLevelFloor(), LogLevelFloor()
    with scrapy_logging() as handler:
        first.spider_opened()
        assert not logging.getLogger("scrapy.core.engine").isEnabledFor(logging.DEBUG)
        handler.setLevel(logging.DEBUG)
        second.spider_opened()
        assert logging.getLogger("scrapy.core.engine").isEnabledFor(logging.DEBUG)
        first.spider_closed()
        log_all("scrapy.core.scraper")
        second.spider_closed()
        assert logging.root.level == logging.NOTSET
        assert logging.getLogger("scrapy").level == logging.DEBUG
    assert received(handler)[0] == ("scrapy.core.scraper", "debug scrapy.core.scraper")
