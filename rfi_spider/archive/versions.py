"""Versions of an article: what counts as a change, and where each version is kept.

RFI edits articles after publishing them. A new version is a change of what the
article *says*: :func:`content_digest` hashes the title, summary, paragraphs, lead
image, authors and tags, and nothing else (not ``crawled_at``, not ``body_html``,
whose markup changes with ads and re-renders). A page fetched again whose digest
is the latest version's is the same version (``rfi/versions/unchanged``); any other
digest is the next version (``rfi/versions/changed``).

Each version is one line of ``items.jsonl`` with ``version`` (1, 2, ...),
``content_digest`` and ``previous_digest`` (null for version 1); its seed-style
file is ``<hash>.txt`` for version 1 (the path and bytes of an export without
versions) and ``<hash>.v<N>.txt`` beside it for later ones.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The fields whose content makes a version, in the order they are hashed.
CONTENT_FIELDS = ("title", "summary", "paragraphs", "lead_image", "authors", "tags")
_VERSION_NAME = re.compile(r"\.v([0-9]+)\.txt$")


def content_digest(item: Mapping[str, Any]) -> str:
    """The sha256 (hex) of a canonical JSON of the item's content fields.

    Canonical: the fields of :data:`CONTENT_FIELDS` only (absent ones as null), sorted
    keys, no spaces, UTF-8 not escaped. Empty lists and missing values hash alike, so
    an item read back from a JSON line has the digest of the item that wrote it.
    """
    content = {}
    for name in CONTENT_FIELDS:
        value = item.get(name)
        if isinstance(value, (list, tuple)):
            value = list(value) or None
        content[name] = value if value != "" else None
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Version:
    """One version of an article as the state knows it."""

    number: int
    digest: str


def version_number(line: Mapping[str, Any]) -> int:
    """The ``version`` of a JSON line; 1 for a line written before versions existed."""
    number = line.get("version")
    return number if type(number) is int and number >= 1 else 1


def line_version(line: Mapping[str, Any]) -> Version:
    """The version a JSON line of ``items.jsonl`` is: its own fields, or for a line
    written before versions existed, version 1 with the digest of its content."""
    number = line.get("version")
    digest = line.get("content_digest")
    if type(number) is not int or number < 1:
        number = 1
    if not isinstance(digest, str) or not digest:
        digest = content_digest(line)
    return Version(number, digest)


def versioned_name(name: str, version: int) -> str:
    """The seed-style file name of ``version`` from version 1's (``a/b.txt`` ->
    ``a/b.v2.txt``); version 1 keeps its name."""
    if version <= 1:
        return name
    return name.removesuffix(".txt") + f".v{version}.txt"


def version_of_name(name: str) -> int:
    """The version a seed-style file name holds (1 without a ``.v<N>`` suffix)."""
    found = _VERSION_NAME.search(name)
    return int(found.group(1)) if found else 1
