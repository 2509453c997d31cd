"""Several crawler processes on one crawl: scrapy-redis's shared frontier, opted in by
``REDIS_URL`` (``-s REDIS_URL=redis://host:port/db``). Without it nothing here runs.

The add-on :class:`SharedCrawlAddon` switches a crawl to distributed mode when
``REDIS_URL`` is set: scrapy-redis's scheduler and dupefilter (one request queue and one
set of request fingerprints for every node of the crawl, ``SCHEDULER_PERSIST`` on so
that a node that finishes leaves the queue to the others), and the components below:

- :class:`SharedScheduler`: scrapy-redis's scheduler; an article request popped from the
  queue is fetched only if its article is not exported and this node can claim it (a
  lease, renewed while the node works on it; ``archive/redis_state.py``).
- :class:`SharedDupeFilter`: scrapy-redis's, keeping 8-byte fingerprints; a takeover (an
  article whose node died) gets past it.
- :class:`SharedStart`: the listings, feeds, sitemaps and mirrors are read by the first
  node of a crawl only.
- :class:`SharedCrawlExtension`: renews the node's claims and heartbeat; at idle, keeps the
  node open while other nodes work or articles wait, so that it takes over a killed
  node's articles once their claims expire.
- ``archive/shared_export.py``'s pipeline: exported exactly once across nodes.

The spider's pending queue and "already exported" checks go to Redis through
:class:`SharedPending`, :class:`SharedSeen` and :class:`SharedArticleWindow`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import socket
import warnings
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from importlib import resources
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

import redis
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, ScrapyDeprecationWarning
from scrapy.http import Response
from scrapy.settings import BaseSettings, get_settings_priority
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from rfi_spider.archive.redis_state import KeyTypeError, RedisState, SharedCrawlError
from rfi_spider.archive.state import SeenStore, output_dirs
from rfi_spider.crawl import meta_keys
from rfi_spider.crawl.redis_codec import (
    BadValueError,
    UnencodableError,
    decode_request,
    encode_request,
)
from rfi_spider.crawl.revisits import REVISIT
from rfi_spider.crawl.window import ArticleWindow
from rfi_spider.items import FIELDS

logger = logging.getLogger(__name__)

# The finish reason of a node that lost Redis mid-crawl (RFI_FAILED_FINISH_REASONS: exit 1).
REDIS_LOST = "redis_lost"
# The finish reason of a node that found a key of the crawl holding another Redis type
# (another program's key): a configuration fault, exit 2 (commands/crawl.py).
REDIS_BAD_KEY = "redis_bad_key"
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
# Crawl ids and prefixes: letters, digits, . _ - : (scrapy-redis formats keys with %).
_SAFE = re.compile(r"[A-Za-z0-9._:-]+")
# Names of query parameters of REDIS_URL whose values are never shown.
_SECRET_PARAM = re.compile(r"pass|user|secret|token|auth|cred|key", re.IGNORECASE)
# The output layout nodes of one crawl must share: what each writes, and the item schema.
_SCHEMA = resources.files("rfi_spider.quality").joinpath("schemas/article.schema.json")
_CONFIG_SETTINGS = (
    "RFI_HOME",
    "RFI_SECTIONS",
    "RFI_FEEDS",
    "RFI_ARCHIVE_URL",
    "RFI_LISTING_DEPTH",
)
_CONFIG_ARGS = ("url", "since", "until", "base_url", "from_warc")


def enabled(settings: BaseSettings) -> bool:
    return bool(settings.get("REDIS_URL"))


def layout() -> str:
    """The output layout: files and fields each node writes, and the schema's digest."""
    schema = hashlib.sha256(_SCHEMA.read_bytes()).hexdigest()[:16]
    files = "items.jsonl + articles/YYYY/MM/DD/<16 hex of sha256(url)>.txt"
    return f"{files}; fields {','.join(FIELDS)}; schema {schema}"


