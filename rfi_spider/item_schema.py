"""The item's JSON Schema (``schemas/article.schema.json``) and validation against it.

The schema is package data, read with ``importlib.resources`` (there is no file
path inside a Scrapyd egg). It is the single definition of a valid item: the
crawl's :class:`~rfi_spider.archive.pipelines.ValidationPipeline` and ``scrapy qa`` both
call :func:`field_errors`.

The crawl first asks :func:`is_valid`: the same schema compiled once to plain Python by
``fastjsonschema``, about 50 times faster than ``jsonschema``'s generic walk (issue 26:
validation was the largest part of the pipelines' time a page). Only an item it refuses
goes through :func:`field_errors`, for the messages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend

from rfi_spider import editions
from rfi_spider.editions import EDITIONS
from rfi_spider.items import FIELDS

SCHEMA_PACKAGE = "rfi_spider.schemas"
ARTICLE_SCHEMA = "article.schema.json"
# Messages quote the offending value; a paragraph can be long.
_MAX_MESSAGE = 160


@dataclass(frozen=True)
class FieldError:
    """One way an item breaks the schema: the top-level field and what is wrong."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


# One path segment of a canonical URL: unreserved characters or upper-case %XX.
_SEGMENT = r"(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-F]{2})+"
_DAY = r"(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"


def url_pattern(keys: list[str]) -> str:
    """The schema's pattern of a canonical article URL of the editions ``keys``."""
    prefixes = "|".join(re.escape(key) for key in keys)
    return rf"^https://www\.rfi\.fr/(?:{prefixes})/(?:{_SEGMENT}/){{1,2}}{_DAY}-{_SEGMENT}$"


