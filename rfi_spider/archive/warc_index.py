"""The index of the records of WARC files, for ``-a from_warc``: which record answers a
URL (:class:`WarcArchive`), what the files' ``warcinfo`` says of the crawl that wrote them
(:func:`read_info`), and a record read back within bounds. The download handler that
answers from it is :mod:`rfi_spider.fetch.warc_replay`'s; the WACZ page list and archive.db
read a record's page with :func:`page_of` too, which is why this is archive's.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from w3lib.url import safe_url_string

from rfi_spider.archive.warc_files import INFLATE_ERRORS, Damage, gzip_members
from rfi_spider.archive.warc_records import (
    SERVED_TYPES,
    Record,
    RecordError,
    RecordReader,
    digest_value_matches,
    inflate_member,
    read_plain,
)

# Its lines keep the name they had in warc_replay.py (the log's [name] stays the same).
logger = logging.getLogger("rfi_spider.fetch.warc_replay")


def digest_matches(declared: str, payload: bytes) -> bool:
    """Whether ``WARC-Payload-Digest`` (``sha1:BASE32``, or hex) is that of ``payload``."""
    algorithm, _, value = declared.partition(":")
    try:
        digest = hashlib.new(algorithm.lower().replace("-", ""), payload).digest()
    except ValueError:
        return True  # an algorithm hashlib does not know: not judged
    return digest_value_matches(digest, value.strip())


def url_key(url: str) -> str:
    """A URL as the index knows it: escaped as Scrapy escapes a request's URL, scheme and
    host in lower case, no fragment. Nothing else is dropped: a record answers only the
    URL it was captured from."""
    parts = urlsplit(safe_url_string(url.strip()))
    netloc = parts.netloc.lower()
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


@dataclass(frozen=True)
class Entry:
    """Where one served record is: its file, its offset and length there, and its rank."""

    path: Path
    offset: int
    length: int
    gzipped: bool
    date: datetime
    rank: int  # 2: 2xx or browser page, 1: redirect, 0: other


@dataclass
class Answer:
    """A record read back, ready to become a Scrapy response."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    date: datetime
    browser: bool


@dataclass
class ArchiveInfo:
    """What the last ``warcinfo`` of the files says of the crawl that wrote them."""

    base_url: str | None = None
    mirrors: list[str] | None = None


# A file that cannot be read, or whose gzip is corrupt (zlib's or zlib-ng's error).
_UNREADABLE: tuple[type[Exception], ...] = (OSError, *INFLATE_ERRORS)


def first_record(path: Path) -> Record | None:
    """The first record of a WARC file, read within bounds; None when there is none."""
    reader = RecordReader()
    with path.open("rb") as stream:
        head = stream.read(2)
        stream.seek(0)
        if head == b"\x1f\x8b":
            for part in gzip_members(stream, feed=lambda: reader):
                if isinstance(part, Damage):
                    return None
                break
        else:
            read_plain(stream, reader)
    try:
        return reader.close()
    except RecordError:
        return None


def warcinfo_base_url(record: Record | None) -> tuple[str | None, datetime | None, dict[str, str]]:
    """``rfi-base-url`` of a ``warcinfo`` record rfi-spider wrote, its date, its fields."""
    if record is None or record.rec_type != "warcinfo":
        return None, None, {}
    fields = _warcinfo_fields(record.payload or b"")
    if "rfi-base-url" not in fields:
        return None, None, fields
    return fields["rfi-base-url"].rstrip("/") or None, record.date, fields


def read_info(paths: Iterable[Path]) -> ArchiveInfo:
    """The fetch root and mirrors of the latest ``warcinfo`` written by rfi-spider."""
    info = ArchiveInfo()
    latest: datetime | None = None
    for path in paths:
        try:
            base_url, date, fields = warcinfo_base_url(first_record(path))
        except _UNREADABLE:
            continue  # reported when the archive is read
        if "rfi-base-url" not in fields or (latest and date and date < latest):
            continue
        latest = date
        info.base_url = base_url
        mirrors = fields.get("rfi-mirrors", "")
        info.mirrors = [m for m in mirrors.split(",") if m]
    return info


