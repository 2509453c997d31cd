"""Stand-ins for the spider's local state in distributed mode: the "already exported"
check, the pending queue and the article window, on the crawl's Redis state.

The :class:`typing.Protocol` classes say what the stand-ins offer the spider, the
window and the failure book (``archive/failures.py``), in place of forwarding everything."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

import redis

from rfi_spider.archive.failures import FailedArticles
from rfi_spider.archive.state import SeenStore
from rfi_spider.crawl.frontier import Frontier
from rfi_spider.crawl.scope import Scope

if TYPE_CHECKING:
    from rfi_spider.crawl.distributed.node import SharedCrawl

logger = logging.getLogger(__name__)


class ExportedCheck(Protocol):
    """The "already exported" check the article window makes before it hands out a URL."""

    def probably_known(self, url: str) -> bool: ...


class StateStore(ExportedCheck, Protocol):
    """The state store as the spider and the failure book (``archive/failures.py``) use
    it: :class:`~rfi_spider.archive.state.SeenStore` on one machine, :class:`SharedSeen`
    on several."""

    @property
    def db(self) -> sqlite3.Connection: ...

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...

    def __contains__(self, url: object) -> bool: ...

    def close(self) -> None: ...


class PendingQueue(Protocol):
    """The pending queue as the spider uses it: :class:`~rfi_spider.archive.state.
    PendingArticles` on one machine, :class:`SharedPending` on several."""

    @property
    def adopted(self) -> int: ...

    def done(self, url: str) -> None: ...

    def flush(self) -> None: ...

    def finish(self) -> int: ...

    def unanswered(self) -> list[str]: ...

    def close(self) -> None: ...


class SharedSeen:
    """The local state store, whose "already exported" check also asks Redis."""

    def __init__(self, local: SeenStore, shared: SharedCrawl) -> None:
        self._local = local
        self._shared = shared

    def probably_known(self, url: str) -> bool:
        """In this node's state, or marked exported in Redis (Redis lost: known, so
        that nothing more is requested)."""
        if self._local.probably_known(url):
            return True
        if self._shared.stopped:
            return True
        try:
            return self._shared.state.is_exported(url)
        except redis.RedisError as error:
            self._shared.lost(error)
            return True

    def __contains__(self, url: object) -> bool:
        return url in self._local

    # The rest of :class:`StateStore` is this node's own store (the failure book's table).
    @property
    def db(self) -> sqlite3.Connection:
        return self._local.db

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._local.transaction()

    def close(self) -> None:
        self._local.close()


class SharedPending:
    """The spider's pending queue in distributed mode: the crawl's, in Redis."""

    adopted = 0  # a node adopts nothing at start: takeovers come at idle

    def __init__(self, shared: SharedCrawl) -> None:
        self.shared = shared

    def add(self, urls: Iterable[str]) -> list[str]:
        if self.shared.stopped:
            return []
        try:
            return self.shared.state.add_pending(urls)
        except redis.RedisError as error:
            self.shared.lost(error)
            return []

    def done(self, url: str) -> None:
        self.shared.done(url)

    def flush(self) -> None:
        """Nothing is batched."""

    def finish(self) -> int:
        return 0

    def unanswered(self) -> list[str]:
        return []

    def close(self) -> None:
        """The extension leaves the crawl when the spider closes."""


class SharedFrontier(Frontier):
    """:class:`~rfi_spider.crawl.frontier.Frontier` on the crawl's queue in Redis: URLs
    no node had queued are requested at once (the request queue is in Redis, not in this
    process); at idle, the pending articles no node works on are taken over."""

    def __init__(
        self,
        shared: SharedCrawl,
        pending: SharedPending,
        seen: ExportedCheck,
        failures: FailedArticles,
        scope: Scope,
        size: int,
    ) -> None:
        super().__init__(pending, seen, failures, scope, size, shared.crawler)
        self.pending: SharedPending = pending
        self.shared = shared
        self.fresh: list[str] = []
        self.look_for_takeovers = False

    def queue(self, urls: list[str]) -> None:
        self.fresh.extend(self.pending.add(urls))

    def hand_out(self) -> Iterator[tuple[str, bool]]:
        fresh, self.fresh = self.fresh, []
        for url in fresh:
            yield url, False
        if not self.look_for_takeovers:
            return
        self.look_for_takeovers = False
        for url in self.shared.takeovers(self.size):
            if not self.scope.in_run(url) or self.given_up_left(url):
                self.shared.forget(url)  # given up here: no node waits for it any more
                continue
            self.found.add(url)
            yield url, True

    def finished(self, url: str, produced_item: bool) -> None:
        if not produced_item:
            self.pending.done(url)

    def idle(self) -> None:
        self.look_for_takeovers = True

    def settle(self) -> int:
        return 0
