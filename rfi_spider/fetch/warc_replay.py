"""Re-extraction from WARC files: a download handler that answers from the archive.

``scrapy crawl rfi_cn -a from_warc=PATH[,PATH...]`` runs the spider as a live crawl
runs, with its requests, redirects, errors, robots.txt, mirrors, pipelines, dedupe
and QA, but every request is answered by :class:`WarcReplayHandler` from the
records of the WARC files given: no connection is ever opened (the handler takes
every scheme). A request the archive has no record of fails with
:class:`NotArchivedError`. Each answer carries its record's date in
``response.meta[WARC_DATE_META]``: the items' ``crawled_at``.

Bad input never stops the run: a file that is not a WARC, a truncated record, a
record whose payload digest does not match, each costs one warning and a counter
(``rfi/warc/bad/<reason>``), and the rest is read.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from scrapy import Request
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from rfi_spider.archive.warc_files import Damage, gzip_members
from rfi_spider.dates import iso_utc

logger = logging.getLogger(__name__)

# The request meta key the record's date (ISO 8601, UTC, seconds) is given in.
WARC_DATE_META = "rfi_warc_date"
# Records answered from, by kind.
_SERVED_TYPES = frozenset({"response", "resource"})


class NotArchivedError(Exception):
    """The WARC files hold no record of this URL."""


def warc_paths(arguments: Iterable[str]) -> list[Path]:
    """The WARC files named, a folder standing for the ``*.warc.gz`` and ``*.warc`` in it
    (recursively); ValueError for a path that does not exist or a folder with none."""
    paths: list[Path] = []
    for argument in arguments:
        path = Path(argument).expanduser()
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.name.endswith((".warc.gz", ".warc"))
            )
            if not found:
                raise ValueError(f"from_warc: no .warc.gz or .warc file in {argument!r}")
            paths.extend(found)
        elif path.is_file():
            paths.append(path)
        else:
            raise ValueError(f"from_warc: no such file or folder: {argument!r}")
    return paths


def record_date(value: str | None) -> datetime | None:
    """A ``WARC-Date`` as an aware datetime, or None."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def digest_matches(declared: str, payload: bytes) -> bool:
    """Whether ``WARC-Payload-Digest`` (``sha1:BASE32``, or hex) is that of ``payload``."""
    algorithm, _, value = declared.partition(":")
    try:
        digest = hashlib.new(algorithm.lower().replace("-", ""), payload).digest()
    except ValueError:
        return True  # an algorithm hashlib does not know: not judged
    value = value.strip()
    return base64.b32encode(digest).decode() == value.upper() or digest.hex() == value.lower()


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


def read_info(paths: Iterable[Path]) -> ArchiveInfo:
    """The fetch root and mirrors of the latest ``warcinfo`` written by rfi-spider."""
    info = ArchiveInfo()
    latest: datetime | None = None
    for path in paths:
        try:
            with path.open("rb") as stream:
                record = next(iter(ArchiveIterator(stream)), None)
                if record is None or record.rec_type != "warcinfo":
                    continue
                fields = _warcinfo_fields(record.content_stream().read())
                date = record_date(record.rec_headers.get_header("WARC-Date"))
        except (ArchiveLoadFailed, OSError, ValueError, EOFError, zlib.error):
            continue  # reported when the archive is read
        if "rfi-base-url" not in fields or (latest and date and date < latest):
            continue
        latest = date
        info.base_url = fields.get("rfi-base-url") or None
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