def crawl_config(
    spider_name: str, edition: str, args: Mapping[str, Any], settings: BaseSettings
) -> dict[str, str]:
    """What the nodes of one crawl must agree on: the spider and its edition, the output
    layout, the spider arguments that choose the articles, and where the crawl starts."""
    config = {"spider": spider_name, "edition": edition, "layout": layout()}
    for name in _CONFIG_ARGS:
        config[f"-a {name}"] = str(args.get(name) or "")
    for name in _CONFIG_SETTINGS:
        config[name] = json.dumps(settings.get(name), ensure_ascii=False, default=str)
    return config


def crawl_id(settings: BaseSettings, spider_name: str) -> str:
    """``RFI_CRAWL_ID`` (the spider's name in place of ``%(spider)s``); unset, the
    spider's name."""
    return str(settings.get("RFI_CRAWL_ID") or spider_name).replace("%(spider)s", spider_name)


def node_id(settings: BaseSettings) -> str:
    """``RFI_NODE_ID``, or this host and the node's output folder: stable across restarts."""
    given = settings.get("RFI_NODE_ID")
    if given:
        return str(given)
    output, _ = output_dirs(settings)
    return f"{socket.gethostname()}:{output.resolve()}"


def _secret_param(name: str) -> bool:
    """A query parameter that holds a credential (redis-py reads ``?password=``,
    ``?username=``; TLS and ACL options name keys and passwords too)."""
    return bool(_SECRET_PARAM.search(unquote(name)))


