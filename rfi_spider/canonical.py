"""Canonical article URLs (the dedupe key) and the mapping to a local mirror root.

Every URL the project keeps is ``https://www.rfi.fr/<path>``: percent-encoded
UTF-8 path with upper-case hex, no query, no fragment, no trailing slash.
``FetchRoot`` swaps that root for ``base_url`` when the crawl fetches from a
mirror (tests, the demo), and back again for what the crawl keeps.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from w3lib.url import canonicalize_url, safe_url_string

from rfi_spider import editions
from rfi_spider.editions import EDITIONS, Edition, edition_of
from rfi_spider.percent import unquote

SITE_ROOT = "https://www.rfi.fr"
SITE_HOST = "www.rfi.fr"

# A URL already in the kept form, as every page's own URL is: ``https://www.rfi.fr``, then
# path segments of unreserved characters (no dot: no ``.`` or ``..`` segment) and upper-case
# escapes of non-ASCII bytes; no trailing slash, query or fragment. Both
# :func:`site_url` and :func:`canonical_url` give such a URL back unchanged, so it skips
# w3lib's parse and requoting (0.05 ms a URL, a page's URL read three times). Possessive
# runs (the next character decides: nothing is given back), a run of characters or of
# escapes one step of the matcher: about 36k → 20k instructions on an article's URL, one
# alternation a character before (issue 26).
_KEPT_FORM = re.compile(r"https://www\.rfi\.fr(?:/(?:[A-Za-z0-9_~-]++|(?:%[89A-F][0-9A-F])++)++)++")


@lru_cache(maxsize=1)
def _host_prefixes() -> dict[str, str]:
    """Hosts that serve (or once served) the articles, and the path prefix they imply:
    ``cn.rfi.fr`` -> ``/cn``, ``trad.cn.rfi.fr`` -> ``/tw`` (from each edition's old hosts)."""
    hosts = {"www.rfi.fr": "", "rfi.fr": ""}
    for edition in EDITIONS.values():
        hosts.update(dict.fromkeys(edition.old_hosts, edition.prefix))
    return hosts


@lru_cache(maxsize=1)
def _article_path() -> re.Pattern[str]:
    """``/<edition>/<section>[/<column>]/<YYYYMMDD>-<slug>`` of every edition, decoded."""
    prefixes = "|".join(re.escape(e.key) for e in EDITIONS.values())
    return re.compile(rf"^/(?:{prefixes})/(?:[^/]+/){{1,2}}(?P<date>\d{{8}})-[^/]+$")


def is_site_host(host: str | None) -> bool:
    """True for www.rfi.fr and the older hosts of the same articles."""
    return (host or "").lower() in _host_prefixes()


def _site_path(host: str, path: str) -> str:
    prefix = _host_prefixes()[host]
    if prefix and not (path == prefix or path.startswith(prefix + "/")):
        path = prefix + path
    return path


def site_url(url: str) -> str | None:
    """The ``https://www.rfi.fr`` form of a site URL, query kept; None when off-site.

    Accepts raw or percent-encoded paths, ``http://``, ``rfi.fr``, ``cn.rfi.fr``.
    Cached as :func:`canonical_url` is: an article's URL comes through here from its
    listing, its request and its response, and the listings repeat their menus' links
    (about 30 µs a URL otherwise, w3lib's ``safe_url_string``; issue 26).
    """
    if _KEPT_FORM.fullmatch(url):
        return str(url)  # a plain string (one from lxml keeps its page alive)
    return _site_url(str(url))


@lru_cache(maxsize=4096)
def _site_url(url: str) -> str | None:
    try:
        parts = urlsplit(safe_url_string(url.strip()))
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not is_site_host(host):
        return None
    path = _site_path(host, parts.path or "/")
    return urlunsplit(("https", SITE_HOST, path, parts.query, ""))


def canonical_url(url: str) -> str | None:
    """The dedupe key of a site URL; None for URLs off the site.

    Cached (a pure function of the string): a page names its own URL three or four
    times (canonical link, ``og:url``, JSON-LD, the URL fetched), and the listings
    repeat the same links; 0.1 ms a URL otherwise (w3lib's canonicalisation). The
    cache keeps plain strings: a string from an lxml XPath keeps its whole page alive.

    >>> canonical_url("http://cn.rfi.fr/中国/20190102-标题/?utm=x#top")
    'https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/20190102-%E6%A0%87%E9%A2%98'
    """
    if _KEPT_FORM.fullmatch(url):
        return str(url)  # as site_url: the kept form is its own key, and not cached
    return _canonical_url(str(url))


@lru_cache(maxsize=4096)
def _canonical_url(url: str) -> str | None:
    normalized = site_url(url)
    if normalized is None:
        return None
    try:
        parts = urlsplit(canonicalize_url(normalized, keep_fragments=False))
    except ValueError:
        return None
    path = parts.path.rstrip("/")
    return urlunsplit(("https", SITE_HOST, path, "", ""))


def clear_url_caches() -> None:
    """Empty the caches of :func:`site_url`, :func:`canonical_url` and :func:`article_date`
    (and the rules derived from the editions: called when an edition is registered)."""
    _site_url.cache_clear()
    _canonical_url.cache_clear()
    _article_date.cache_clear()
    _host_prefixes.cache_clear()
    _article_path.cache_clear()


editions.on_change(clear_url_caches)


def is_article_url(url: str, edition: Edition | None = None) -> bool:
    """True for a canonical (or site) URL of an article page of any edition (/cn, /tw),
    or of ``edition`` only when given."""
    if article_date(url) is None:
        return False
    return edition is None or edition.owns(url)


def article_date(url: str) -> date | None:
    """The ``YYYYMMDD`` date in an article URL; None when the URL is not an article."""
    return _article_date(str(url))  # a plain string in the cache: see canonical_url


@lru_cache(maxsize=4096)
def _article_date(url: str) -> date | None:
    match = _article_path().match(unquote(urlsplit(url).path))
    if not match:
        return None
    stamp = match.group("date")
    try:
        return date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:]))
    except ValueError:
        return None


def section_of(url: str) -> str | None:
    """The first path segment after the edition's prefix, decoded: the section of last resort."""
    edition = edition_of(url)
    return edition.section_of(url) if edition else None


class FetchRoot:
    """Where site URLs are fetched from: site URLs to the URLs actually fetched, and back.

    With no ``base_url`` both directions are the identity (after normalising the
    host); with ``base_url=http://127.0.0.1:8080`` the site root is replaced by it.
    """

    def __init__(self, base_url: str | None = None) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        self.fetch_host = urlsplit(self.base_url).hostname if self.base_url else SITE_HOST

    def to_fetch(self, url: str) -> str:
        """The URL to request for a site URL (``https://www.rfi.fr/...`` in any form)."""
        normalized = site_url(url) or url
        if self.base_url and normalized.startswith(SITE_ROOT + "/"):
            return self.base_url + normalized[len(SITE_ROOT) :]
        return safe_url_string(normalized)

    def to_site(self, url: str) -> str | None:
        """The site URL of a fetched or linked URL; None when it is neither site nor mirror."""
        if self.base_url and (url == self.base_url or url.startswith(self.base_url + "/")):
            url = SITE_ROOT + url[len(self.base_url) :]
        return site_url(url)
