"""Gzip WARC files on disk: names, rotation, gzip members, and the repair of a killed run's file.

Every record is one gzip member, flushed as soon as it is written: a killed crawl
leaves every record before the one in progress readable. warcio builds each record
(headers, digests) uncompressed into a buffer; the record is then compressed in one
``compress`` call at ``RFI_WARC_GZIP_LEVEL``. warcio's own gzip writer works at
level 9 in 16 KB pieces, taking the interpreter lock back at each: the writer thread and
the crawl's main thread took turns instead of running side by side (issue 26). One call
on the whole record releases the lock for all of it. The call is zlib-ng's (its Python
binding has zlib's API): the same gzip format, a little smaller than zlib's at a level, in
less than half of its CPU; and it inflates in about half of zlib's time, which the scans
of :func:`gzip_members` (archive.db, re-extraction) use.
A file being written is named ``<prefix>-<timestamp>-<serial>.warc.gz.open`` and
holds an exclusive ``flock``; closing it renames it to ``….warc.gz``. A ``.open``
file that nobody holds at start is one a killed crawl left: :func:`repair_folder`
cuts its torn last member off (into ``….torn-<time>``, set aside) and closes it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast

from warcio.recordbuilder import RecordBuilder
from warcio.warcwriter import WARCWriter
from zlib_ng import zlib_ng

from rfi_spider.archive.outputs import FILE_MODE

logger = logging.getLogger(__name__)

SUFFIX = ".warc.gz"
OPEN_SUFFIX = SUFFIX + ".open"
WARC_VERSION = "1.1"
_GZIP_MAGIC = b"\x1f\x8b\x08"
_CHUNK = 1 << 20
# The most bytes one inflate step produces.
INFLATE_STEP = 1 << 20
# What a corrupt gzip stream raises (zlib-ng's error is not zlib's; its stub calls the
# class an instance).
INFLATE_ERRORS: tuple[type[Exception], ...] = (zlib.error, cast(type[Exception], zlib_ng.error))
# The default gzip level of WARC records (RFI_WARC_GZIP_LEVEL): 6 writes files within 1% of
# level 9's size in about half of its time (docs/warc.md).
DEFAULT_GZIP_LEVEL = 6


def file_name(prefix: str, timestamp: str, serial: int) -> str:
    """``<prefix>-<timestamp>-<serial>.warc.gz``, the usual convention (Heritrix, wget)."""
    return f"{prefix}-{timestamp}-{serial:05d}{SUFFIX}"


def utc_stamp(moment: datetime | None = None) -> str:
    """``YYYYMMDDhhmmssfff`` (UTC, milliseconds): the timestamp of file names."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"


@dataclass
class Member:
    """One complete gzip member: where it is in the file and what it holds (``data``, or
    what ``feed`` of :func:`gzip_members` made of it)."""

    offset: int
    length: int
    data: bytes
    fed: Any = None


@dataclass
class Damage:
    """Bytes that are no complete member: ``truncated`` (the file stops inside a member)
    or ``corrupt`` (not gzip, or a bad CRC); from ``offset`` to the end of the file."""

    offset: int
    reason: str


class Sink(Protocol):
    """What takes a member's inflated bytes as they come (a WARC record reader)."""

    def feed(self, data: bytes) -> None: ...


def gzip_members(
    stream: BinaryIO, keep_data: bool = True, feed: Callable[[], Sink] | None = None
) -> Iterator[Member | Damage]:
    """The members of a multi-member gzip stream, then a :class:`Damage` if it ends badly.

    Reads in 1 MiB chunks and inflates at most :data:`INFLATE_STEP` bytes at a time
    (1 MiB of gzip can hold 1 GB: it is never inflated at once). Each member's bytes
    go to a new ``feed()`` sink (``Member.fed``) as they are inflated; else they are
    held (``Member.data``) when ``keep_data``, for small members only. A corrupt member
    ends the scan: what follows it cannot be told apart from garbage.
    """
    start = 0  # file offset of the member being read
    fed = 0  # its compressed bytes fed so far
    parts: list[bytes] = []
    sink = feed() if feed else None
    inflater = zlib_ng.decompressobj(31)
    while chunk := stream.read(_CHUNK):
        data = chunk
        while data:
            if fed == 0 and not data.startswith(_GZIP_MAGIC[: len(data)]):
                yield Damage(start, "corrupt")
                return
            pending = data
            while True:  # all of data, a step of output at a time
                try:
                    out = inflater.decompress(pending, INFLATE_STEP)
                except INFLATE_ERRORS:
                    yield Damage(start, "corrupt")
                    return
                if sink is not None:
                    sink.feed(out)
                elif keep_data:
                    parts.append(out)
                pending = inflater.unconsumed_tail
                if inflater.eof or (not pending and len(out) < INFLATE_STEP):
                    break
            if not inflater.eof:
                fed += len(data)
                break
            unused = inflater.unused_data
            length = fed + len(data) - len(unused)
            yield Member(start, length, b"".join(parts), sink)
            start += length
            fed = 0
            parts = []
            sink = feed() if feed else None
            data = unused
            inflater = zlib_ng.decompressobj(31)
    if fed:
        yield Damage(start, "truncated")