def redacted(url: str) -> str:
    """``url`` without its credentials, for logs, errors and the state: the password of
    ``redis://user:pw@host`` and the value of a credential query parameter
    (``?password=pw``, ``?username=u``) become ``***``."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            netloc = f"{parts.username or ''}:***@{netloc.rpartition('@')[2]}"
        params = []
        for param in parts.query.split("&") if parts.query else []:
            name, sep, _ = param.partition("=")
            params.append(f"{name}=***" if sep and _secret_param(name) else param)
        return urlunsplit(parts._replace(netloc=netloc, query="&".join(params)))
    except ValueError:  # not a URL urlsplit takes: nothing of it but its scheme
        return f"{url.partition(':')[0][:20]}:*** (not a valid URL)"


def _secrets(url: str) -> list[str]:
    """The credentials ``url`` holds, as written and decoded (to scrub them from messages)."""
    try:
        found = [urlsplit(url).password or ""]
    except ValueError:  # not a URL urlsplit takes: its query may still be read
        found = []
    query = url.partition("?")[2].partition("#")[0]
    found += [v for n, v in parse_qsl(query, keep_blank_values=True) if _secret_param(n)]
    found += [quote(value, safe="") for value in found]
    return sorted({value for value in found if len(value) >= 3}, key=len, reverse=True)


def scrubbed(message: str, url: str) -> str:
    """``message`` (a Redis client's error) with no credential of ``url`` in it."""
    for secret in _secrets(url):
        message = message.replace(secret, "***")
    return message


def connect(settings: BaseSettings) -> redis.Redis:
    """A client for ``REDIS_URL`` that answered PING, or :class:`SharedCrawlError`."""
    url = str(settings.get("REDIS_URL"))
    timeout = settings.getfloat("RFI_REDIS_TIMEOUT")
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        client.ping()
    except (redis.RedisError, ValueError) as error:
        message = scrubbed(str(error).rstrip("."), url)
        raise SharedCrawlError(f"cannot reach Redis at {redacted(url)}: {message}") from None
    return client


def state_for(settings: BaseSettings, spider_name: str, client: redis.Redis) -> RedisState:
    return RedisState(
        client,
        str(settings.get("RFI_REDIS_PREFIX")),
        crawl_id(settings, spider_name),
        node_id(settings),
        int(settings.getfloat("RFI_REDIS_LEASE_SECONDS") * 1000),
    )


def preflight(spidercls: type, args: Mapping[str, Any], settings: BaseSettings) -> None:
    """Before a crawl starts (``scrapy crawl``): Redis answers and the crawl, if it has
    started, runs with these settings. Raises :class:`SharedCrawlError` (one line)."""
    if not enabled(settings):
        return
    check_names(settings)
    check_arguments(args)
    client = connect(settings)
    try:
        name = str(spidercls.name)  # type: ignore[attr-defined]
        edition = str(getattr(getattr(spidercls, "edition", None), "key", ""))
        config = crawl_config(name, edition, args, settings)
        state = state_for(settings, name, client)
        state.check_types()
        state.check_config(config, record=False)
    except redis.RedisError as error:
        url = str(settings.get("REDIS_URL"))
        message = scrubbed(str(error).rstrip("."), url)
        raise SharedCrawlError(f"Redis at {redacted(url)} failed: {message}") from None
    finally:
        client.close()


def check_arguments(args: Mapping[str, Any]) -> None:
    """``-a demo=1`` serves a sample site from each process (its own port): not shareable."""
    if str(args.get("demo") or "").lower() in {"1", "true", "yes"}:
        raise SharedCrawlError(
            "-a demo=1 serves its own sample site: it does not share a crawl; leave REDIS_URL"
            " unset, or crawl a site every process reaches (-a base_url=...)"
        )


def check_names(settings: BaseSettings) -> None:
    for name in ("RFI_REDIS_PREFIX", "RFI_CRAWL_ID"):
        value = str(settings.get(name) or "").replace("%(spider)s", "spider")
        if value and not _SAFE.fullmatch(value):
            raise SharedCrawlError(f"{name}={settings.get(name)!r}: use letters, digits, . _ - :")


class SharedCrawlAddon:
    """Add-on: with ``REDIS_URL`` set, scrapy-redis's scheduler and dupefilter, the shared
    start, extension and export pipeline; without it, nothing."""

    def update_settings(self, settings: BaseSettings) -> None:
        if not enabled(settings):
            return
        check_names(settings)
        # Unset: the spider's name, which scrapy-redis puts in place of %(spider)s.
        crawl_id = settings.get("RFI_CRAWL_ID") or "%(spider)s"
        crawl = f"{settings.get('RFI_REDIS_PREFIX')}:{crawl_id}"
        for name, value in {
            "SCHEDULER": "rfi_spider.crawl.distributed.SharedScheduler",
            "DUPEFILTER_CLASS": "rfi_spider.crawl.distributed.SharedDupeFilter",
            # A node that finishes must not clear the queue the others work from.
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_QUEUE_KEY": f"{crawl}:requests",
            "SCHEDULER_DUPEFILTER_KEY": f"{crawl}:dupefilter",
            # JSON, never pickle: a value in Redis is data, not code (crawl/redis_codec.py).
            "SCHEDULER_QUEUE_CLASS": "rfi_spider.crawl.redis_codec.RequestQueue",
            "SCHEDULER_SERIALIZER": "rfi_spider.crawl.redis_codec",
        }.items():
            _override(settings, name, value)
        pipelines = dict(settings.getdict("ITEM_PIPELINES"))
        order = pipelines.pop("rfi_spider.archive.pipelines.ArchivePipeline", 800)
        pipelines["rfi_spider.archive.shared_export.SharedArchivePipeline"] = order
        _override(settings, "ITEM_PIPELINES", pipelines)
        middlewares = dict(settings.getdict("SPIDER_MIDDLEWARES"))
        middlewares["rfi_spider.crawl.distributed.SharedStart"] = 50
        _override(settings, "SPIDER_MIDDLEWARES", middlewares)
        downloader = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
        downloader["rfi_spider.crawl.distributed.SharedPagesMiddleware"] = 40
        _override(settings, "DOWNLOADER_MIDDLEWARES", downloader)
        extensions = dict(settings.getdict("EXTENSIONS"))
        extensions["rfi_spider.crawl.distributed.SharedCrawlExtension"] = 500
        _override(settings, "EXTENSIONS", extensions)


def _override(settings: BaseSettings, name: str, value: Any) -> None:
    """Set ``name`` over the project's value (distributed mode needs these components)."""
    priority = max(settings.getpriority(name) or 0, get_settings_priority("addon"))
    settings.set(name, value, priority=priority)


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
            client = connect(crawler.settings)
            state = state_for(crawler.settings, crawler.spidercls.name, client)
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

    def window(self, pending: Any, seen: Any, size: int) -> SharedArticleWindow:
        return SharedArticleWindow(self, pending, seen, size)

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
            exported = not request.meta.get(REVISIT) and self.state.is_exported(url)
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
    def record_page(self, request: Request, spider: Any) -> None:
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

    def page_takeovers(self, spider: Any) -> int:
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
        pages = self.page_takeovers(self.crawler.spider)
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

    def __getattr__(self, name: str) -> Any:
        return getattr(self._local, name)


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


class SharedArticleWindow(ArticleWindow):
    """:class:`~rfi_spider.crawl.window.ArticleWindow` on the crawl's queue in Redis: URLs
    no node had queued are requested at once (the request queue is in Redis, not in this
    process); at idle, the pending articles no node works on are taken over."""

    def __init__(self, shared: SharedCrawl, pending: Any, seen: Any, size: int) -> None:
        super().__init__(pending, seen, size)
        self.shared = shared
        self.fresh: list[str] = []
        self.look_for_takeovers = False

    def queue(self, urls: Iterable[str]) -> None:
        self.fresh.extend(self.pending.add(list(urls)))

    def hand_out(
        self,
        in_scope: Callable[[str], bool],
        on_known: Callable[[], None],
        drop: Callable[[str], bool] | None = None,
    ) -> Iterator[tuple[str, bool]]:
        fresh, self.fresh = self.fresh, []
        for url in fresh:
            yield url, False
        if not self.look_for_takeovers:
            return
        self.look_for_takeovers = False
        for url in self.shared.takeovers(self.size):
            if not in_scope(url) or (drop is not None and drop(url)):
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


class SharedScheduler(Scheduler):
    """scrapy-redis's scheduler; an article request is fetched only by the node that claims
    it (:meth:`SharedCrawl.take`), and never once its article is exported."""

    shared: SharedCrawl
    # Requests that are not data (the browser fallback's, holding live objects): they stay
    # in this process. Each is a retry of a request this node claimed: killed, its claim
    # lapses and another node takes the article over.
    local: deque[Request]

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.shared = SharedCrawl.of(crawler)
        scheduler.local = deque()
        # scrapy-redis 0.9.1 passes spider= to the stats and calls Spider.log, both
        # deprecated in Scrapy 2.19: this class counts and logs instead.
        scheduler.stats = None
        scheduler.crawler_stats = crawler.stats
        return scheduler

    def open(self, spider: Any) -> None:
        try:
            queued = self.server.zcard(self.queue_key % {"spider": spider.name})
        except redis.RedisError as error:
            self.shared.lost(error)
            queued = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScrapyDeprecationWarning)
            super().open(spider)
        if queued:
            logger.info("the crawl's queue in Redis holds %d request(s)", queued)

    def enqueue_request(self, request: Request) -> bool:
        """scrapy-redis's enqueue, with a page request recorded in the crawl's pages
        before it can be popped (``SharedCrawl.record_page``)."""
        if self.shared.stopped:
            return False
        try:
            if not request.dont_filter and self.df.request_seen(request):
                self.df.log(request, self.spider)
                return False
            try:
                self.shared.record_page(request, self.spider)
                self.queue.push(request)
            except UnencodableError as error:
                self.local.append(request)
                self.crawler_stats.inc_value("rfi/redis/kept_local")
                logger.debug("%s stays in this process (%s)", request, error)
        except redis.RedisError as error:
            self.shared.lost(error)
            return False
        self.crawler_stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        while not self.shared.stopped:
            try:
                request = self.local.popleft() if self.local else super().next_request()
            except BadValueError as error:  # taken off the queue, never run
                self.shared.bad_value(self.queue.key, error)
                continue
            except redis.RedisError as error:
                self.shared.lost(error)
                return None
            if request is None:
                return None
            self.crawler_stats.inc_value("scheduler/dequeued/redis")
            if not self.shared.busy:  # say so at once: idle nodes wait for busy ones
                self.shared.busy = True
                self.shared.renew()
            if PAGE in request.meta:
                if self.shared.take_page(request):
                    return request
            elif request.meta.get(meta_keys.KIND) != "article" or self.shared.take(request):
                return request
        return None

    def has_pending_requests(self) -> bool:
        if self.shared.stopped:
            return False
        if self.local:
            return True
        try:
            return bool(super().has_pending_requests())
        except redis.RedisError as error:
            self.shared.lost(error)
            return False


