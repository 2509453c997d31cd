"""One WARC record read within bounds, from chunks of its bytes (issue 24, item 5).

``from_warc`` and ``scrapy wacz`` used to inflate a whole record and hand it to
warcio: a 200 MB record (204 KB gzipped) took 1.36 GB, and a header of one enormous
line took quadratic time in warcio's line reader (64 MB: 68 s). :class:`RecordReader`
is fed the record's bytes chunk by chunk (as a gzip member is inflated, or a plain
file read) and keeps only what it needs:

- each header block (the WARC header, then a response's HTTP header) up to
  :data:`MAX_HEADER_BYTES`, found by its blank line in one linear pass and only then
  parsed by warcio's ``StatusAndHeadersParser``; a longer one is ``header_too_large``;
- the payload streamed through its ``WARC-Payload-Digest``, held only when asked,
  and never past ``max_payload`` (``DOWNLOAD_MAXSIZE``, as a download): a longer one
  is ``too_large``, and the reader wants no more bytes (:attr:`RecordReader.done`).

A problem is a :class:`RecordError` with a reason (the ``rfi/warc/bad/<reason>``
counters) when the record is closed.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from typing import Any, BinaryIO

from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser
from zlib_ng import zlib_ng

from rfi_spider.archive.warc_files import INFLATE_STEP

# The longest WARC header block, and the longest HTTP header block of a response (each).
# Real ones are a few KB; Scrapy's own HTTP client refuses header lines over 64 KB.
MAX_HEADER_BYTES = 256 * 1024
# The longest warcinfo block read for its fields.
MAX_INFO_BYTES = 64 * 1024
# Records that carry a page: a response, or a page the browser fallback got.
SERVED_TYPES = frozenset({"response", "resource"})
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_WARC_PARSER = StatusAndHeadersParser(["WARC/1.0", "WARC/1.1", "WARC/0.17", "WARC/0.18"])
_HTTP_PARSER = StatusAndHeadersParser(["HTTP/1.0", "HTTP/1.1"], verify=False)
# A record's bytes as fed, or a view of them (what follows a header within its chunk).
Bytes = bytes | memoryview


class RecordError(Exception):
    """A record that cannot be used: ``reason`` (a counter's last part) and a detail."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass
class Record:
    """What a record says: its type, URL and date, its headers, its payload (if kept)."""

    rec_type: str
    headers: StatusAndHeaders
    http: StatusAndHeaders | None
    payload: bytes | None  # None unless kept (or the warcinfo block, up to MAX_INFO_BYTES)
    payload_length: int

    @property
    def url(self) -> str | None:
        return self.headers.get_header("WARC-Target-URI")

    @property
    def date(self) -> datetime | None:
        return record_date(self.headers.get_header("WARC-Date"))


def record_date(value: str | None) -> datetime | None:
    """A ``WARC-Date`` as an aware datetime, or None."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _digester(declared: str | None) -> tuple[Any, str] | None:
    """A hash object for a ``WARC-Payload-Digest`` (``sha1:BASE32`` or hex), and the value."""
    if not declared:
        return None
    algorithm, _, value = declared.partition(":")
    try:
        return hashlib.new(algorithm.strip().lower().replace("-", "")), value.strip()
    except ValueError:
        return None  # an algorithm hashlib does not know: not judged


def digest_value_matches(digest: bytes, value: str) -> bool:
    """Whether a digest is ``value``, written in base 32 (as WARC writers do) or hex."""
    return base64.b32encode(digest).decode() == value.upper() or digest.hex() == value.lower()


class RecordReader:
    """Reads one record fed in chunks (see the module doc); :meth:`close` gives it.

    ``max_payload``: the longest payload (0 or None: no limit); ``keep_payload``: hold
    the payload (a replayed answer) or only digest it (an index pass).
    """

    def __init__(self, max_payload: int | None = None, keep_payload: bool = False) -> None:
        self.max_payload = max_payload or 0
        self.keep_payload = keep_payload
        self.buffer = bytearray()  # the header block being read
        self.state = "warc"  # warc -> http -> payload -> end; or error
        self.error: RecordError | None = None
        self.headers: StatusAndHeaders | None = None
        self.http: StatusAndHeaders | None = None
        self.header_length = 0  # the WARC header block's bytes
        self.content_length = 0  # the block's, as declared
        self.block_read = 0  # bytes of the block fed so far
        self.payload_length = 0
        self.parts: list[Bytes] = []
        self.digest: tuple[Any, str] | None = None

    @property
    def done(self) -> bool:
        """No more bytes are needed: the record is read, or cannot be used."""
        return self.state in ("end", "error")

    @property
    def record_length(self) -> int | None:
        """The record's bytes (header and block), once its header is read."""
        return self.header_length + self.content_length if self.headers is not None else None

    def fail(self, reason: str, detail: str) -> None:
        self.error = RecordError(reason, detail)
        self.state = "error"
        self.buffer = bytearray()
        self.parts = []

    def feed(self, data: Bytes) -> None:
        """The record's next bytes (those past its block are ignored)."""
        if self.state == "warc":
            data = self._warc_header(data)
        if not data or self.state not in ("http", "payload", "info", "skip"):
            return
        data = data[: self.content_length - self.block_read]
        self.block_read += len(data)
        if self.state == "http":
            data = self._http_header(data)
        if data and self.state == "payload":
            self._payload(data)
        elif data and self.state == "info":
            kept = sum(map(len, self.parts))
            if kept < MAX_INFO_BYTES:
                self.parts.append(data[: MAX_INFO_BYTES - kept])
        if self.state != "error" and self.block_read >= self.content_length:
            self.state = "end"

    def _head(self, data: Bytes, what: str) -> tuple[Bytes, Bytes] | None:
        """The header block (to its blank line) and what follows, once both are fed.

        A header that begins a chunk (the usual case: a record's chunk holds its headers
        and its page) is found in the chunk itself and what follows is a view of it: the
        page is not copied (it was copied six times a record, a fifth of a replayed
        page's reading). Only a header that spans chunks is held in :attr:`buffer`."""
        if not self.buffer:
            found = _BLANK_LINE.search(data, 0, MAX_HEADER_BYTES)
            if found is not None:
                view = memoryview(data)
                return view[: found.end()], view[found.end() :]
            if len(data) > MAX_HEADER_BYTES:
                self.fail("header_too_large", f"a {what} header over {MAX_HEADER_BYTES} bytes")
                return None
        start = max(0, len(self.buffer) - 3)
        self.buffer += data
        found = _BLANK_LINE.search(self.buffer, start)
        if found is None:
            if len(self.buffer) > MAX_HEADER_BYTES:
                self.fail("header_too_large", f"a {what} header over {MAX_HEADER_BYTES} bytes")
            return None
        if found.end() > MAX_HEADER_BYTES:
            self.fail("header_too_large", f"a {what} header over {MAX_HEADER_BYTES} bytes")
            return None
        head, rest = bytes(self.buffer[: found.end()]), bytes(self.buffer[found.end() :])
        self.buffer = bytearray()
        return head, rest

    def _warc_header(self, data: Bytes) -> Bytes:
        if len(self.buffer) < 5:  # the version line, before anything is held
            start = bytes(self.buffer) + data[:5]
            if not b"WARC/".startswith(start[:5]):
                self.fail("not_warc", "no WARC/ version line")
                return b""
        split = self._head(data, "WARC")
        if split is None:
            return b""
        head, rest = split
        try:
            self.headers = _WARC_PARSER.parse(BytesIO(head))
            self.content_length = int(self.headers.get_header("Content-Length") or "")
        except Exception as exc:  # whatever a broken header raises, it is one bad record
            self.fail("not_warc", f"{type(exc).__name__}: {exc}")
            return b""
        if self.content_length < 0:
            self.fail("bad_header", "a negative Content-Length")
            return b""
        self.header_length = len(head)
        rec_type = (self.headers.get_header("WARC-Type") or "").lower()
        content_type = (self.headers.get_header("Content-Type") or "").lower()
        if rec_type == "response" and content_type.startswith("application/http"):
            self.state = "http"
        elif rec_type in SERVED_TYPES:
            self.state = "payload"
            self._start_payload()
        elif rec_type == "warcinfo":
            self.state = "info"
        else:
            self.state = "skip"  # request, metadata, revisit...: nothing to answer with
        if self.content_length == 0:
            self.state = "end"
        return rest

    def _http_header(self, data: Bytes) -> Bytes:
        split = self._head(data, "HTTP")
        if split is None:
            return b""  # more to come; close() says if the block ends before it does
        head, rest = split
        try:
            self.http = _HTTP_PARSER.parse(BytesIO(head))
        except Exception as exc:
            self.fail("bad_header", f"an HTTP header warcio cannot read: {exc}")
            return b""
        self.state = "payload"
        self._start_payload()
        return rest

    def _start_payload(self) -> None:
        assert self.headers is not None
        self.digest = _digester(self.headers.get_header("WARC-Payload-Digest"))

    def _payload(self, data: Bytes) -> None:
        self.payload_length += len(data)
        if self.max_payload and self.payload_length > self.max_payload:
            self.fail("too_large", f"a payload over {self.max_payload} bytes (DOWNLOAD_MAXSIZE)")
            return
        if self.digest is not None:
            self.digest[0].update(data)
        if self.keep_payload:
            self.parts.append(data)

    def close(self) -> Record:
        """The record; :class:`RecordError` when it cannot be used."""
        if self.error is not None:
            raise self.error
        if self.headers is None:
            if not self.buffer:
                raise RecordError("not_warc", "no record")
            raise RecordError("not_warc", "the record stops inside its WARC header")
        rec_type = (self.headers.get_header("WARC-Type") or "").lower()
        if rec_type == "response" and self.http is None:
            raise RecordError("bad_header", "a response record without HTTP headers")
        if self.state == "payload" and self.block_read < self.content_length:
            raise RecordError(
                "bad_length",
                f"{self.block_read} bytes of a block of Content-Length {self.content_length}",
            )
        if self.digest is not None:
            hasher, value = self.digest
            if not digest_value_matches(hasher.digest(), value):
                declared = self.headers.get_header("WARC-Payload-Digest")
                raise RecordError("bad_digest", f"the payload does not match {declared}")
        payload = b"".join(self.parts) if (self.keep_payload or rec_type == "warcinfo") else None
        return Record(rec_type, self.headers, self.http, payload, self.payload_length)


def inflate_member(stream: BinaryIO, length: int) -> Iterator[bytes]:
    """The inflated bytes of the gzip member of ``length`` bytes at the stream's position,
    :data:`INFLATE_STEP` at a time (a gzip bomb is never inflated whole); a corrupt
    member raises one of ``INFLATE_ERRORS``.

    zlib-ng's inflate, as :func:`~rfi_spider.archive.warc_files.gzip_members`'s: a
    re-extraction inflates every page it answers in the crawl's process, which bounds it
    (issue 26), and zlib's took about 0.5 ms of its CPU a page."""
    inflater = zlib_ng.decompressobj(31)
    left = length
    while left > 0 and not inflater.eof:
        data = stream.read(min(left, INFLATE_STEP))
        if not data:
            return
        left -= len(data)
        while True:
            out = inflater.decompress(data, INFLATE_STEP)
            if out:
                yield out
            if inflater.eof or (not inflater.unconsumed_tail and len(out) < INFLATE_STEP):
                break
            data = inflater.unconsumed_tail


def read_plain(stream: BinaryIO, reader: RecordReader) -> int:
    """Feed ``reader`` from an uncompressed WARC at the stream's position until it is done
    (a payload past its limit stops the reading there); the bytes read."""
    read = 0
    while not reader.done:
        want = INFLATE_STEP
        if reader.record_length is not None:
            want = min(want, reader.record_length - read)
            if want <= 0:
                break
        data = stream.read(want)
        if not data:
            break
        read += len(data)
        reader.feed(data)
    return read
