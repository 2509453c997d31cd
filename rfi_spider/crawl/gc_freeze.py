"""The objects a crawl's start-up built, out of the cyclic garbage collector's walks while
the spider runs.

Once Scrapy, Twisted, lxml, Spidermon and the project are imported and the crawler is
built, the process holds about 150,000 objects the collector tracks (modules' functions
and classes, settings, compiled schemas...), nearly all of them alive until the process
ends. Each collection of the oldest generation walks every one of them again: in a
1,000-page crawl one such collection cost about 90 ms of the reactor's CPU, on a loaded
machine (issue 26), and a longer crawl makes one each time its live objects have grown by
a quarter. :class:`GcFreeze` moves the objects alive at the spider's opening to the
collector's permanent generation (:func:`gc.freeze`), which no collection walks, and puts
them back (:func:`gc.unfreeze`) when the last spider of the process closes.

What is freed is unchanged but for one thing: an object alive at the opening that becomes
cyclic garbage during the crawl is freed at the close instead (a start-up's objects that
die early, a one-time and bounded amount). A process that runs crawl after crawl unfreezes
at each last close, so no crawl keeps an earlier one's objects from the collector.
"""

from __future__ import annotations

import gc

from rfi_spider.crawl.process_wide import WhileAnySpiderOpen


class GcFreeze(WhileAnySpiderOpen):
    """Extension: :func:`gc.freeze` at the spider's opening, :func:`gc.unfreeze` after the
    last spider of the process closes (another crawl may still run on the objects frozen)."""

    def opened(self) -> None:
        gc.freeze()

    def last_closed(self) -> None:
        gc.unfreeze()
