"""The page list of a run's WACZ package: its articles, as the crawl fetched them.

ReplayWeb.page shows a WACZ's ``pages/pages.jsonl`` as the list of what the package
holds. ``scrapy wacz`` lists there each exported article (``items.jsonl``) whose page
the WARC files hold as a 2xx response or a browser page: its title, and the URL the
crawl fetched (``WARC-Target-URI``: through ``base_url`` it is not the canonical one).
An article that only a mirror feed gave has no page of its own: it is left out, and
counted. Bad input (a line that is no item, a WARC that cannot be read to its end, a
record whose digest does not match) is counted, never fatal; ``scrapy wacz`` refuses a
file that is no WARC at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from w3lib.url import canonicalize_url

from rfi_spider.archive.warc_files import Damage, gzip_members
from rfi_spider.archive.warc_index import page_of
from rfi_spider.archive.warc_records import RecordError, RecordReader

# The first line of pages.jsonl (the WACZ 1.1 page list format).
PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "Articles"}


def path_key(url: str) -> str:
    """A URL's path and query, canonical (escapes in upper case, query sorted), host aside."""
    parts = urlsplit(canonicalize_url(url, keep_fragments=False))
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


@dataclass
class Fetched:
    """The pages the WARC files hold (path key -> the URL fetched), the files that could
    not be read to their end, those that are no WARC (a gzip of something else), those
    with a record past the bounds (``warc_records``: the ``wacz`` tool would inflate it
    whole), and the records that were unreadable or failed their digest."""

    urls: dict[str, str] = field(default_factory=dict)
    unreadable: list[Path] = field(default_factory=list)
    not_warc: list[Path] = field(default_factory=list)
    too_large: list[Path] = field(default_factory=list)
    bad_records: int = 0


def fetched_pages(paths: Iterable[Path], max_payload: int = 0) -> Fetched:
    """The 2xx ``response`` and browser ``resource`` records of gzip WARC ``paths``, by
    path key; read member by member, within bounds (as ``from_warc`` reads them:
    ``max_payload`` is its longest payload), so that a torn or corrupt file keeps the
    records before the damage."""
    fetched = Fetched()
    for path in paths:
        try:
            with path.open("rb") as stream:
                members = gzip_members(stream, feed=lambda: RecordReader(max_payload))
                for number, part in enumerate(members):
                    if isinstance(part, Damage):
                        fetched.unreadable.append(path)
                        break
                    problem = _add(fetched, part.fed)
                    if problem == "not_warc" and number == 0:
                        fetched.not_warc.append(path)  # its first member is no record
                        break
                    if problem in ("too_large", "header_too_large"):
                        fetched.too_large.append(path)
                        break
        except OSError:
            fetched.unreadable.append(path)
    return fetched


def _add(fetched: Fetched, reader: RecordReader) -> str | None:
    """Note the page of one record; the reason it is bad, if it is."""
    try:
        answer = page_of(reader.close())
    except RecordError as problem:
        fetched.bad_records += 1
        return problem.reason
    if answer is None:
        return None  # warcinfo, request: no page
    url, _, status, browser = answer
    if browser or 200 <= status < 300:
        fetched.urls.setdefault(path_key(url), url)
    return None


@dataclass
class PageList:
    """What goes into pages.jsonl, and what was left out."""

    pages: list[dict[str, str]] = field(default_factory=list)
    not_fetched: int = 0  # articles with no page of their own in the WARC (mirror entries)
    bad_lines: int = 0  # lines of items.jsonl that are no item


def page_list(items_file: Path | None, fetched: Fetched) -> PageList:
    """The exported articles of ``items_file`` that ``fetched`` holds, in export order."""
    result = PageList()
    if items_file is None or not items_file.is_file():
        return result
    listed: set[str] = set()
    for item in _items(items_file, result):
        url, title = item.get("url"), item.get("title")
        if not isinstance(url, str) or not isinstance(title, str):
            result.bad_lines += 1
            continue
        key = path_key(url)
        fetched_url = fetched.urls.get(key)
        if fetched_url is None:
            result.not_fetched += 1
        elif key not in listed:
            listed.add(key)
            result.pages.append({"url": fetched_url, "title": title})
    return result


def _items(items_file: Path, result: PageList) -> Iterator[dict]:
    with items_file.open("rb") as lines:
        for line in lines:
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError:  # UnicodeDecodeError included
                result.bad_lines += 1
                continue
            if isinstance(item, dict):
                yield item
            else:
                result.bad_lines += 1


def render(pages: Iterable[dict[str, str]]) -> bytes:
    """pages.jsonl: the header line, then one page a line (UTF-8)."""
    lines = [PAGES_HEADER, *pages]
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
