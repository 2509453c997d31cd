"""A page's JSON-LD: its scripts parsed into objects, the article's object, its values.

Read by the page view (``page.py``), which finds the scripts on its walk of the page.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rfi_spider.extract.processors import drop_surrogates

_ARTICLE_TYPES = {"NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle"}

# A JSON escape of a surrogate (``\\ud800``): the only way parsed JSON can hold a lone one
# (the page's text came through a UTF-8 decode).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

# How deep a JSON-LD value is read (a string in a list of objects is 3): deeper is not data.
_LD_DEPTH = 8


def ld_strings(value: Any, depth: int = _LD_DEPTH) -> list[str]:
    """JSON-LD values that may be a string, a list, or objects with ``name``/``url``."""
    if value is None or depth <= 0:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        inner = value.get("name") or value.get("url") or value.get("contentUrl")
        return ld_strings(inner, depth - 1)
    if isinstance(value, list):
        return [s for item in value for s in ld_strings(item, depth - 1)]
    return []


def without_surrogates(data: Any) -> Any:
    """Parsed JSON with lone surrogates (``"\\ud800"``, which UTF-8 cannot encode) removed
    from every string and key; a walk with a stack of its own, never a recursion."""

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return drop_surrogates(value)
        if isinstance(value, dict):
            copy: dict[str, Any] = {}
            stack.append((value, copy))
            return copy
        if isinstance(value, list):
            items: list[Any] = []
            stack.append((value, items))
            return items
        return value

    stack: list[tuple[Any, Any]] = []
    result = clean(data)
    while stack:
        source, target = stack.pop()
        if isinstance(source, dict):
            for key, value in source.items():
                target[drop_surrogates(key)] = clean(value)
        else:
            target.extend(clean(value) for value in source)
    return result


def objects_of(text: str) -> list[dict[str, Any]]:
    """The JSON-LD objects of one script, ``@graph`` members flattened, lone surrogates
    removed; raises whatever a script that does not parse raises (``ValueError``,
    ``RecursionError`` for nesting 100,000 deep...)."""
    data = json.loads(text)
    if _SURROGATE_ESCAPE.search(text):  # only an escape can make a lone one
        data = without_surrogates(data)
    objects: list[dict[str, Any]] = []
    for item in data if isinstance(data, list) else [data]:
        if not isinstance(item, dict):
            continue
        graph = item.get("@graph")
        if isinstance(graph, list):
            objects.extend(g for g in graph if isinstance(g, dict))
        else:
            objects.append(item)
    return objects


def news_article_of(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The first NewsArticle (or Article) object, or an empty dict."""
    for item in objects:
        types = item.get("@type")
        types = types if isinstance(types, list) else [types]
        if _ARTICLE_TYPES.intersection(t for t in types if isinstance(t, str)):
            return item
    return {}
