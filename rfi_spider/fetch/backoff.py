"""Back-off on a host that blocks us: its download slot's delay raised exponentially while
it blocks (:class:`SlotBackoff`), and a ``Retry-After`` read in seconds.

:class:`~rfi_spider.fetch.middlewares.BlockedPagesMiddleware` raises and lowers it;
:class:`~rfi_spider.fetch.middlewares.RetryAfterMiddleware` reads ``Retry-After`` the same
way.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy.crawler import Crawler
from scrapy.http import Request, Response

from rfi_spider.config import RfiSettings

# The back-off's lines keep the name they had in the middlewares' module (the log's
# [name] and any logging set up for it stay the same).
logger = logging.getLogger("rfi_spider.fetch.middlewares")


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """A ``Retry-After`` header in seconds (delta-seconds or an HTTP date); None if unusable."""
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass
class Backoff:
    """One host's back-off: the delay imposed on its slot, and how we got there."""

    delay: float
    raised_at: float
    last_blocked: bool = True


class SlotBackoff:
    """Exponential back-off on a host's download slot while it blocks us.

    A block sets the slot's delay to at least ``RFI_BACKOFF_START`` seconds (and
    to a 429/503's ``Retry-After``); a block that follows a block multiplies it by
    ``RFI_BACKOFF_FACTOR``, up to ``RFI_BACKOFF_MAX_DELAY``. Every request to that
    host waits it. Answers to requests sent before the last raise count once: a
    burst is one block. Each page obtained divides the back-off by the factor;
    below the start value the slot returns to ``DOWNLOAD_DELAY``. AutoThrottle
    keeps adjusting the delay as usual.
    """

    def __init__(self, crawler: Crawler) -> None:
        config = RfiSettings.of(crawler)
        self.crawler = crawler
        self.stats = crawler.stats
        self.start = config.backoff_start
        self.factor = max(1.0, config.backoff_factor)
        self.max_delay = max(self.start, config.backoff_max_delay)
        self.retry_after_max = config.retry_after_max
        self.floor = crawler.settings.getfloat("DOWNLOAD_DELAY")
        self.hosts: dict[str, Backoff] = {}  # by download slot key

    def _slot(self, request: Request) -> tuple[str | None, Any]:
        key = request.meta.get("download_slot")
        if key is None:  # not through the downloader (never in a crawl)
            return None, None
        return key, self.crawler.engine.downloader.slots.get(key)

    def block(
        self, request: Request, response: Response | None, reason: str, escalate: bool = True
    ) -> None:
        """A blocked answer; ``escalate=False`` holds the delay at the start value at least."""
        key, slot = self._slot(request)
        if key is None:
            return
        now = time.monotonic()
        sent_at = now - float(request.meta.get("download_latency") or 0.0)
        state = self.hosts.get(key)
        if state is None:
            delay = self.start
        elif escalate and state.last_blocked and sent_at >= state.raised_at:
            delay = state.delay * self.factor
        else:
            delay = max(state.delay, self.start)
        headers = response.headers if response is not None else {}
        wait = retry_after_seconds(headers.get("Retry-After"))
        if wait is not None:
            delay = max(delay, min(wait, self.retry_after_max))
        delay = min(delay, self.max_delay)
        if state is None or delay > state.delay:
            self.hosts[key] = Backoff(delay, raised_at=now)
            self.stats.inc_value("rfi/backoff/raised")
            self.stats.max_value("rfi/backoff/max_delay", math.ceil(delay))
            logger.info(
                "%s answered %s: one request every %.1f s to %s for now",
                request.url,
                reason,
                delay,
                key,
            )
        else:
            state.last_blocked = True
        if slot is not None and slot.delay < delay:
            slot.delay = delay

    def recover(self, request: Request) -> None:
        """A page obtained: the back-off is divided by the factor."""
        key, slot = self._slot(request)
        state = self.hosts.get(key) if key is not None else None
        if key is None or state is None:
            return
        previous = state.delay
        state.delay = previous / self.factor
        state.last_blocked = False
        if state.delay < self.start or self.factor == 1.0:
            del self.hosts[key]
            target = self.floor
            self.stats.inc_value("rfi/backoff/recovered")
            logger.info("%s answers again: back to the normal pace", key)
        else:
            target = max(state.delay, self.floor)
        # Lower the delay only if it is ours (AutoThrottle may hold it higher).
        if slot is not None and target < slot.delay <= previous:
            slot.delay = target
