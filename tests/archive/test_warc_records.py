"""A WARC record read from chunks (``archive/warc_records.py``): the same record however
its bytes are cut, the header limit at the same byte whether a header begins a chunk (found
in the chunk itself, what follows it a view of it) or spans chunks (held until its end)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from rfi_spider.archive.warc_records import MAX_HEADER_BYTES, Record, RecordError, RecordReader

PAGE = "http://127.0.0.1:8080/cn/page"


def response(payload: bytes, warc_extra: bytes = b"", http_extra: bytes = b"") -> bytes:
    """One WARC response record with a correct payload digest."""
    digest = base64.b32encode(hashlib.sha1(payload).digest())
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + http_extra + b"\r\n" + payload
    return (
        b"WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: " + PAGE.encode() + b"\r\n"
        b"WARC-Date: 2026-03-01T12:00:00Z\r\nWARC-Payload-Digest: sha1:" + digest + b"\r\n"
        b"Content-Type: application/http; msgtype=response\r\n"
        + warc_extra
        + b"Content-Length: "
        + str(len(http)).encode()
        + b"\r\n\r\n"
        + http
        + b"\r\n\r\n"
    )


def read(data: bytes, step: int | None = None, keep_payload: bool = True) -> Record:
    """The record fed whole, or in chunks of ``step`` bytes."""
    reader = RecordReader(keep_payload=keep_payload)
    size = step or len(data)
    for start in range(0, len(data), size):
        reader.feed(data[start : start + size])
    return reader.close()


def facts(record: Record) -> tuple:
    assert record.http is not None
    return (
        record.rec_type,
        record.url,
        record.headers.headers,
        record.http.statusline,
        record.http.headers,
        record.payload,
        record.payload_length,
    )


@pytest.mark.parametrize("step", [1, 7, 100, 4096, None])
def test_a_record_is_the_same_however_its_bytes_are_cut(step: int | None) -> None:
    payload = "<html><p>中文</p></html>\r\n\r\n".encode() * 5000
    record = read(response(payload), step)
    assert facts(record) == facts(read(response(payload), 1))
    assert type(record.payload) is bytes and record.payload == payload
    assert record.payload_length == len(payload)


def header_of(size: int) -> bytes:
    """A WARC header line that makes the record's WARC header block ``size`` bytes."""
    base = len(response(b"x").split(b"\r\n\r\n", 1)[0]) + 4
    pad = size - base - len(b"X-Pad: \r\n")
    return b"X-Pad: " + b"a" * pad + b"\r\n"


@pytest.mark.parametrize("step", [None, 65536, 3])
def test_the_header_limit_is_at_the_same_byte_in_one_chunk_or_many(step: int | None) -> None:
    """A header block of exactly MAX_HEADER_BYTES is read; one byte more is
    ``header_too_large``, whether the header begins a chunk or spans chunks."""
    at_limit = response(b"<p>x</p>", header_of(MAX_HEADER_BYTES))
    assert len(at_limit.split(b"\r\n\r\n", 1)[0]) + 4 == MAX_HEADER_BYTES
    assert read(at_limit, step).payload == b"<p>x</p>"
    over = response(b"<p>x</p>", header_of(MAX_HEADER_BYTES + 1))
    with pytest.raises(RecordError) as error:
        read(over, step)
    assert error.value.reason == "header_too_large"


@pytest.mark.parametrize("step", [None, 5])
def test_an_http_header_over_the_limit_is_refused_too(step: int | None) -> None:
    record = response(b"<p>x</p>", http_extra=b"X-Pad: " + b"a" * MAX_HEADER_BYTES + b"\r\n")
    with pytest.raises(RecordError) as error:
        read(record, step)
    assert error.value.reason == "header_too_large"


@pytest.mark.parametrize("step", [None, 7])
def test_a_payload_that_does_not_match_its_digest_is_refused(step: int | None) -> None:
    record = response(b"<p>right</p>").replace(b"<p>right</p>", b"<p>wrong</p>")
    with pytest.raises(RecordError) as error:
        read(record, step, keep_payload=False)
    assert error.value.reason == "bad_digest"
