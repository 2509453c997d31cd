"""A distributed crawl's configuration: whether it is on (``REDIS_URL``), the crawl and
node ids, what the nodes of one crawl must agree on, the Redis client, and the checks run
before a crawl starts (:func:`preflight`); credentials of ``REDIS_URL`` never shown."""

from __future__ import annotations

import hashlib
import logging
import re
import socket
from collections.abc import Mapping
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

import redis
from scrapy.settings import BaseSettings

from rfi_spider.archive.redis_state import RedisState, SharedCrawlError
from rfi_spider.config import RfiSettings, shared_start
from rfi_spider.item_schema import ARTICLE_SCHEMA, SCHEMA_PACKAGE
from rfi_spider.items import FIELDS

logger = logging.getLogger(__name__)

# The finish reason of a node that lost Redis mid-crawl (RFI_FAILED_FINISH_REASONS: exit 1).
REDIS_LOST = "redis_lost"
# The finish reason of a node that found a key of the crawl holding another Redis type
# (another program's key): a configuration fault, exit 2 (commands/crawl.py).
REDIS_BAD_KEY = "redis_bad_key"
# Crawl ids and prefixes: letters, digits, . _ - : (scrapy-redis formats keys with %).
_SAFE = re.compile(r"[A-Za-z0-9._:-]+")
# Names of query parameters of REDIS_URL whose values are never shown.
_SECRET_PARAM = re.compile(r"pass|user|secret|token|auth|cred|key", re.IGNORECASE)
# The output layout nodes of one crawl must share: what each writes, and the item schema.
_SCHEMA = resources.files(SCHEMA_PACKAGE).joinpath(ARTICLE_SCHEMA)
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
    config.update(shared_start(settings))
    return config


def crawl_id(config: RfiSettings, spider_name: str) -> str:
    """``RFI_CRAWL_ID`` (the spider's name in place of ``%(spider)s``); unset, the
    spider's name."""
    return (config.crawl_id or spider_name).replace("%(spider)s", spider_name)


def node_id(config: RfiSettings) -> str:
    """``RFI_NODE_ID``, or this host and the node's output folder: stable across restarts."""
    if config.node_id:
        return config.node_id
    return f"{socket.gethostname()}:{config.output_dir.resolve()}"


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


def connect(settings: BaseSettings, config: RfiSettings) -> redis.Redis:
    """A client for ``REDIS_URL`` that answered PING, or :class:`SharedCrawlError`."""
    url = str(settings.get("REDIS_URL"))
    timeout = config.redis_timeout
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        client.ping()
    except (redis.RedisError, ValueError) as error:
        message = scrubbed(str(error).rstrip("."), url)
        raise SharedCrawlError(f"cannot reach Redis at {redacted(url)}: {message}") from None
    return client


def state_for(config: RfiSettings, spider_name: str, client: redis.Redis) -> RedisState:
    return RedisState(
        client,
        config.redis_prefix,
        crawl_id(config, spider_name),
        node_id(config),
        int(config.redis_lease_seconds * 1000),
    )


def preflight(spidercls: type, args: Mapping[str, Any], settings: BaseSettings) -> None:
    """Before a crawl starts (``scrapy crawl``): Redis answers and the crawl, if it has
    started, runs with these settings. Raises :class:`SharedCrawlError` (one line)."""
    if not enabled(settings):
        return
    rfi = RfiSettings.from_settings(settings)  # checked already by the crawl command
    check_names(rfi)
    check_arguments(args)
    client = connect(settings, rfi)
    try:
        name = str(spidercls.name)  # type: ignore[attr-defined]
        edition = str(getattr(getattr(spidercls, "edition", None), "key", ""))
        config = crawl_config(name, edition, args, settings)
        state = state_for(rfi, name, client)
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


def check_names(config: RfiSettings) -> None:
    """The Redis prefix and the crawl id: what Redis keys are made of (:data:`_SAFE`)."""
    for label, given in (
        ("RFI_REDIS_PREFIX=", config.redis_prefix),
        ("RFI_CRAWL_ID=", config.crawl_id),
    ):
        value = (given or "").replace("%(spider)s", "spider")
        if value and not _SAFE.fullmatch(value):
            raise SharedCrawlError(f"{label}{given!r}: use letters, digits, . _ - :")
