"""Extensions that change something for the whole process while any of its spiders runs.

A process can run several crawls (``CrawlerProcess`` with two spiders, the tests): a
process-wide change (the collector's frozen objects, the loggers' levels) is made at
each spider's opening and undone only after the last open spider of the process has
closed, since another crawl may still rely on it.
"""

from __future__ import annotations

from typing import ClassVar, Self

from scrapy import signals
from scrapy.crawler import Crawler


class WhileAnySpiderOpen:
    """Base extension: :meth:`opened` at each spider's opening, :meth:`last_closed` once no
    spider of the process that uses the same subclass is open any more."""

    _open: ClassVar[list[WhileAnySpiderOpen]] = []

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls._open = []  # each subclass counts its own open crawls

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls()
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self) -> None:
        self._open.append(self)
        self.opened()

    def spider_closed(self) -> None:
        if self in self._open:
            self._open.remove(self)
        if not self._open:
            self.last_closed()

    def opened(self) -> None:
        """The change, made at each opening."""

    def last_closed(self) -> None:
        """Undo it: no spider of the process is open any more."""