def _warcinfo_fields(block: bytes) -> dict[str, str]:
    fields = {}
    for line in block.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip()] = value.strip()
    return fields


def page_of(record: Record) -> tuple[str, datetime, int, bool] | None:
    """(url, date, status, browser) of a record that answers a request, None for another
    kind (warcinfo, request...); :class:`RecordError` when it names no URL or date."""
    if record.rec_type not in SERVED_TYPES:
        return None
    url, date = record.url, record.date
    if not url or date is None:
        raise RecordError("bad_header", "no WARC-Target-URI or WARC-Date")
    if record.rec_type == "resource":
        return url, date, 200, True
    assert record.http is not None  # the reader refuses a response without them
    try:
        status = int(record.http.get_statuscode() or 0)
    except ValueError:
        raise RecordError("bad_header", f"{url}: an HTTP status that is no number") from None
    return url, date, status, False


class WarcArchive:
    """An index of the served records of WARC files: URL -> the best record for it.

    The best record of a URL is a 2xx response or a browser page before a redirect,
    before anything else; among equals, the latest. A record answers only the URL it
    was captured from (:func:`url_key`), and, when ``site`` (the fetch root) is given,
    only a record of the site or of ``hosts`` (the mirrors') is indexed: one of another
    host, or from a file whose ``warcinfo`` names another fetch root, is counted
    (``rfi/warc/skipped/other_host``, ``…/other_base_url``) and never answers. Records
    are read within bounds (``warc_records``): a payload over ``max_payload`` or an
    endless header is one bad record.
    """

    def __init__(
        self,
        paths: Iterable[Path],
        stats: Any = None,
        site: str | None = None,
        hosts: Iterable[str] = (),
        max_payload: int = 0,
    ) -> None:
        self.stats = stats
        self.site = url_key(site).rstrip("/") if site else None
        self.hosts = {host.lower() for host in hosts if host}
        self.max_payload = max_payload
        self.by_url: dict[str, Entry] = {}
        self.skipped: dict[str, int] = {}
        self.skipped_example: dict[str, str] = {}
        for path in paths:
            self._index_file(path)
        for reason, count in self.skipped.items():
            logger.warning(
                "from_warc: %d record(s) skipped (%s): not of %s%s, e.g. %s",
                count,
                reason,
                self.site,
                f" nor of the mirrors ({', '.join(sorted(self.hosts))})" if self.hosts else "",
                self.skipped_example[reason],
            )

    def _count(self, name: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(name)

    def bad(self, path: Path, offset: int | None, reason: str, detail: str) -> None:
        """One bad record (or file): a warning and ``rfi/warc/bad/<reason>``."""
        self._count(f"rfi/warc/bad/{reason}")
        where = f"{path}" if offset is None else f"{path} at byte {offset}"
        logger.warning("WARC %s: %s: %s; skipped", where, reason, detail)

    def _index_file(self, path: Path) -> None:
        self._count("rfi/warc/files")
        self.file_base: str | None = None
        try:
            with path.open("rb") as stream:
                head = stream.read(5)
                stream.seek(0)
                if head[:2] == b"\x1f\x8b":
                    self._index_gzip(path, stream)
                elif head.startswith(b"WARC/"):
                    self._index_plain(path, stream)
                else:
                    self.bad(path, None, "not_warc", "neither gzip nor a WARC record")
        except OSError as exc:
            self.bad(path, None, "unreadable", str(exc))

    def _reader(self) -> RecordReader:
        return RecordReader(self.max_payload)

    def _index_gzip(self, path: Path, stream: Any) -> None:
        for part in gzip_members(stream, feed=self._reader):
            if isinstance(part, Damage):
                what = (
                    "the file stops inside a record"
                    if part.reason == "truncated"
                    else ("bytes that are not gzip, or a bad CRC, up to the end of the file")
                )
                self.bad(path, part.offset, part.reason, what)
                return
            self._index_record(path, part.offset, part.length, True, part.fed)

    def _index_plain(self, path: Path, stream: Any) -> None:
        """An uncompressed WARC: each record's header read, its block skipped by its
        Content-Length (a payload past the limit is not read at all)."""
        offset = 0
        while True:
            stream.seek(offset)
            reader = self._reader()
            if not read_plain(stream, reader):
                return  # the end of the file
            length = reader.record_length
            if length is None:  # no header to go by: nothing after it can be found
                self._index_record(path, offset, 0, False, reader)
                return
            self._index_record(path, offset, length, False, reader)
            stream.seek(offset + length)
            offset += length + _separator(stream)

    def _index_record(
        self, path: Path, offset: int, length: int, gzipped: bool, reader: RecordReader
    ) -> None:
        try:
            record = reader.close()
            if record.rec_type == "warcinfo" and self.file_base is None:
                self.file_base = warcinfo_base_url(record)[0]
            answer = page_of(record)
        except RecordError as problem:
            url = reader.headers.get_header("WARC-Target-URI") if reader.headers else None
            detail = f"{url}: {problem.detail}" if url else problem.detail
            self.bad(path, offset, problem.reason, detail)
            return
        if answer is None:
            return  # warcinfo, request, metadata...: nothing to answer with
        url, date, status, browser = answer
        key = url_key(url)
        skipped = self._not_answerable(key)
        if skipped:
            self.skipped[skipped] = self.skipped.get(skipped, 0) + 1
            self.skipped_example.setdefault(skipped, f"{url} in {path}")
            self._count(f"rfi/warc/skipped/{skipped}")
            return
        self._count("rfi/warc/records")
        rank = 2 if browser or 200 <= status < 300 else 1 if 300 <= status < 400 else 0
        entry = Entry(path, offset, length, gzipped, date, rank)
        known = self.by_url.get(key)
        if known is None or (rank, date) >= (known.rank, known.date):
            self.by_url[key] = entry

    def _not_answerable(self, key: str) -> str | None:
        """Why a record of ``key`` may not answer this crawl (None: it may)."""
        if self.site is None:
            return None
        if key == self.site or key.startswith(self.site + "/"):
            if self.file_base is not None and url_key(self.file_base).rstrip("/") != self.site:
                return "other_base_url"  # its crawl fetched the site elsewhere
            return None
        if (urlsplit(key).hostname or "") in self.hosts:
            return None
        return "other_host"

    def find(self, url: str) -> Entry | None:
        return self.by_url.get(url_key(url))

    def __len__(self) -> int:
        return len(self.by_url)

    def load(self, entry: Entry, max_payload: int = 0) -> Answer:
        """Read one indexed record back (the archive is read again, not held in memory),
        its payload streamed and never past ``max_payload``: :class:`RecordError`."""
        reader = RecordReader(max_payload, keep_payload=True)
        with entry.path.open("rb") as stream:
            stream.seek(entry.offset)
            if entry.gzipped:
                try:
                    for data in inflate_member(stream, entry.length):
                        reader.feed(data)
                        if reader.done:
                            break
                except INFLATE_ERRORS as exc:
                    raise RecordError("corrupt", str(exc)) from None
            else:
                read_plain(stream, reader)
        record = reader.close()
        if record.rec_type == "resource":
            content_type = record.headers.get_header("Content-Type") or "text/html"
            return Answer(
                200, [("Content-Type", content_type)], record.payload or b"", entry.date, True
            )
        assert record.http is not None
        return Answer(
            int(record.http.get_statuscode() or 0),
            list(record.http.headers),
            record.payload or b"",
            entry.date,
            False,
        )


def _separator(stream: Any) -> int:
    """The blank lines after a record's block (``\\r\\n\\r\\n`` by the standard)."""
    skipped = 0
    while stream.read(1) in (b"\r", b"\n"):
        skipped += 1
    return skipped
