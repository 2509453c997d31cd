"""What a crawl is of: its edition, where the site is fetched from, its feed mirrors.

The spider settles these when it is built (from its arguments, the settings, an
archive's ``warcinfo`` for ``from_warc``, the demo's site) and registers them once on
the crawler; the components that need them (the WARC capture's ``warcinfo``, the Atom
exporter's feed) read them here, through the crawler, instead of reaching into the
spider's attributes.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from scrapy.crawler import Crawler

from rfi_spider.canonical import FetchRoot
from rfi_spider.editions import Edition

_TARGETS: weakref.WeakKeyDictionary[Crawler, CrawlTarget] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class CrawlTarget:
    """One crawl's edition, fetch root and feed mirrors (as requested)."""

    edition: Edition
    site: FetchRoot
    mirrors: tuple[str, ...] = ()

    def register(self, crawler: Crawler) -> None:
        """Make this the target of ``crawler``'s crawl (:meth:`of`)."""
        _TARGETS[crawler] = self

    @staticmethod
    def of(crawler: Crawler | None) -> CrawlTarget | None:
        """The target ``crawler``'s spider registered; None for a spider that registers
        none (not one of the project's) or no crawler."""
        return _TARGETS.get(crawler) if crawler is not None else None
