"""Data-only encoding of the requests a distributed crawl keeps in Redis: JSON, never pickle.

scrapy-redis pickles requests by default, and unpickling runs whatever the pickle says:
anyone who can write one key of the crawl's Redis would run code in every node. Here a
request is :meth:`scrapy.Request.to_dict` (Scrapy's own dict of it) as JSON, and reading
one back can only build a :class:`~scrapy.Request`:

- values JSON lacks (``bytes`` headers and bodies, tuples, ``date`` sitemap months, dicts
  with non-string keys) are tagged objects of one key (``{"bytes": ...}``); a JSON object
  that is not such a tag is refused, so no value is ambiguous;
- the callback and errback must be public methods of the spider (not ``__class__``,
  ``__init__`` or an attribute that only happens to be callable);
- a request class (``_class``) must be a :class:`~scrapy.Request` class already imported
  by this process: a value never makes Scrapy import a module.

A value that does not decode (not JSON, not this shape, a pickle) raises :class:`BadValueError`;
the caller counts it (``rfi/redis/bad_value``), logs one line and skips it. A request that
holds live objects (the browser fallback's page methods) raises :class:`UnencodableError`: it
stays in the process that made it (``distributed.SharedScheduler``).

``SCHEDULER_SERIALIZER`` names this module (its :func:`dumps` and :func:`loads`) and
``SCHEDULER_QUEUE_CLASS`` :class:`RequestQueue`, scrapy-redis's priority queue on it.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from datetime import date, datetime
from typing import Any

from scrapy import Request, Spider
from scrapy.utils.request import request_from_dict
from scrapy_redis.queue import PriorityQueue

# Public method names only: no dunder, no private helper of the spider.
_METHOD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_CLASS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")
_TAGS = ("bytes", "tuple", "dict", "date", "datetime")


class BadValueError(ValueError):
    """A value read from Redis that is not one of ours: never run, counted and skipped."""


class UnencodableError(TypeError):
    """A request holding a value that is not data (a function, a live object)."""


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, bytes):
        return {"bytes": value.decode("latin-1")}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, tuple):
        return {"tuple": [_encode(v) for v in value]}
    if isinstance(value, dict):
        return {"dict": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    raise UnencodableError(f"a {type(value).__name__} is not data")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value  # str, int, float, bool, None
    if len(value) != 1 or next(iter(value)) not in _TAGS:
        raise BadValueError(f"an object that is not a tag: {sorted(value)[:3]}")
    ((tag, inner),) = value.items()
    if tag in ("tuple", "dict") and not isinstance(inner, list):
        raise BadValueError(f"{tag}: not a list")
    if tag in ("bytes", "date", "datetime") and not isinstance(inner, str):
        raise BadValueError(f"{tag}: not a string")
    if tag == "bytes":
        return inner.encode("latin-1")
    if tag == "tuple":
        return tuple(_decode(v) for v in inner)
    if tag == "date":
        return date.fromisoformat(inner)
    if tag == "datetime":
        return datetime.fromisoformat(inner)
    pairs = [_decode(pair) for pair in inner]
    if not all(isinstance(pair, list) and len(pair) == 2 for pair in pairs):
        raise BadValueError("dict: not a list of pairs")
    return dict(pairs)


def dumps(obj: Any) -> bytes:
    """``obj`` (a request's dict) as tagged JSON; :class:`UnencodableError` for a non-data value."""
    try:
        text = json.dumps(_encode(obj), ensure_ascii=False, allow_nan=False)
    except ValueError as error:  # NaN or infinity
        raise UnencodableError(str(error)) from None
    return text.encode("utf-8")


def loads(data: bytes | str) -> Any:
    """The value :func:`dumps` wrote; :class:`BadValueError` for anything else (a pickle)."""
    try:
        return _decode(json.loads(data))
    except BadValueError:
        raise
    except (ValueError, TypeError, RecursionError) as error:  # not JSON, unhashable key...
        raise BadValueError(f"{type(error).__name__}: {str(error)[:80]}") from None


def encode_request(request: Request, spider: Spider | None) -> bytes:
    """A request as :func:`dumps` writes it (its callbacks by name: spider methods only)."""
    try:
        return dumps(request.to_dict(spider=spider))
    except ValueError as error:  # Scrapy: a callback that is not a spider method
        raise UnencodableError(str(error)) from None


def _method(spider: Spider, name: Any, role: str) -> None:
    if name is None:
        return
    if not isinstance(name, str) or not _METHOD.fullmatch(name):
        raise BadValueError(f"{role} {str(name)[:40]!r} is not a method name")
    method = getattr(spider, name, None)
    if not (inspect.ismethod(method) and method.__self__ is spider):
        raise BadValueError(f"{role} {name!r} is not a method of the spider")


def _request_class(name: Any) -> None:
    if name is None:
        return
    if not isinstance(name, str) or not _CLASS.fullmatch(name):
        raise BadValueError("_class is not a dotted name")
    module_name, _, class_name = name.rpartition(".")
    module = sys.modules.get(module_name)  # already imported: nothing is imported here
    found = getattr(module, class_name, None) if module is not None else None
    if not (isinstance(found, type) and issubclass(found, Request)):
        raise BadValueError(f"_class {name[:80]!r} is not a request class of this process")


def decode_request(data: bytes | str, spider: Spider) -> Request:
    """The request ``data`` holds; :class:`BadValueError` when it is not a request of ours."""
    obj = loads(data)
    if not isinstance(obj, dict) or not isinstance(obj.get("url"), str):
        raise BadValueError("not a request: no url")
    _method(spider, obj.get("callback"), "callback")
    _method(spider, obj.get("errback"), "errback")
    _request_class(obj.get("_class"))
    try:
        return request_from_dict(obj, spider=spider)
    except Exception as error:  # a field of the wrong type: Request() says which
        raise BadValueError(f"not a request: {type(error).__name__}: {str(error)[:80]}") from None


class RequestQueue(PriorityQueue):
    """scrapy-redis's priority queue (a sorted set) of requests encoded by this module."""

    def _encode_request(self, request: Request) -> bytes:
        return encode_request(request, self.spider)

    def _decode_request(self, encoded_request: bytes) -> Request:
        return decode_request(encoded_request, self.spider)
