"""This node's part of a shared crawl (:class:`SharedCrawl`): its Redis state, the claims
it holds on articles and pages, idle and takeovers, and how it stops when Redis is lost."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping
from typing import Any, ClassVar

import redis
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro

from rfi_spider import meta_keys
from rfi_spider.archive.failures import FailedArticles
from rfi_spider.archive.redis_state import KeyTypeError, RedisState
from rfi_spider.archive.state import SeenStore
from rfi_spider.config import RfiSettings
from rfi_spider.crawl.distributed.config import (
    REDIS_BAD_KEY,
    REDIS_LOST,
    check_arguments,
    connect,
    crawl_config,
    redacted,
    scrubbed,
    state_for,
)
from rfi_spider.crawl.distributed.spider_state import (
    ExportedCheck,
    SharedFrontier,
    SharedPending,
    SharedSeen,
)
from rfi_spider.crawl.redis_codec import (
    BadValueError,
    UnencodableError,
    decode_request,
    encode_request,
)
from rfi_spider.crawl.scope import Scope

logger = logging.getLogger(__name__)
# The request meta key naming a page request (listing, feed, mirror) in the crawl's
# pages, until a node has read it; and the flag of a page a node takes over.
PAGE = "rfi_page"
TAKEOVER = "rfi_takeover"
# A page taken over more often than this was never read (a fault of this code): given up,
# so that no node waits for it forever.
MAX_PAGE_TAKEOVERS = 3
# The request meta key holding the claim token of an article request (kept by its retries
# and redirects, so that the node popping them keeps the claim).
CLAIM = "rfi_claim"


class SharedCrawl:
    """This node's part of a shared crawl: the Redis state, the claims it holds, its status."""

    _of: ClassVar[weakref.WeakKeyDictionary[Crawler, SharedCrawl]] = weakref.WeakKeyDictionary()

    def __init__(self, crawler: Crawler, state: RedisState) -> None:
        self.crawler = crawler
        self.state = state
        self.held: dict[str, str] = {}  # url -> claim token, articles this node works on
        self.busy = True
        self.first: bool | None = None  # whether this node read the listings
        self.stopped = False  # Redis failed: the node stops (REDIS_LOST)

    @classmethod
    def of(cls, crawler: Crawler) -> SharedCrawl:
        """The crawl's shared state (made at the first call, from the spider's settings)."""
        shared = cls._of.get(crawler)
        if shared is None:
            assert crawler.spidercls is not None
            config = RfiSettings.of(crawler)
            client = connect(crawler.settings, config)
            state = state_for(config, crawler.spidercls.name, client)
            shared = cls._of[crawler] = cls(crawler, state)
        return shared

    @classmethod
    def open(cls, crawler: Crawler, args: Mapping[str, Any]) -> SharedCrawl:
        """Join the crawl: its settings must be this node's (:class:`SharedCrawlError`)."""
        spidercls = crawler.spidercls
        check_arguments(args)
        shared = cls.of(crawler)
        edition = str(getattr(getattr(spidercls, "edition", None), "key", ""))
        config = crawl_config(spidercls.name, edition, args, crawler.settings)
        shared.state.check_config(config)
        shared.state.heartbeat(busy=True)
        logger.info(
            "distributed crawl %s in Redis (%s) as node %s",
            shared.state.crawl,
            redacted(str(crawler.settings.get("REDIS_URL"))),
            shared.state.node,
        )
        return shared

    def stat(self, name: str, count: int = 1) -> None:
        self.crawler.stats.inc_value(f"rfi/redis/{name}", count)

    def bad_value(self, where: str, error: BadValueError) -> None:
        """A value in Redis that is not one of ours (another program's, or planted):
        never run, skipped, counted (``rfi/redis/bad_value``), one warning line."""
        self.stat("bad_value")
        logger.warning(
            "skipped a value in Redis (%s) that is not a request of ours: %s", where, error
        )

    def lost(self, error: BaseException) -> None:
        """Redis failed: this node stops cleanly, once (finish reason ``redis_lost``).

        Nothing is marked exported that was not written (the mark comes after the write);
        the articles in flight stay pending in Redis, and their claims expire.
        """
        self.stat("errors")
        if self.stopped:
            return
        self.stopped = True
        reason = REDIS_LOST
        wrong_type = self.wrong_type(error)
        if wrong_type is not None:
            reason = REDIS_BAD_KEY
            self.stat("wrong_type")
            logger.error("crawl stopped: %s", wrong_type)
        else:
            logger.error(
                "Redis lost, crawl stopped: %s. Nothing unwritten is marked exported; run"
                " this node again when Redis is back: the crawl goes on from its queue there",
                scrubbed(str(error).rstrip("."), str(self.crawler.settings.get("REDIS_URL"))),
            )
        try:
            engine = self.crawler.engine
        except RuntimeError:  # no engine yet (the spider is being built)
            return
        deferred_from_coro(engine.close_spider_async(reason=reason))

    def wrong_type(self, error: BaseException) -> str | None:
        """For Redis's WRONGTYPE answer (a key of the crawl that another program wrote):
        which key, and its type; None for any other error."""
        # A pipeline's error says "Command # 1 (...) of pipeline caused error: WRONGTYPE ..."
        if not (isinstance(error, redis.ResponseError) and "WRONGTYPE" in str(error)):
            return None
        try:
            self.state.check_types()
        except KeyTypeError as found:
            return str(found)
        except redis.RedisError:
            pass
        return (
            f"a key of crawl {self.state.crawl} (or of {self.state.prefix}:exported:*) is not"
            " of the type this crawl keeps there (Redis: WRONGTYPE): another program uses"
            " these keys; use another RFI_REDIS_PREFIX or RFI_CRAWL_ID"
        )

    # --- what the spider uses -------------------------------------------------------
    def seen(self, local: SeenStore) -> SharedSeen:
        return SharedSeen(local, self)

    @property
    def pending(self) -> SharedPending:
        return SharedPending(self)

    def frontier(
        self,
        pending: SharedPending,
        seen: ExportedCheck,
        failures: FailedArticles,
        scope: Scope,
        size: int,
        crawler: Crawler,
    ) -> SharedFrontier:
        """The frontier of this node, on the crawl's queue (``crawler``: this crawl's)."""
        return SharedFrontier(self, pending, seen, failures, scope, size)

    def revisits(self, revisits: Any) -> None:
        """Revisits of articles other nodes exported: their last fetch, from Redis."""
        revisits.checked_elsewhere = self.checked_at

    def checked_at(self, url: str) -> str | None:
        """When the crawl's nodes last fetched ``url`` to a settled end (ISO), or None."""
        if self.stopped:
            return None
        try:
            latest = self.state.latest_version(url)
        except redis.RedisError as error:
            self.lost(error)
            return None
        return latest.checked_at if latest is not None else None

    # --- claims -----------------------------------------------------------------------
    def take(self, request: Request) -> bool:
        """Whether this node fetches an article request it popped: not exported, and
        claimed by this node (or still claimed by the request's own token)."""
        url = request.cb_kwargs.get("site_url") or request.url
        try:
            # A revisit fetches an exported article again (crawl/revisits.py).
            exported = not request.meta.get(meta_keys.REVISIT) and self.state.is_exported(url)
            token = None if exported else self.state.claim(url, request.meta.get(CLAIM))
        except redis.RedisError as error:
            self.lost(error)
            return False
        if exported:
            self.stat("skipped/exported")
            return False
        if token is None:
            self.stat("skipped/claimed_elsewhere")
            logger.debug("%s: another node works on it", url)
            return False
        request.meta[CLAIM] = token
        self.held[url] = token
        return True

    def done(self, url: str) -> None:
        """An article this node worked on is finished (exported, dropped or failed)."""
        token = self.held.pop(url, None)
        if token is None or self.stopped:
            return
        try:  # off the queue, unless another node has taken it over meanwhile
            if self.state.release(url, token) or self.state.holder(url) is None:
                self.state.remove_pending(url)
        except redis.RedisError as error:
            self.lost(error)

    # --- pages (listings, feeds, mirrors) -----------------------------------------
    def record_page(self, request: Request, spider: Spider) -> None:
        """A page request queued for the first time: kept in Redis until a node reads it
        (its id, the request's fingerprint, goes in its meta and its copies')."""
        kind = request.meta.get(meta_keys.KIND)
        if kind is None or kind == "article" or PAGE in request.meta:
            return
        page = self.crawler.request_fingerprinter.fingerprint(request)[:8].hex()
        request.meta[PAGE] = page
        try:
            encoded = encode_request(request, spider)
        except UnencodableError:
            del request.meta[PAGE]  # not recorded: nobody may wait for it
            raise
        self.state.add_page(page, encoded)

    def take_page(self, request: Request) -> bool:
        """Whether this node reads a page request it popped: still unread, and claimed by
        this node (or still claimed by the request's own token: a retry, a redirect)."""
        page = request.meta[PAGE]
        try:
            pending = self.state.page_pending(page)
            token = self.state.claim(f"page:{page}", request.meta.get(CLAIM)) if pending else None
        except redis.RedisError as error:
            self.lost(error)
            return False
        if not pending:
            self.stat("skipped/page_read")
            return False
        if token is None:
            self.stat("skipped/claimed_elsewhere")
            return False
        request.meta[CLAIM] = token
        self.held[f"page:{page}"] = token
        return True

    def page_done(self, request: Request) -> None:
        """A page was read (or failed for good): off the crawl's pages, unclaimed."""
        page = request.meta.get(PAGE)
        if page is None or self.stopped:
            return
        token = self.held.pop(f"page:{page}", None)
        try:
            if token is not None:
                self.state.release(f"page:{page}", token)
            self.state.page_done(page)
        except redis.RedisError as error:
            self.lost(error)

    def page_takeovers(self, spider: Spider) -> int:
        """At idle: queue again the pages no node reads (a killed node's, once its claims
        expired), past the dupefilter; returns how many pages wait (these and claimed)."""
        unclaimed, claimed = self.state.pages_status()
        taken = 0
        for page, data in unclaimed:
            if self.state.count_takeover(page) > MAX_PAGE_TAKEOVERS:  # never read: give up
                self.state.page_done(page)
                self.stat("pages_given_up")
                logger.warning(
                    "page %s was taken over %d times, never read: given up",
                    page,
                    MAX_PAGE_TAKEOVERS,
                )
                continue
            try:
                request = decode_request(data, spider)
            except BadValueError as error:
                self.state.page_done(page)  # never read by anyone: nobody waits for it
                self.bad_value(f"{self.state.pages_key} {page}", error)
                continue
            taken += 1
            request.meta[TAKEOVER] = True
            self.crawler.engine.crawl(request)
        if taken:
            self.stat("takeovers/pages", taken)
            logger.info("taking over %d page(s) (listings, feeds) no node reads", taken)
        return taken + claimed

    def forget(self, url: str) -> None:
        """Take an article off the crawl's queue that this node will not fetch (given up
        after ``RFI_MAX_ATTEMPTS`` failures): otherwise every node would wait for it."""
        if self.stopped:
            return
        try:
            self.state.remove_pending(url)
        except redis.RedisError as error:
            self.lost(error)

    def release_all(self) -> None:
        """Give up every claim: the articles go to whichever node takes them."""
        for url, token in list(self.held.items()):
            self.state.release(url, token)
        self.held.clear()

    def renew(self) -> None:
        """Renew this node's claims and heartbeat (every third of a lease)."""
        if self.stopped:
            return
        try:
            for url in self.state.renew(self.held):
                self.held.pop(url, None)  # another node holds it now (a retry it popped)
            self.state.heartbeat(self.busy)
        except redis.RedisError as error:
            self.lost(error)

    # --- idle ---------------------------------------------------------------------------
    def should_wait(self) -> bool:
        """At idle: whether this node stays open (articles wait, other nodes work)."""
        if self.stopped:
            return False
        try:
            return self._should_wait()
        except redis.RedisError as error:
            self.lost(error)
            return False

    def _should_wait(self) -> bool:
        self.busy = False
        self.release_all()
        self.state.heartbeat(busy=False)
        nodes = self.state.nodes()
        status = self.state.pending_status(set(nodes) | {self.state.node}, limit=1)
        for url, node in status.orphaned:
            logger.warning(
                "%s waits for node %s, killed while it exported it: its own items.jsonl says"
                " whether it did, when it comes back",
                url,
                node,
            )
        others = sorted(n for n, s in nodes.items() if s == "busy" and n != self.state.node)
        starting = self.state.start_in_progress(set(nodes))
        spider = self.crawler.spider
        assert spider is not None  # at idle, the crawl's spider is open
        pages = self.page_takeovers(spider)
        if not (others or starting or status.waiting or pages):
            self.state.finish_crawl()  # the next run with this crawl id starts afresh
            logger.info("crawl %s is complete: no article waits, no node works", self.state.crawl)
            return False
        logger.debug(
            "waiting: %d article(s) unclaimed, %d claimed; %d page(s); busy nodes: %s;"
            " start queued: %s",
            len(status.unclaimed),
            status.claimed,
            pages,
            others,
            not starting,
        )
        return True
        return False

    def takeovers(self, limit: int) -> list[str]:
        """Pending articles no node works on (a killed node's, once its claims expired)."""
        if self.stopped:
            return []
        try:
            unclaimed = self.state.pending_status(set(self.state.nodes()), limit).unclaimed
        except redis.RedisError as error:
            self.lost(error)
            return []
        if unclaimed:
            self.stat("takeovers", len(unclaimed))
            logger.info("taking over %d article(s) no node works on", len(unclaimed))
        return unclaimed

    def close(self) -> None:
        if self.stopped:  # Redis was lost: the claims expire there on their own
            self.state.client.close()
            return
        try:
            self.release_all()
            self.state.leave()
        except redis.RedisError as error:
            logger.warning("could not leave the crawl in Redis: %s", error)
        self.state.client.close()