class SharedDupeFilter(RFPDupeFilter):
    """scrapy-redis's dupefilter with 8-byte fingerprints; an article request marked
    :data:`meta_keys.REFETCH` (a takeover of a killed node's article) gets past it."""

    def request_seen(self, request: Request) -> bool:
        if request.meta.get(TAKEOVER):  # a page a killed node had taken from the queue
            return False
        if request.meta.get(meta_keys.REFETCH) and request.meta.get(meta_keys.KIND) == "article":
            return False
        return bool(super().request_seen(request))

    def request_fingerprint(self, request: Request) -> bytes:  # type: ignore[override]
        return bytes.fromhex(super().request_fingerprint(request))[:8]


class SharedStart:
    """Spider middleware: the start requests (listings, feeds, sitemaps, mirrors) go out
    from the first node of a crawl only; a node joining later works from the queue."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedStart:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        shared = SharedCrawl.of(self.crawler)
        shared.first = shared.state.start_once()
        if not shared.first:
            shared.stat("joined")
            logger.info(
                "joining crawl %s: its listings, feeds and mirrors are read already",
                shared.state.crawl,
            )
        skipped = 0
        async for output in start:
            kind = output.meta.get(meta_keys.KIND) if isinstance(output, Request) else None
            if shared.first or not isinstance(output, Request) or kind == "article":
                yield output
            else:
                skipped += 1
        if shared.first:
            shared.state.finish_start()
        if skipped:
            shared.stat("start/skipped", skipped)

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        """A page's output: once it is all out (its links queued), the page is read."""
        try:
            yield from result
        finally:
            SharedCrawl.of(self.crawler).page_done(response.request or Request(response.url))

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        try:
            async for output in result:
                yield output
        finally:
            SharedCrawl.of(self.crawler).page_done(response.request or Request(response.url))


