"""WARC digests in one hash call each, record IDs drawn in batches, a request and its
response written in one call (``archive/warc_digests.py``, ``warc_files.py``; issue 26)."""

from __future__ import annotations

import os
import re
import uuid
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.recordbuilder import RecordBuilder
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from rfi_spider.archive import warc_digests
from rfi_spider.archive.warc_digests import IDS_PER_DRAW, Builder, Writer, warc_id
from rfi_spider.archive.warc_files import WarcFiles, gzip_members

PAGE = b"<html>" + "<p>文章</p>".encode() * 20000 + b"</html>"  # about 220 KB
URL = "http://127.0.0.1/cn/a"


def http_response() -> StatusAndHeaders:
    return StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")


def records(builder: Any) -> list[Any]:
    """A response, a request, a browser page (resource) and a revisit, as the capture makes them."""
    date = {"WARC-Date": "2026-12-07T10:00:00.000000Z"}
    return [
        builder.create_warc_record(
            URL,
            "response",
            payload=BytesIO(PAGE),
            length=len(PAGE),
            warc_headers_dict=dict(date),
            http_headers=http_response(),
        ),
        builder.create_warc_record(
            URL,
            "request",
            payload=BytesIO(b"q=1"),
            length=3,
            warc_headers_dict=dict(date),
            http_headers=StatusAndHeaders(
                "POST /cn/a HTTP/1.1", [("Host", "127.0.0.1")], is_http_request=True
            ),
        ),
        builder.create_warc_record(
            URL,
            "resource",
            payload=BytesIO(PAGE),
            length=len(PAGE),
            warc_content_type="text/html",
            warc_headers_dict=dict(date),
        ),
        builder.create_revisit_record(
            URL,
            "sha1:AAAA",
            URL,
            date["WARC-Date"],
            http_headers=http_response(),
            warc_headers_dict=dict(date),
        ),
    ]


def written(writer_class: type, builder: Any) -> bytes:
    out = BytesIO()
    writer = writer_class(out, gzip=False, warc_version="1.1")
    for record in records(builder):
        writer.write_record(record)
    return out.getvalue()


def without_ids(data: bytes) -> bytes:
    return re.sub(rb"<urn:uuid:[0-9a-f-]+>", b"<id>", data)


def test_records_are_byte_for_byte_warcio_s_but_for_their_ids() -> None:
    ours = written(Writer, Builder(warc_version="1.1"))
    warcio = written(WARCWriter, RecordBuilder(warc_version="1.1"))
    assert without_ids(ours) == without_ids(warcio)  # the same digests, headers, order
    assert ours.count(b"WARC-Block-Digest") == 4
    with BytesIO(ours) as stream:  # and warcio checks them
        kinds = []
        for record in ArchiveIterator(stream, check_digests="raise"):
            record.content_stream().read()
            kinds.append(record.rec_type)
    assert kinds == ["response", "request", "resource", "revisit"]


def test_the_payload_is_hashed_whole_not_in_warcio_s_16_kb_pieces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each piece hashed let go of the interpreter lock and waited to take it back.
    pieces: list[int] = []
    iterate = RecordBuilder._iter_stream

    def counted(stream: Any) -> Any:
        for piece in iterate(stream):
            pieces.append(len(piece))
            yield piece

    monkeypatch.setattr(RecordBuilder, "_iter_stream", staticmethod(counted))
    builder = Builder(warc_version="1.1")
    response = records(builder)[0]
    assert pieces == []  # the payload digest: one call
    writer = Writer(BytesIO(), gzip=False, warc_version="1.1")
    writer.ensure_digest(response, block=True, payload=True)
    assert pieces == []  # the block digest: one call
    assert response.rec_headers.get_header("WARC-Block-Digest")
    writer.write_record(response)
    assert sum(pieces) == len(PAGE)  # only the writing itself reads the payload


def test_a_payload_of_unknown_length_is_left_to_warcio() -> None:
    builder = Builder(warc_version="1.1")
    record = builder.create_warc_record(
        URL, "resource", payload=BytesIO(PAGE), length=None, warc_content_type="text/html"
    )
    out = BytesIO()
    Writer(out, gzip=False, warc_version="1.1").write_record(record)
    out.seek(0)
    (read,) = [(r.rec_type, r.content_stream().read()) for r in ArchiveIterator(out)]
    assert read == ("resource", PAGE)


def test_record_ids_are_random_uuids_drawn_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    draws: list[int] = []
    urandom = os.urandom

    def counted(size: int) -> bytes:
        draws.append(size)
        return urandom(size)

    monkeypatch.setattr(warc_digests.os, "urandom", counted)
    monkeypatch.setattr(warc_digests, "_IDS", type(warc_digests._IDS)())
    ids = [warc_id() for _ in range(3 * IDS_PER_DRAW)]
    assert draws == [16 * IDS_PER_DRAW] * 3
    assert len(set(ids)) == len(ids)
    for value in ids:
        assert value.startswith("<urn:uuid:") and value.endswith(">")
        assert uuid.UUID(value[10:-1]).version == 4
    monkeypatch.setattr(warc_digests, "warc_id", lambda: "<urn:uuid:drawn>")
    record = records(Builder(warc_version="1.1"))[0]
    assert record.rec_headers.get_header("WARC-Record-ID") == "<urn:uuid:drawn>"


class CountingStream:
    """A file object that counts its ``write`` calls."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.writes = 0

    def write(self, data: bytes) -> int:
        self.writes += 1
        return self.stream.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def test_a_request_and_its_response_go_to_the_file_in_one_write_a_member_each(
    tmp_path: Path,
) -> None:
    files = WarcFiles(tmp_path, "rfi-test", 1 << 30, {"software": "test"})
    response, request = records(files.builder)[:2]
    files.write(records(files.builder)[2])  # opens the file (warcinfo) first
    assert files.current is not None
    counting = CountingStream(files.current.stream)
    files.current.stream = counting  # type: ignore[assignment]
    files.write(request, response)
    assert counting.writes == 1
    files.current.stream = counting.stream
    files.close()
    (path,) = tmp_path.iterdir()
    with path.open("rb") as stream:
        kinds = [re.search(rb"WARC-Type: (\w+)", m.data)[1] for m in gzip_members(stream)]  # type: ignore[index, union-attr]
    assert kinds == [b"warcinfo", b"resource", b"response", b"request"]
