"""The seed-style text file: render it from an item, read it back, and its name.

The format, as the feed-mirror archiver of ``shared/seed`` writes it::

    <!--{pubDate in ms}-->
    [{title}]({url, percent-encoded})
    ------

    {HTML, each source line stripped, joined with nothing}

and a final newline. ``render(read(text)) == text`` for any file in this format.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from w3lib.url import safe_url_string

from rfi_spider.dates import ms_to_iso, paris_day

RULE = "------"
_LINE_END = re.compile(r"\r\n?|\n")
_COMMENT = re.compile(r"^<!--(-?\d+)-->$")
# JavaScript's String.prototype.trim() white space: the archiver's line stripping.
_JS_WHITESPACE = (
    "\t\n\v\f\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


class SeedFormatError(ValueError):
    """The text is not a seed-style file; the message says which line is wrong."""


@dataclass(frozen=True)
class SeedRecord:
    """What a seed-style file holds."""

    ms: int  # publication time, milliseconds since the epoch
    title: str
    url: str
    html: str  # one line

    @property
    def published_at(self) -> str:
        return ms_to_iso(self.ms)


def join_lines(html: str) -> str:
    """Strip each line of ``html`` and join them with nothing, as the archiver does.

    Lines end at LF, CR LF or a lone CR (a mirror's ``&#13;``): no CR is ever written, as
    a reader with universal newlines would see a line break in it."""
    return "".join(line.strip(_JS_WHITESPACE) for line in _LINE_END.split(html))


def whatwg_url(url: str) -> str:
    """A link percent-encoded the way a WHATWG URL serialiser writes it."""
    return safe_url_string(url.strip(), encoding="utf-8")


def render(record: SeedRecord) -> str:
    """The file's text. ``html`` must be one line already (see :func:`join_lines`)."""
    if "\n" in record.html or "\r" in record.html:
        raise SeedFormatError("html must be one line: pass it through join_lines()")
    title = _LINE_END.sub(" ", record.title)
    return f"<!--{record.ms}-->\n[{title}]({record.url})\n{RULE}\n\n{record.html}\n"


def read(text: str) -> SeedRecord:
    """Parse a seed-style file; raises :class:`SeedFormatError` naming the bad line."""
    lines = text.split("\n")
    if len(lines) != 6 or lines[5] != "":
        raise SeedFormatError(f"expected 5 lines and a final newline, got {len(lines) - 1}")
    comment = _COMMENT.match(lines[0])
    if not comment:
        raise SeedFormatError("line 1: expected <!--{milliseconds}-->")
    link = lines[1]
    split = link.rfind("](")
    if not (link.startswith("[") and link.endswith(")") and split > 0):
        raise SeedFormatError("line 2: expected [title](url)")
    if lines[2] != RULE or lines[3] != "":
        raise SeedFormatError(f"lines 3-4: expected {RULE!r} and an empty line")
    return SeedRecord(
        ms=int(comment.group(1)), title=link[1:split], url=link[split + 2 : -1], html=lines[4]
    )


def site_html(item: Mapping[str, Any]) -> str:
    """The HTML line of a site item, in the mirror's shape (date, image, chapo, body);
    ``item``: a parsed line, an item or its ``ItemAdapter`` (no copy needed)."""
    parts = [f"<div>{escape(item['date_text'], quote=False)}</div>"]
    if item.get("lead_image"):
        parts.append(f'<img src="{escape(item["lead_image"])}">')
    if item.get("summary"):
        parts.append(f"<p><strong>{escape(item['summary'], quote=False)}</strong></p>")
    parts.append(f"<div>{item.get('body_html') or ''}</div>")
    return "".join(parts)


def seed_file_name(url: str, published_at: str) -> str:
    """``YYYY/MM/DD/<16 hex of sha256(url)>.txt``: Paris date, never the title.

    Here, not beside the exporter that writes the files: the archive.db child names
    them too, and it does not import Scrapy (issue 26)."""
    day = paris_day(published_at)
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return f"{day:%Y}/{day:%m}/{day:%d}/{digest}.txt"