class GzipMembers:
    """The output of an uncompressed ``WARCWriter``: each record it writes, as one gzip
    member (compressed in one call), held until :meth:`take` (the file writes a request
    and its response in one call: one wait for the interpreter lock, not two).

    warcio flushes its output at the end of every record (its own gzip writer closes a
    member there): :meth:`flush` ends a member. Were a record ever split over two
    flushes, it would be two members, which readers take as one stream: still valid.
    """

    def __init__(self, level: int) -> None:
        self.level = level
        self.parts: list[bytes] = []
        self.members: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        if self.parts:
            data = b"".join(self.parts)
            self.parts = []
            self.members.append(zlib_ng.compress(data, self.level, wbits=31))

    def discard(self) -> None:
        """Forget what was written since the last :meth:`take`."""
        self.parts, self.members = [], []

    def take(self) -> bytes:
        """The members compressed since the last call, and forget them."""
        members, self.members = self.members, []
        return b"".join(members)  # one member: itself, not a copy


class WarcFile:
    """One WARC file being written: ``.open`` while written, renamed when closed."""

    def __init__(
        self,
        path: Path,
        info: dict[str, str],
        fsync: bool = False,
        level: int = DEFAULT_GZIP_LEVEL,
    ) -> None:
        self.path = path  # the final name
        self.open_path = path.with_name(path.name + ".open")
        fd = os.open(self.open_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        fcntl.flock(fd, fcntl.LOCK_EX)  # a crawl at start leaves this file alone
        self.stream = os.fdopen(fd, "wb")
        self.fsync = fsync
        self.members = GzipMembers(level)
        self.writer = WARCWriter(self.members, gzip=False, warc_version=WARC_VERSION)
        self.write(self.writer.create_warcinfo_record(path.name, info))

    def write(self, *records: object) -> None:
        """Write records (a request and its response together), then flush them. A record
        that fails half-written leaves nothing behind (else its bytes would begin the next
        record's member) and none of them is written."""
        try:
            if len(records) == 2:
                self.writer.write_request_response_pair(*records)
            else:
                for record in records:
                    self.writer.write_record(record)
        except BaseException:
            self.members.discard()
            raise
        self.members.flush()
        self.stream.write(self.members.take())
        self.stream.flush()
        if self.fsync:
            os.fsync(self.stream.fileno())

    @property
    def size(self) -> int:
        return self.stream.tell()

    def close(self) -> None:
        """Flush, rename to the final name, release the lock."""
        self.stream.flush()
        os.fsync(self.stream.fileno())
        os.replace(self.open_path, self.path)
        self.stream.close()


class WarcFiles:
    """The WARC files of one crawl in ``folder``, rotated once one reaches ``max_size``."""

    def __init__(
        self,
        folder: Path,
        prefix: str,
        max_size: int,
        info: dict[str, str],
        fsync: bool = False,
        level: int = DEFAULT_GZIP_LEVEL,
    ) -> None:
        self.folder = folder
        self.level = level
        self.prefix = prefix
        self.max_size = max(1, max_size)
        self.info = info
        self.fsync = fsync
        self.timestamp = utc_stamp()
        self.serial = 0
        self.current: WarcFile | None = None
        self.written: list[Path] = []

    @property
    def builder(self) -> RecordBuilder:
        """Makes records (digests included) without a file."""
        return RecordBuilder(warc_version=WARC_VERSION)

    def write(self, *records: object) -> None:
        """Write records into the current file; open the next one first if it is full."""
        if self.current is None:
            self.current = self._next_file()
        self.current.write(*records)
        if self.current.size >= self.max_size:
            self.close()

    def _next_file(self) -> WarcFile:
        self.folder.mkdir(parents=True, exist_ok=True)
        while True:
            path = self.folder / file_name(self.prefix, self.timestamp, self.serial)
            self.serial += 1
            if path.exists():
                continue
            try:
                return WarcFile(path, self.info, self.fsync, self.level)
            except FileExistsError:  # another crawl's .open of the same name
                continue

    def close(self) -> None:
        if self.current is not None:
            self.current.close()
            self.written.append(self.current.path)
            self.current = None


def repair_folder(folder: Path, report: Callable[[str, int], None]) -> None:
    """Close the ``.open`` files killed crawls left in ``folder``.

    A file another running crawl holds (its ``flock``) is left alone. A torn last
    member is moved to ``<name>.torn-<time>`` and the file cut back to its complete
    records; ``report(counter, n)`` is called for each repair.
    """
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*" + OPEN_SUFFIX)):
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a running crawl is writing it
            with os.fdopen(os.dup(fd), "rb") as stream:
                good = 0
                damage: Damage | None = None
                for part in gzip_members(stream, keep_data=False):
                    if isinstance(part, Damage):
                        damage = part
                    else:
                        good = part.offset + part.length
            final = path.with_name(path.name[: -len(".open")])
            if damage is not None:
                aside = path.with_name(f"{final.name}.torn-{utc_stamp()}")
                _copy_tail(fd, good, aside)
                os.ftruncate(fd, good)
                report("rfi/repaired/warc_torn_record", 1)
                logger.warning(
                    "%s: a killed crawl left a torn WARC record (%s) at byte %d: moved aside to %s",
                    path,
                    damage.reason,
                    good,
                    aside.name,
                )
            if good:
                os.replace(path, final)
                logger.warning("%s: closed, as a killed crawl left it open", final.name)
            else:
                path.unlink()
            report("rfi/repaired/warc_unclosed", 1)
        finally:
            os.close(fd)


def _copy_tail(fd: int, offset: int, target: Path) -> None:
    """Copy the bytes of ``fd`` from ``offset`` on to ``target``, atomically."""
    temporary = target.with_name(target.name + ".tmp")
    with os.fdopen(os.dup(fd), "rb") as source, temporary.open("wb") as sink:
        source.seek(offset)
        while chunk := source.read(_CHUNK):
            sink.write(chunk)
        sink.flush()
        os.fsync(sink.fileno())
    os.replace(temporary, target)