class SharedPagesMiddleware:
    """Downloader middleware: a page request that failed for good (no retry left, or
    ignored) is read, as far as the crawl's pages go: no node takes it over."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedPagesMiddleware:
        return cls(crawler)

    def process_exception(self, request: Request, exception: BaseException) -> None:
        SharedCrawl.of(self.crawler).page_done(request)


class SharedCrawlExtension:
    """Renews the node's claims and heartbeat; keeps an idle node open while the crawl
    has work; leaves the crawl when the spider closes."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.loop: task.LoopingCall | None = None
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.idle, signal=signals.spider_idle)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)
        crawler.signals.connect(self.dropped, signal=signals.request_dropped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedCrawlExtension:
        return cls(crawler)

    @property
    def shared(self) -> SharedCrawl:
        return SharedCrawl.of(self.crawler)

    def opened(self) -> None:
        interval = max(0.05, self.crawler.settings.getfloat("RFI_REDIS_LEASE_SECONDS") / 3)
        self.loop = task.LoopingCall(self.shared.renew)
        self.loop.start(interval, now=True)

    def idle(self) -> None:
        if self.shared.should_wait():
            raise DontCloseSpider

    def dropped(self, request: Request) -> None:
        """A page's redirect to a page already queued: the page is read."""
        self.shared.page_done(request)

    def closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.shared.close()
