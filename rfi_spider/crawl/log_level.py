"""No log record made that no handler would take: while the spider runs, each logger that
sets a level (the root, Scrapy's ``scrapy``) is raised to the lowest level of the handlers
its records can reach.

Scrapy sets the root logger to ``NOTSET`` and its ``scrapy`` logger to ``DEBUG``, and
filters by ``LOG_LEVEL`` in its handlers (the log's and the ``log_count/*`` counter's):
with ``LOG_LEVEL=INFO`` every DEBUG call still builds a :class:`logging.LogRecord` (its
caller found on the stack, the time, the thread, the process) that no handler then
takes. A crawl makes three a page ("Crawled (200)", "Scraped from", "exported ... to"):
about 0.2 ms of the reactor's CPU a page (issue 26). :class:`LogLevelFloor` raises those
levels to :func:`level_floors`' at the spider's opening (after Scrapy installed its
handlers with the crawl's ``LOG_LEVEL``), so those calls stop at the level check; what
any handler receives is unchanged. A handler that takes every level (``NOTSET``: a
test's log capture, a user's own logging set-up) keeps the levels as they are. The
levels are put back when the spider closes (those nothing else changed meanwhile).
"""

from __future__ import annotations

import logging

from rfi_spider.crawl.process_wide import WhileAnySpiderOpen


def _loggers() -> list[logging.Logger]:
    manager = logging.Logger.manager
    return [
        logging.root,
        *(x for x in manager.loggerDict.values() if isinstance(x, logging.Logger)),
    ]


def _owner(logger: logging.Logger) -> logging.Logger:
    """The logger whose level is ``logger``'s effective level (itself, an ancestor, the root)."""
    node: logging.Logger | None = logger
    while node is not None:
        if node.level != logging.NOTSET:
            return node
        node = node.parent
    return logging.root


def _reached_floor(logger: logging.Logger) -> int:
    """The lowest level of the handlers a record of ``logger`` reaches (propagated up to a
    logger that does not propagate); when it reaches none, Python's last resort's (or
    ``NOTSET`` without one: left as it is). A ``NullHandler`` takes nothing."""
    levels: list[int] = []
    reached = False
    node: logging.Logger | None = logger
    while node is not None:
        for handler in node.handlers:
            reached = True
            if not isinstance(handler, logging.NullHandler):
                levels.append(handler.level)
        if not node.propagate:
            break
        node = node.parent
    if not reached:
        return logging.lastResort.level if logging.lastResort else logging.NOTSET
    return min(levels, default=logging.CRITICAL + 1)


def handler_floors() -> dict[logging.Logger, int]:
    """For each logger that decides a level (the root and those that set one), the lowest
    level of the handlers reached by the records of the loggers it decides for."""
    floors: dict[logging.Logger, int] = {}
    for logger in _loggers():
        owner = _owner(logger)
        floor = _reached_floor(logger)
        floors[owner] = min(floors.get(owner, floor), floor)
    return floors


def level_floors() -> dict[logging.Logger, int]:
    """The loggers whose :func:`handler_floors` is above their own level, with that floor:
    the level each can take without any handler receiving less."""
    return {owner: floor for owner, floor in handler_floors().items() if floor > owner.level}


# The levels raised, for every crawl of the process: logger -> (its level before, the one
# set). Put back when the last crawl closes, or at once when a later crawl's handlers want
# less (a crawler with LOG_LEVEL=DEBUG started in the same process: Scrapy's handler is one).
_RAISED: dict[logging.Logger, tuple[int, int]] = {}


class LogLevelFloor(WhileAnySpiderOpen):
    """Extension: :func:`level_floors` applied from the spider's opening to its closing."""

    def opened(self) -> None:
        floors = handler_floors()
        for logger, (before, raised) in list(_RAISED.items()):
            if logger.level == raised and floors.get(logger, logging.NOTSET) < raised:
                logger.setLevel(before)  # a handler now takes less: as it was
                del _RAISED[logger]
        for logger, floor in level_floors().items():
            before = _RAISED[logger][0] if logger in _RAISED else logger.level
            _RAISED[logger] = (before, floor)
            logger.setLevel(floor)

    def last_closed(self) -> None:
        for logger, (before, raised) in _RAISED.items():
            if logger.level == raised:
                logger.setLevel(before)
        _RAISED.clear()
