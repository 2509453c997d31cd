"""Compact sets: what a long crawl remembers per page, in a few bytes per entry.

A canonical article URL is about 200 characters, 250 bytes as a Python string,
and a Python set of ints still costs about 140 bytes an entry. A crawl of
20,000 pages that kept its URLs (found, delivered) and Scrapy's request
fingerprints in Python sets held megabytes that grow with every page. Here each
is a 64-bit digest in an open-addressing table of machine words
(:class:`KeySet`): 8 to 16 bytes an entry. Two different URLs share a digest
with a probability of about n²/2⁶⁵: one in 10¹⁰ for a million URLs.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from hashlib import blake2b
from typing import Generic, TypeVar

T = TypeVar("T")


class KeySet:
    """A set of 64-bit integers, kept in an ``array('Q')`` (linear probing, half full at
    most). 0 marks an empty slot, so the key 0 is stored as 1."""

    __slots__ = ("_count", "_mask", "_table")

    def __init__(self, capacity: int = 1024) -> None:
        size = 1024
        while size < 2 * capacity:
            size *= 2
        self._table = array("Q", bytes(8 * size))
        self._mask = size - 1
        self._count = 0

    def _index(self, key: int) -> int:
        """The slot of ``key``, or the empty slot where it would go."""
        table, mask = self._table, self._mask
        index = key & mask
        while True:
            found = table[index]
            if found == key or not found:
                return index
            index = (index + 1) & mask

    def __contains__(self, key: int) -> bool:
        key = key or 1
        return self._table[self._index(key)] == key

    def add(self, key: int) -> None:
        key = key or 1
        index = self._index(key)
        if self._table[index] == key:
            return
        self._table[index] = key
        self._count += 1
        if 2 * self._count > len(self._table):
            self._grow()

    def _grow(self) -> None:
        old = self._table
        self._table = array("Q", bytes(16 * len(old)))
        self._mask = len(self._table) - 1
        for key in old:
            if key:
                self._table[self._index(key)] = key

    def __len__(self) -> int:
        return self._count


def url_key(url: str) -> int:
    """The 64-bit digest a :class:`UrlSet` keeps for ``url``."""
    return int.from_bytes(blake2b(url.encode("utf-8"), digest_size=8).digest(), "big")


class _DigestSet(Generic[T]):
    """``in``, ``add``, ``update`` and ``len`` of a set kept as 64-bit digests
    (:meth:`_key`): the values themselves are not kept."""

    __slots__ = ("_keys",)
    _kind: type

    def __init__(self, values: Iterable[T] = ()) -> None:
        self._keys = KeySet()
        self.update(values)

    @staticmethod
    def _key(value: T, /) -> int:  # positional: a subclass may name it as it likes
        raise NotImplementedError

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, self._kind):
            return False
        return self._key(value) in self._keys  # type: ignore[arg-type]

    def add(self, value: T) -> None:
        self._keys.add(self._key(value))

    def update(self, values: Iterable[T]) -> None:
        for value in values:
            self.add(value)

    def __len__(self) -> int:
        return len(self._keys)


class UrlSet(_DigestSet[str]):
    """A set of URLs, without keeping the URLs (:func:`url_key` of each)."""

    __slots__ = ()
    _kind = str
    _key = staticmethod(url_key)


class FingerprintSet(_DigestSet[bytes]):
    """Scrapy's request fingerprints (SHA-1 digests, as bytes), kept as their first 64 bits:
    what :class:`~rfi_spider.crawl.dupefilter.ResumableDupeFilter` remembers per request."""

    __slots__ = ()
    _kind = bytes

    @staticmethod
    def _key(value: bytes) -> int:
        return _prefix(value)


def _prefix(fingerprint: bytes) -> int:
    return int.from_bytes(fingerprint[:8], "big")
