"""A set of URLs in little memory: what a long crawl remembers per page.

A canonical article URL is about 200 characters, 250 bytes as a Python string;
a crawl of 20,000 pages that kept every URL it found and delivered in sets of
strings held megabytes for nothing. :class:`UrlSet` keeps a 64-bit BLAKE2b
digest of each URL instead (an int, about 70 bytes with the set's slot). Two
different URLs share a digest with a probability of about n²/2⁶⁵: one in
10¹⁰ for a million URLs.
"""

from __future__ import annotations

from collections.abc import Iterable
from hashlib import blake2b


def url_key(url: str) -> int:
    """The 64-bit digest a :class:`UrlSet` keeps for ``url``."""
    return int.from_bytes(blake2b(url.encode("utf-8"), digest_size=8).digest(), "big")


class UrlSet:
    """``in``, ``add``, ``update`` and ``len`` of a set of URLs, without keeping the URLs."""

    __slots__ = ("_keys",)

    def __init__(self, urls: Iterable[str] = ()) -> None:
        self._keys: set[int] = {url_key(url) for url in urls}

    def __contains__(self, url: object) -> bool:
        return isinstance(url, str) and url_key(url) in self._keys

    def add(self, url: str) -> None:
        self._keys.add(url_key(url))

    def update(self, urls: Iterable[str]) -> None:
        self._keys.update(url_key(url) for url in urls)

    def __len__(self) -> int:
        return len(self._keys)
