"""A distributed crawl's configuration: whether it is on (``REDIS_URL``), the crawl and
node ids, what the nodes of one crawl must agree on, the Redis client, and the checks run
before a crawl starts (:func:`preflight`); credentials of ``REDIS_URL`` never shown."""

from __future__ import annotations

import hashlib
import json
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
from rfi_spider.archive.state import output_dirs
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
