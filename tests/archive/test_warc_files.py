"""WARC files on disk: gzip members, names, rotation, and the repair of a killed run's file."""

from __future__ import annotations

import gzip
import io
import os
import re
from collections import Counter
from io import BytesIO
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from rfi_spider.archive.warc_files import (
    OPEN_SUFFIX,
    Damage,
    Member,
    WarcFiles,
    gzip_members,
    repair_folder,
)

NAME = re.compile(r"^rfi-test-\d{17}-\d{5}\.warc\.gz$")


def members(data: bytes) -> list[Member | Damage]:
    return list(gzip_members(io.BytesIO(data)))


def response(files: WarcFiles, url: str, body: bytes) -> object:
    return files.builder.create_warc_record(
        url,
        "response",
        payload=BytesIO(body),
        length=len(body),
        http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], "HTTP/1.1"),
    )


def write_file(folder: Path, bodies: list[bytes], max_size: int = 1 << 30) -> WarcFiles:
    files = WarcFiles(folder, "rfi-test", max_size, {"software": "test"})
    for n, body in enumerate(bodies):
        files.write(response(files, f"http://127.0.0.1/{n}", body))
    return files


def records(path: Path) -> list[tuple[str, str | None]]:
    with path.open("rb") as stream:
        return [
            (r.rec_type, r.rec_headers.get_header("WARC-Target-URI"))
            for r in ArchiveIterator(stream)
        ]


def test_members_of_a_multi_member_gzip_and_where_each_is() -> None:
    one, two = gzip.compress(b"first"), gzip.compress(b"second" * 1000)
    parts = members(one + two)
    assert parts == [Member(0, len(one), b"first"), Member(len(one), len(two), b"second" * 1000)]


def test_a_member_cut_short_is_truncated_and_the_ones_before_it_are_kept() -> None:
    one, two = gzip.compress(b"first"), gzip.compress(os.urandom(5000))
    parts = members(one + two[:-100])
    assert parts == [Member(0, len(one), b"first"), Damage(len(one), "truncated")]


def test_bytes_that_are_not_gzip_are_corrupt() -> None:
    one = gzip.compress(b"first")
    assert members(one + b"WARC/1.1 garbage") == [
        Member(0, len(one), b"first"),
        Damage(len(one), "corrupt"),
    ]
    assert members(b"<html>not a warc</html>") == [Damage(0, "corrupt")]


def test_files_are_named_by_convention_and_renamed_when_closed(tmp_path: Path) -> None:
    files = write_file(tmp_path, [b"<html>a</html>"])
    (opened,) = tmp_path.iterdir()
    assert opened.name.endswith(OPEN_SUFFIX)  # being written
    files.close()
    (closed,) = tmp_path.iterdir()
    assert NAME.match(closed.name), closed.name
    assert records(closed) == [("warcinfo", None), ("response", "http://127.0.0.1/0")]


def test_files_rotate_at_the_size_limit_with_consecutive_serials(tmp_path: Path) -> None:
    bodies = [os.urandom(3000) for _ in range(6)]  # incompressible: ~3 KB a record
    files = write_file(tmp_path, bodies, max_size=7000)
    files.close()
    paths = sorted(tmp_path.iterdir())
    assert len(paths) == 3
    assert [p.name[-14:-8] for p in paths] == ["-00000", "-00001", "-00002"]
    uris = [uri for path in paths for kind, uri in records(path) if kind == "response"]
    assert uris == [f"http://127.0.0.1/{n}" for n in range(6)]  # none lost, in order
    for path in paths:
        assert records(path)[0][0] == "warcinfo"  # each file says what wrote it
        assert path.stat().st_size < 7000 + 4000  # at most one record over the limit


def test_a_killed_runs_torn_record_is_set_aside_and_the_file_closed(tmp_path: Path) -> None:
    files = write_file(tmp_path, [b"<html>a</html>", b"<html>b</html>"])
    assert files.current is not None
    files.current.stream.write(gzip.compress(os.urandom(4000))[:1500])  # the kill, mid-write
    files.current.stream.flush()
    opened = files.current.open_path
    good_size = opened.stat().st_size - 1500
    files.current.stream.close()  # the dead process's lock goes with its descriptor
    counts: Counter[str] = Counter()
    repair_folder(tmp_path, lambda name, n: counts.update({name: n}))
    assert counts == {"rfi/repaired/warc_torn_record": 1, "rfi/repaired/warc_unclosed": 1}
    (closed,) = sorted(tmp_path.glob("*.warc.gz"))
    assert closed.stat().st_size == good_size
    assert [uri for _, uri in records(closed)] == [None, "http://127.0.0.1/0", "http://127.0.0.1/1"]
    (aside,) = tmp_path.glob("*.torn-*")
    assert aside.stat().st_size == 1500


def test_a_file_another_crawl_is_writing_is_left_alone(tmp_path: Path) -> None:
    files = write_file(tmp_path, [b"<html>a</html>"])
    assert files.current is not None
    counts: Counter[str] = Counter()
    repair_folder(tmp_path, lambda name, n: counts.update({name: n}))
    assert not counts
    assert files.current.open_path.exists()
    files.close()