def with_editions(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with its edition rules rebuilt from ``editions.EDITIONS``: the URL
    pattern of every edition, the ``edition`` keys, and an item's URL in its edition."""
    keys = list(EDITIONS)
    schema = json.loads(json.dumps(schema))  # a copy
    schema["properties"]["url"]["pattern"] = url_pattern(keys)
    schema["properties"]["edition"]["enum"] = keys
    schema["allOf"] = [
        {
            "if": {"properties": {"edition": {"const": key}}, "required": ["edition"]},
            "then": {
                "properties": {
                    "url": {
                        "description": f"a URL of the edition {key}: https://www.rfi.fr/{key}/...",
                        "pattern": url_pattern([key]),
                    }
                }
            },
        }
        for key in keys
    ]
    return schema


@cache
def load_schema() -> dict[str, Any]:
    """The article schema, from the package's data, with the editions' rules."""
    text = resources.files(SCHEMA_PACKAGE).joinpath(ARTICLE_SCHEMA).read_text(encoding="utf-8")
    return with_editions(json.loads(text))


def _ecma_end(pattern: str) -> str:
    """JSON Schema patterns are ECMA 262 regexes, whose final ``$`` is the end of the text;
    Python's ``$`` also matches before a final newline: ``\\Z`` keeps ECMA's meaning."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + r"\Z"
    return pattern


@cache
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(_ecma_end(pattern))


def _pattern(validator: Validator, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not _compile(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


format_checker = FormatChecker(formats=())


@format_checker.checks("date-time", raises=ValueError)
def _is_timestamp_with_offset(value: object) -> bool:
    """ISO 8601 date and time that Python reads back, with a UTC offset."""
    if not isinstance(value, str):
        return True
    return datetime.fromisoformat(value).tzinfo is not None


ArticleValidator = extend(Draft202012Validator, validators={"pattern": _pattern})


@cache
def validator() -> Validator:
    """A validator of the article schema, with ``date-time`` formats checked."""
    return ArticleValidator(load_schema(), format_checker=format_checker)


def _dollars_in_sets_escaped(pattern: str) -> str:
    """``$`` inside a ``[...]`` set written ``\\$`` (the same set): fastjsonschema turns
    every unescaped ``$`` of a pattern into ``\\Z``, which is an error inside a set."""
    out, in_set, escaped = [], False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[" and not in_set:
            in_set = True
        elif char == "]" and in_set:
            in_set = False
        elif char == "$" and in_set:
            char = "\\$"
        out.append(char)
    return "".join(out)


def _for_fastjsonschema(node: Any) -> Any:
    """A copy of a schema with every ``pattern`` made safe for fastjsonschema."""
    if isinstance(node, dict):
        return {
            key: _dollars_in_sets_escaped(value)
            if key == "pattern" and isinstance(value, str)
            else _for_fastjsonschema(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_for_fastjsonschema(value) for value in node]
    return node


# Keywords that say nothing of whether a value is valid.
_ANNOTATIONS = frozenset({"$comment", "description", "title", "examples"})
# Keywords that only strings can fail: any other value passes them.
_STRING_ONLY = frozenset({"pattern", "format", "minLength", "maxLength"})
_DEFS = "#/$defs/"


def _inlined(node: Any, defs: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """A copy of a schema that fastjsonschema turns into cheaper code, valid for the same
    values (issue 26: the compiled check cost about 70 µs an item, now about 40):

    - a ``$ref`` to ``$defs`` (with annotations only beside it) is replaced by what it
      points to: fastjsonschema calls a function for each, and for a list's items
      builds its name with ``str.format(**locals())`` at every item;
    - ``anyOf: [{type: null}, {type: string, ...}]`` whose string branch has only
      string keywords becomes ``type: [null, string]`` with them: fastjsonschema tries
      the branches in order and raises (building the branch's definition) for each
      that fails, the null one for every string."""
    if isinstance(node, list):
        return [_inlined(value, defs, seen) for value in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(_DEFS) and ref not in seen:
        target = defs.get(ref[len(_DEFS) :])
        if isinstance(target, dict) and set(node) - {"$ref"} <= _ANNOTATIONS:
            beside = {key: value for key, value in node.items() if key != "$ref"}
            return {**_inlined(target, defs, (*seen, ref)), **beside}
    out = {
        key: value if key == "$defs" else _inlined(value, defs, seen) for key, value in node.items()
    }
    branches = out.get("anyOf")
    if (
        set(out) - _ANNOTATIONS == {"anyOf"}
        and isinstance(branches, list)
        and len(branches) == 2
        and branches[0] == {"type": "null"}
        and isinstance(branches[1], dict)
        and branches[1].get("type") == "string"
        and set(branches[1]) <= {"type"} | _ANNOTATIONS | _STRING_ONLY
    ):
        return {**branches[1], "type": ["null", "string"]}
    return out


def _is_timestamp(value: object) -> bool:
    """``date-time`` for fastjsonschema: the rule of :func:`_is_timestamp_with_offset`."""
    try:
        return _is_timestamp_with_offset(value)
    except ValueError:
        return False


@cache
def _compiled() -> Callable[[Any], Any]:
    """The article schema as one Python function (fastjsonschema), made once.

    fastjsonschema knows drafts 4 to 7: the schema uses nothing of 2020-12 that draft 7
    lacks (``$defs`` is reached by JSON pointer), so it is compiled as draft 7. Its
    ``$id`` is left out: references are all local. fastjsonschema reads a pattern's final
    ``$`` as ECMA 262 does, the end of the text (as :func:`_ecma_end` does here)."""
    schema = _for_fastjsonschema(load_schema())
    schema = _inlined(schema, schema["$defs"])
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    schema.pop("$id", None)
    return fastjsonschema.compile(schema, formats={"date-time": _is_timestamp})


def is_valid(data: Any) -> bool:
    """Whether ``data`` (a parsed JSON line) is a valid item: :func:`field_errors` is
    empty exactly when this is true, at a fraction of its cost."""
    try:
        _compiled()(data)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _clear_caches() -> None:
    load_schema.cache_clear()
    validator.cache_clear()
    _field_validator.cache_clear()
    _compiled.cache_clear()


editions.on_change(_clear_caches)


def always_filled() -> tuple[str, ...]:
    """Fields every valid item has filled: required, never null, never an empty list."""
    schema = load_schema()
    filled = []
    for name in schema["required"]:
        spec = schema["properties"][name]
        nullable = any(branch.get("type") == "null" for branch in spec.get("anyOf", []))
        may_be_empty = spec.get("type") == "array" and not spec.get("minItems")
        if not (nullable or may_be_empty):
            filled.append(name)
    return tuple(filled)


@cache
def _field_validator(name: str) -> Validator:
    root = load_schema()
    subschema = {"$schema": root["$schema"], "$defs": root["$defs"], **root["properties"][name]}
    return ArticleValidator(subschema, format_checker=format_checker)


def value_errors(name: str, value: Any) -> list[str]:
    """What is wrong with one field's value, checked against that field's schema alone."""
    errors = _field_validator(name).iter_errors(value)
    return list(dict.fromkeys(_message(error, field_steps=0) for error in errors))


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _message(error: ValidationError, field_steps: int = 1) -> str:
    """What is wrong, in the schema's own words (its ``description``) where it has them."""
    if error.context:
        # anyOf (a nullable field): the reason from the non-null branch says more.
        useful = [
            e for e in error.context if not (e.validator == "type" and e.validator_value == "null")
        ]
        if useful:
            error = useful[0]
    path = list(error.absolute_path)[field_steps:]
    where = "".join(f"[{step}]" for step in path) + ": " if path else ""
    expected = error.schema.get("description") if isinstance(error.schema, dict) else None
    if expected and error.validator != "type":
        got = _shorten(json.dumps(error.instance, ensure_ascii=False))
        return f"{where}expected {expected}, got {got}"
    return f"{where}{_shorten(error.message)}"


def field_errors(data: Any) -> list[FieldError]:
    """Every way ``data`` (a parsed JSON line) breaks the schema, by top-level field.

    An empty list means the item is valid.
    """
    if not isinstance(data, Mapping):
        return [FieldError("(item)", "not a JSON object")]
    errors: list[FieldError] = []
    for error in validator().iter_errors(dict(data)):
        # Both keywords apply to objects only: their error has the object and the schema's
        # value (the stubs also allow jsonschema's "unset" marker, for errors made by hand).
        instance, value = error.instance, error.validator_value
        if error.validator == "required":
            assert isinstance(instance, dict) and isinstance(value, list)
            errors += [FieldError(name, "missing") for name in value if name not in instance]
        elif error.validator == "additionalProperties":
            assert isinstance(instance, dict)
            known = load_schema()["properties"]
            errors += [
                FieldError(name, "not a field of the item")
                for name in instance
                if name not in known
            ]
        else:
            field = str(error.absolute_path[0]) if error.absolute_path else "(item)"
            errors.append(FieldError(field, _message(error)))
    order = {name: index for index, name in enumerate(FIELDS)}
    return sorted(set(errors), key=lambda e: (order.get(e.field, len(order)), e.field, e.message))
