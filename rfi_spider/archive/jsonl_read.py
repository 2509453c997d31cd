"""``items.jsonl`` read line by line, safely: a hostile line costs neither memory nor a crash.

An over-long line is read past in chunks, never held whole; a line whose JSON is nested too
deep, holds a huge integer, ``NaN`` or a lone surrogate is refused before anything else reads
it (``json.loads`` raises RecursionError on deep nesting, and ``int()`` of thousands of
digits is slow). ``scrapy qa`` reports what is refused; ``scrapy feed`` and the versions'
reader pass over it. Kept here, beside the export that writes the file, so that both
archive's readers and QA (which sits above archive) read it the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

# Longest line of items.jsonl (and largest seed-style file) read, in bytes; longer ones
# are findings, skipped without being held in memory. RFI_QA_MAX_LINE_BYTES overrides it.
MAX_LINE_BYTES = 16 * 1024 * 1024
# An item is an object of strings and lists of strings: deeper lines, longer integers
# are refused before anything else reads them.
MAX_DEPTH = 32
MAX_INT_DIGITS = 100
# How much of an over-long line is read at a time while passing over it.
SKIP_CHUNK = 1024 * 1024
_SURROGATE = re.compile("[\ud800-\udfff]")


def read_lines(handle: BinaryIO, max_bytes: int) -> Iterator[tuple[bytes | None, int]]:
    """``(line, size)`` of each line; ``(None, size)`` for a line of more than
    ``max_bytes`` bytes (newline not counted), read past in chunks and never held whole."""
    while True:
        raw = handle.readline(max_bytes + 1)
        if not raw:
            return
        if len(raw) <= max_bytes or raw.endswith(b"\n"):
            yield raw, len(raw.rstrip(b"\n"))
            continue
        size = len(raw)
        while not raw.endswith(b"\n"):
            raw = handle.readline(SKIP_CHUNK)
            if not raw:
                break
            size += len(raw)
        yield None, size - raw.endswith(b"\n")


def _refuse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(digits.lstrip('-'))} digits")
    return int(digits)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _shape_problem(value: Any) -> str | None:
    """Why a parsed line is no item that can be read: nested too deep, or a lone surrogate
    (written as its escape, ``\\ud800``, so that the message is Unicode text)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(node, dict):
            stack.extend((key, depth) for key in node)
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
        elif isinstance(node, str) and (match := _SURROGATE.search(node)):
            escape = f"\\u{ord(match.group()):04x}"
            return f"a lone surrogate ({escape}) in a string: not Unicode text"
    return None


def parse_line(text: str) -> tuple[Any, str | None]:
    """``(value, None)`` for a line of JSON that can be read, else ``(None, why not)``."""
    try:
        value = json.loads(text, parse_int=_refuse_int, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        return None, f"not JSON ({error.msg} at column {error.colno})"
    except RecursionError:
        return None, "not JSON that can be read (nested too deep)"
    except ValueError as error:
        return None, f"not JSON that can be read ({error})"
    problem = _shape_problem(value)
    return (None, f"not JSON that can be read ({problem})") if problem else (value, None)