def test_an_open_file_with_no_complete_record_is_removed(tmp_path: Path) -> None:
    torn = tmp_path / f"rfi-test-20260101000000000-00000{OPEN_SUFFIX}"
    torn.write_bytes(gzip.compress(os.urandom(1000))[:50])
    counts: Counter[str] = Counter()
    repair_folder(tmp_path, lambda name, n: counts.update({name: n}))
    assert counts == {"rfi/repaired/warc_torn_record": 1, "rfi/repaired/warc_unclosed": 1}
    assert [p.name for p in tmp_path.iterdir() if ".torn-" not in p.name] == []


def pair(files: WarcFiles, url: str, body: bytes) -> tuple[object, object]:
    request = files.builder.create_warc_record(
        url,
        "request",
        payload=BytesIO(b""),
        length=0,
        http_headers=StatusAndHeaders(
            "GET / HTTP/1.1", [("Host", "127.0.0.1")], is_http_request=True
        ),
    )
    return request, response(files, url, body)


def test_each_record_is_one_gzip_member_that_warcio_reads(tmp_path: Path) -> None:
    files = WarcFiles(tmp_path, "rfi-test", 1 << 30, {"software": "test"})
    page = b"<html>" + b"<p>\xe6\x96\x87\xe7\xab\xa0</p>" * 5000 + b"</html>"
    files.write(*pair(files, "http://127.0.0.1/a", page))
    files.write(response(files, "http://127.0.0.1/b", b"<html>b</html>"))
    files.close()
    (path,) = tmp_path.iterdir()
    data = path.read_bytes()
    parts = members(data)
    assert all(isinstance(part, Member) for part in parts)
    # warcinfo, the pair (response first, as warcio orders it), one response: a member each
    kinds = [re.search(rb"\r\nWARC-Type: (\w+)", part.data) for part in parts]  # type: ignore[union-attr]
    assert [kind and kind[1] for kind in kinds] == [
        b"warcinfo",
        b"response",
        b"request",
        b"response",
    ]
    assert all(part.data.startswith(b"WARC/1.1\r\n") for part in parts)  # type: ignore[union-attr]
    with path.open("rb") as stream:
        read = [(r.rec_type, r.content_stream().read()) for r in ArchiveIterator(stream)]
    assert read[1] == ("response", page)
    assert read[3] == ("response", b"<html>b</html>")


def test_the_gzip_level_is_the_settings(tmp_path: Path) -> None:
    page = b"".join(
        b"<li><a href='/cn/%d'>%d</a></li>" % (n * 7919 % 1000, n) for n in range(20000)
    )
    sizes = {}
    for level in (0, 1, 9):
        folder = tmp_path / str(level)
        files = WarcFiles(folder, "rfi-test", 1 << 30, {"software": "test"}, level=level)
        files.write(response(files, "http://127.0.0.1/a", page))
        files.close()
        (path,) = folder.iterdir()
        sizes[level] = path.stat().st_size
        assert records(path)[1] == ("response", "http://127.0.0.1/a")
    assert sizes[0] > len(page) > sizes[1] > sizes[9]


class FailingPayload(BytesIO):
    """A payload whose reading fails half-way (after warcio wrote the record's head)."""

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() > 0:
            raise OSError("the payload cannot be read")
        return super().read(16384)


def test_a_record_that_fails_half_written_leaves_nothing_in_the_next_one(
    tmp_path: Path,
) -> None:
    # The failed record's bytes held for its gzip member went, before, into the next
    # record's member: a record head with no end, then the next record in one member.
    files = WarcFiles(tmp_path, "rfi-test", 1 << 30, {"software": "test"})
    body = b"<html>" + b"x" * 100_000 + b"</html>"
    broken: Any = response(files, "http://127.0.0.1/broken", body)
    WARCWriter(BytesIO(), gzip=False).ensure_digest(broken)  # digests done: the head is written
    broken.raw_stream = FailingPayload(body)
    try:
        files.write(broken)
    except OSError:
        pass
    else:
        raise AssertionError("the record's failure was not raised")
    files.write(*pair(files, "http://127.0.0.1/next", b"<html>next</html>"))
    files.close()
    (path,) = tmp_path.iterdir()
    assert records(path) == [
        ("warcinfo", None),
        ("response", "http://127.0.0.1/next"),
        ("request", "http://127.0.0.1/next"),
    ]
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream, check_digests="raise"):
            record.content_stream().read()


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
    files = write_file(tmp_path, [b"<html>first</html>"])  # the file open (warcinfo) first
    assert files.current is not None
    counting = CountingStream(files.current.stream)
    files.current.stream = counting  # type: ignore[assignment]
    files.write(*pair(files, "http://127.0.0.1/a", b"<html>a</html>"))
    assert counting.writes == 1
    files.current.stream = counting.stream
    files.close()
    (path,) = tmp_path.iterdir()
    with path.open("rb") as stream:
        kinds = [re.search(rb"WARC-Type: (\w+)", m.data)[1] for m in gzip_members(stream)]  # type: ignore[index, union-attr]
    assert kinds == [b"warcinfo", b"response", b"response", b"request"]
