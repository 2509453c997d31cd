"""The per-host concurrency cap, kept when ``DOWNLOAD_DELAY`` is 0.

Under the asyncio reactor (which scrapy-playwright needs), Scrapy 2.19's downloader
hands a slot's queued requests to asyncio tasks, and a request counts against
``CONCURRENT_REQUESTS_PER_DOMAIN`` only once its task has started. With no delay, a
burst of requests all find the slot free: a plain spider with a cap of 2 had 4
requests in flight at once on loopback. With any delay the slot lets one request go
and waits, and the cap holds. So :class:`DelayFloor`, an add-on, turns a delay of 0
(the demo's, ``-s DOWNLOAD_DELAY=0``) into :data:`MIN_DOWNLOAD_DELAY`.
"""

from __future__ import annotations

import logging

from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

# Seconds: no slower than a thousand requests a second per host, and the cap holds.
MIN_DOWNLOAD_DELAY = 0.001


class DelayFloor:
    """Add-on: a ``DOWNLOAD_DELAY`` below :data:`MIN_DOWNLOAD_DELAY` becomes it, at the
    priority it was set with (a ``-s`` value too)."""

    def update_settings(self, settings: BaseSettings) -> None:
        delay = settings.getfloat("DOWNLOAD_DELAY")
        if delay >= MIN_DOWNLOAD_DELAY:
            return
        priority = settings.getpriority("DOWNLOAD_DELAY") or 0
        settings.set("DOWNLOAD_DELAY", MIN_DOWNLOAD_DELAY, priority=priority)
        logger.info(
            "DOWNLOAD_DELAY %s runs as %s s: without a delay Scrapy does not hold"
            " CONCURRENT_REQUESTS_PER_DOMAIN",
            delay,
            MIN_DOWNLOAD_DELAY,
        )