class WarcArchive:
    """An index of the served records of WARC files: URL -> the best record for it.

    The best record of a URL is a 2xx response or a browser page before a redirect,
    before anything else; among equals, the latest. A URL is also found by its path
    and query alone, whatever the host (a demo's loopback port changes every run).
    """

    def __init__(self, paths: Iterable[Path], stats: Any = None) -> None:
        self.stats = stats
        self.by_url: dict[str, Entry] = {}
        self.by_path: dict[str, Entry] = {}
        for path in paths:
            self._index_file(path)

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

    def _index_gzip(self, path: Path, stream: Any) -> None:
        for part in gzip_members(stream):
            if isinstance(part, Damage):
                what = (
                    "the file stops inside a record"
                    if part.reason == "truncated"
                    else ("bytes that are not gzip, or a bad CRC, up to the end of the file")
                )
                self.bad(path, part.offset, part.reason, what)
                return
            self._index_record(path, part.offset, part.length, True, part.data)

    def _index_plain(self, path: Path, stream: Any) -> None:
        iterator = ArchiveIterator(stream)
        try:
            for _record in iterator:
                _record.content_stream().read()
                offset = iterator.get_record_offset()
                length = iterator.get_record_length()
                stream.seek(offset)
                raw = stream.read(length)
                stream.seek(offset + length)
                self._index_record(path, offset, length, False, raw)
        except (ArchiveLoadFailed, ValueError, EOFError) as exc:
            self.bad(path, None, "not_warc", str(exc) or type(exc).__name__)

    def _index_record(
        self, path: Path, offset: int, length: int, gzipped: bool, raw: bytes
    ) -> None:
        try:
            answer, problem = parse_record(raw)
        except Exception as exc:  # whatever a broken record raises, it is one bad record
            answer, problem = None, ("unreadable", f"{type(exc).__name__}: {exc}")
        if problem:
            self.bad(path, offset, *problem)
            return
        if answer is None:
            return  # warcinfo, request, metadata...: nothing to answer with
        url, date, status, browser = answer
        self._count("rfi/warc/records")
        rank = 2 if browser or 200 <= status < 300 else 1 if 300 <= status < 400 else 0
        entry = Entry(path, offset, length, gzipped, date, rank)
        for index, key in ((self.by_url, url), (self.by_path, _path_key(url))):
            known = index.get(key)
            if known is None or (rank, date) >= (known.rank, known.date):
                index[key] = entry

    def find(self, url: str) -> Entry | None:
        return self.by_url.get(url) or self.by_path.get(_path_key(url))

    def __len__(self) -> int:
        return len(self.by_url)

    def load(self, entry: Entry) -> Answer:
        """Read one indexed record back (the archive is read again, not held in memory)."""
        with entry.path.open("rb") as stream:
            stream.seek(entry.offset)
            raw = stream.read(entry.length)
        if entry.gzipped:
            raw = zlib.decompress(raw, 31)
        record = next(iter(ArchiveIterator(BytesIO(raw))))
        browser = record.rec_type == "resource"
        if browser:
            content_type = record.rec_headers.get_header("Content-Type") or "text/html"
            return Answer(
                200, [("Content-Type", content_type)], record.raw_stream.read(), entry.date, True
            )
        http = record.http_headers
        return Answer(
            int(http.get_statuscode() or 0),
            list(http.headers),
            record.raw_stream.read(),
            entry.date,
            False,
        )


def _path_key(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def parse_record(
    raw: bytes,
) -> tuple[tuple[str, datetime, int, bool] | None, tuple[str, str] | None]:
    """(url, date, status, browser) of a served record, or None; or a problem (reason, detail)."""
    if not raw.startswith(b"WARC/"):  # warcio would read some other text as a record
        return None, ("not_warc", "no WARC/ version line")
    try:
        record = next(iter(ArchiveIterator(BytesIO(raw))))
    except (ArchiveLoadFailed, ValueError, EOFError, StopIteration) as exc:
        return None, ("not_warc", str(exc) or type(exc).__name__)
    if record.rec_type not in _SERVED_TYPES:
        return None, None
    url = record.rec_headers.get_header("WARC-Target-URI")
    date = record_date(record.rec_headers.get_header("WARC-Date"))
    if not url or date is None:
        return None, ("bad_header", "no WARC-Target-URI or WARC-Date")
    payload = record.raw_stream.read()
    declared = record.rec_headers.get_header("WARC-Payload-Digest")
    if declared and not digest_matches(declared, payload):
        return None, ("bad_digest", f"{url}: the payload does not match {declared}")
    if record.rec_type == "resource":
        return (url, date, 200, True), None
    if record.http_headers is None:
        return None, ("bad_header", f"{url}: a response record without HTTP headers")
    return (url, date, int(record.http_headers.get_statuscode() or 0), False), None


_ARCHIVES: WeakKeyDictionary[Crawler, WarcArchive] = WeakKeyDictionary()


class WarcReplayHandler(BaseDownloadHandler):
    """Answers every request from the WARC files of ``RFI_WARC_REPLAY``; opens no connection."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.archive = self.shared_archive(crawler)

    @staticmethod
    def shared_archive(crawler: Crawler) -> WarcArchive:
        """One index per crawl, however many schemes the handler serves."""
        archive = _ARCHIVES.get(crawler)
        if archive is None:
            paths = [Path(p) for p in crawler.settings.getlist("RFI_WARC_REPLAY")]
            archive = _ARCHIVES[crawler] = WarcArchive(paths, crawler.stats)
            logger.info(
                "from_warc: %d URL(s) answerable from %d WARC file(s); no network",
                len(archive),
                len(paths),
            )
        return archive

    async def download_request(self, request: Request) -> Response:
        entry = self.archive.find(request.url)
        if entry is None:
            self.crawler.stats.inc_value("rfi/warc/not_archived")
            raise NotArchivedError(f"no WARC record of {request.url}")
        answer = self.archive.load(entry)
        request.meta[WARC_DATE_META] = iso_utc(answer.date)
        headers = Headers(answer.headers)
        cls = responsetypes.from_args(headers=headers, url=request.url, body=answer.body)
        flags = ["warc", "browser"] if answer.browser else ["warc"]
        return cls(
            url=request.url,
            status=answer.status,
            headers=headers,
            body=answer.body,
            request=request,
            flags=flags,
            protocol="HTTP/1.1",
        )
