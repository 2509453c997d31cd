"""The replay handler of ``-a from_warc=``: what it answers, and what it makes of bad WARCs."""

from __future__ import annotations

import asyncio
import gzip
import logging
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from io import BytesIO
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import DownloadCancelledError
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from rfi_spider import settings as project_settings
from rfi_spider.archive import warc_index, warc_records
from rfi_spider.archive.warc_files import WarcFiles
from rfi_spider.fetch.warc_replay import (
    WARC_DATE_META,
    NotArchivedError,
    WarcArchive,
    WarcReplayHandler,
    digest_matches,
    read_info,
    warc_paths,
)

PAGE = "http://127.0.0.1:8080/cn/page"


class Stats(Counter):
    def inc_value(self, key: str, count: int = 1) -> None:
        self[key] += count


class Crawler:
    """What the handler uses of a crawler: settings and stats."""

    def __init__(self, paths: list[Path]) -> None:
        self.settings = Settings()
        self.settings.setmodule(project_settings, priority="project")
        self.settings.set("RFI_WARC_REPLAY", [str(p) for p in paths])
        self.stats = Stats()


def record(
    files: WarcFiles,
    url: str,
    body: bytes,
    status: str = "200 OK",
    day: int = 1,
    digest: str | None = None,
) -> object:
    headers = {"WARC-Date": datetime_to_iso_date(datetime(2026, 3, day, 12, 0, 0))}
    if digest:
        headers["WARC-Payload-Digest"] = digest
    return files.builder.create_warc_record(
        url,
        "response",
        payload=BytesIO(body),
        length=len(body),
        warc_headers_dict=headers,
        http_headers=StatusAndHeaders(
            status, [("Content-Type", "text/html; charset=utf-8")], "HTTP/1.1"
        ),
    )


def warc(folder: Path, *records_of: tuple, base_url: str = "http://127.0.0.1:8080") -> Path:
    """A closed WARC file in ``folder`` holding responses (url, body[, status, day, digest])."""
    info = {"software": "test", "rfi-base-url": base_url, "rfi-mirrors": "http://m/feed"}
    files = WarcFiles(folder, "rfi-test", 1 << 30, info)
    for args in records_of:
        files.write(record(files, *args))
    files.close()
    (path,) = files.written
    return path


def test_a_url_is_answered_from_its_best_record(tmp_path: Path) -> None:
    path = warc(
        tmp_path,
        (PAGE, b"<html>old</html>", "200 OK", 1),
        (PAGE, b"gone", "404 Not Found", 3),  # later, but an error: the page wins
        (PAGE + "2", b"<html>v1</html>", "200 OK", 1),
        (PAGE + "2", b"<html>v2</html>", "200 OK", 2),  # two pages: the latest
    )
    archive = WarcArchive([path])
    assert archive.load(archive.find(PAGE)).body == b"<html>old</html>"
    assert archive.load(archive.find(PAGE + "2")).body == b"<html>v2</html>"
    # Another host, same path and query: not the URL the record was captured from.
    assert archive.find("http://127.0.0.1:9999/cn/page2") is None
    assert archive.find("https://www.rfi.fr/cn/page2") is None
    assert archive.find("http://127.0.0.1:8080/cn/other") is None


def test_the_handler_answers_with_the_record_and_its_date_and_never_connects(
    tmp_path: Path,
) -> None:
    path = warc(tmp_path, (PAGE, b"<html><body>page</body></html>", "200 OK", 5))
    handler = WarcReplayHandler(Crawler([path]))
    request = Request(PAGE)
    response = asyncio.run(handler.download_request(request))
    assert isinstance(response, HtmlResponse)
    assert (response.status, response.body) == (200, b"<html><body>page</body></html>")
    assert "warc" in response.flags
    assert request.meta[WARC_DATE_META] == "2026-03-05T12:00:00+00:00"
    with pytest.raises(NotArchivedError):
        asyncio.run(handler.download_request(Request("https://www.rfi.fr/nothing-archived")))
    assert handler.crawler.stats["rfi/warc/not_archived"] == 1


def test_a_record_whose_digest_does_not_match_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = warc(
        tmp_path,
        (PAGE, b"<html>good</html>"),
        (PAGE + "2", b"<html>tampered</html>", "200 OK", 1, "sha1:" + "A" * 32),
    )
    stats = Stats()
    with caplog.at_level(logging.WARNING):
        archive = WarcArchive([path], stats)
    assert archive.find(PAGE) is not None and archive.find(PAGE + "2") is None
    assert stats["rfi/warc/bad/bad_digest"] == 1 and stats["rfi/warc/records"] == 1
    assert "bad_digest" in caplog.text and PAGE + "2" in caplog.text


def test_a_member_damaged_after_the_index_is_a_corrupt_record_not_a_crash(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The record's member is read again at each request: one whose deflate data went bad
    since the index pass (zlib-ng's inflate raises its own error, not zlib's) costs that
    request a NotArchivedError and ``rfi/warc/bad/corrupt``, the rest is answered."""
    page = b"<html>" + bytes(range(256)) * 64 + b"</html>"
    path = warc(tmp_path, (PAGE, page), (PAGE + "2", b"<html>b</html>"))
    handler = WarcReplayHandler(Crawler([path]))
    entry = handler.archive.find(PAGE)
    assert entry is not None and entry.gzipped
    data = bytearray(path.read_bytes())
    middle = entry.offset + entry.length // 2
    data[middle : middle + 16] = b"\xff" * 16  # inside the deflate stream
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING), pytest.raises(NotArchivedError):
        asyncio.run(handler.download_request(Request(PAGE)))
    assert handler.crawler.stats["rfi/warc/bad/corrupt"] == 1
    assert "corrupt" in caplog.text and PAGE in caplog.text
    response = asyncio.run(handler.download_request(Request(PAGE + "2")))
    assert response.body == b"<html>b</html>"


def test_a_truncated_file_keeps_its_complete_records(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = warc(tmp_path, (PAGE, b"<html>a</html>"), (PAGE + "2", b"<html>b</html>" * 500))
    path.write_bytes(path.read_bytes()[:-200])
    stats = Stats()
    with caplog.at_level(logging.WARNING):
        archive = WarcArchive([path], stats)
    assert archive.find(PAGE) is not None and archive.find(PAGE + "2") is None
    assert stats["rfi/warc/bad/truncated"] == 1
    assert "truncated" in caplog.text


def test_files_that_are_not_warcs_are_warned_about_and_the_rest_is_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = warc(tmp_path, (PAGE, b"<html>a</html>"))
    text = tmp_path / "notes.warc"
    text.write_text("not a WARC at all\n")
    zipped = tmp_path / "other.warc.gz"
    zipped.write_bytes(gzip.compress(b"<html>a gzip of something else</html>"))
    stats = Stats()
    with caplog.at_level(logging.WARNING):
        archive = WarcArchive(warc_paths([str(tmp_path)]), stats)
    assert archive.find(PAGE) is not None
    assert stats["rfi/warc/bad/not_warc"] == 2 and stats["rfi/warc/files"] == 3
    assert str(text) in caplog.text and str(zipped) in caplog.text
    assert good in warc_paths([str(tmp_path)])


def test_missing_paths_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such file or folder"):
        warc_paths([str(tmp_path / "nowhere")])
    with pytest.raises(ValueError, match=r"no \.warc\.gz or \.warc file"):
        warc_paths([str(tmp_path)])


def test_warcinfo_gives_the_fetch_root_and_mirrors_of_the_crawl(tmp_path: Path) -> None:
    path = warc(tmp_path, (PAGE, b"<html>a</html>"), base_url="http://127.0.0.1:4321")
    info = read_info([path])
    assert info.base_url == "http://127.0.0.1:4321"
    assert info.mirrors == ["http://m/feed"]


def test_digests_in_base32_or_hex() -> None:
    assert digest_matches("sha1:2JMGSO6RVHCQAZPUGAPMJ3NATVRTDKCN", b"abc") is False
    assert digest_matches("sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5", b"abc")
    assert digest_matches("sha1:a9993e364706816aba3e25717850c26c9cd0d89d", b"abc")


# --- issue 24, item 4: a record answers only its own URL, of the site or a mirror ------
def crafted_warc(path: Path, base_url: str | None, *responses: tuple[str, bytes, int]) -> Path:
    """A gzip WARC written with warcio alone: a warcinfo naming ``base_url`` (if any),
    then responses (url, body, day of March 2026)."""
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        if base_url is not None:
            writer.write_record(
                writer.create_warcinfo_record(path.name, {"rfi-base-url": base_url})
            )
        for url, body, day in responses:
            writer.write_record(
                writer.create_warc_record(
                    url,
                    "response",
                    payload=BytesIO(body),
                    length=len(body),
                    warc_headers_dict={
                        "WARC-Date": datetime_to_iso_date(datetime(2026, 3, day, 12))
                    },
                    http_headers=StatusAndHeaders(
                        "200 OK", [("Content-Type", "text/html")], "HTTP/1.1"
                    ),
                )
            )
    return path


def test_records_of_other_hosts_or_another_fetch_root_never_answer_the_site(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    site = "http://127.0.0.1:8080"
    ours = crafted_warc(
        tmp_path / "ours.warc.gz",
        site,
        (site + "/cn/a", b"<html>the site's</html>", 1),
        # Another host, the same path, later: the path alone used to answer with it.
        ("http://evil.example/cn/a", b"<html>evil</html>", 9),
        ("http://evil.example/cn/only-there", b"<html>evil</html>", 9),
        ("http://mirror.example/feed.xml", b"<rss/>", 2),
    )
    # A file whose warcinfo names another fetch root: its crawl never fetched the site here.
    other_root = crafted_warc(
        tmp_path / "other.warc.gz",
        "http://127.0.0.1:9999",
        (site + "/cn/b", b"<html>claims the site</html>", 3),
    )
    stats = Stats()
    with caplog.at_level(logging.WARNING):
        archive = WarcArchive([ours, other_root], stats, site=site, hosts=["mirror.example"])
    assert archive.load(archive.find(site + "/cn/a")).body == b"<html>the site's</html>"
    assert archive.find("http://mirror.example/feed.xml") is not None  # a mirror's host
    for url in (
        "http://evil.example/cn/a",
        "http://evil.example/cn/only-there",
        site + "/cn/only-there",  # the path of an other-host record
        "https://www.rfi.fr/cn/only-there",
        site + "/cn/b",
    ):
        assert archive.find(url) is None, url
    assert stats["rfi/warc/skipped/other_host"] == 2
    assert stats["rfi/warc/skipped/other_base_url"] == 1
    assert stats["rfi/warc/records"] == 2
    assert "evil.example" in caplog.text and "other_base_url" in caplog.text


def test_the_handler_gets_the_fetch_root_and_mirror_hosts_from_its_settings(
    tmp_path: Path,
) -> None:
    """What the spider's replay_from_warc sets (RFI_WARC_REPLAY_SITE/HOSTS) is obeyed."""
    path = crafted_warc(
        tmp_path / "a.warc.gz",
        None,  # another tool's WARC: no rfi-base-url
        ("https://www.rfi.fr/cn/a", b"<html>site</html>", 1),
        ("https://evil.example/cn/b", b"<html>evil</html>", 1),
    )
    crawler = Crawler([path])
    crawler.settings.set("RFI_WARC_REPLAY_SITE", "https://www.rfi.fr")
    handler = WarcReplayHandler(crawler)
    response = asyncio.run(handler.download_request(Request("https://www.rfi.fr/cn/a")))
    assert response.body == b"<html>site</html>"
    with pytest.raises(NotArchivedError):
        asyncio.run(handler.download_request(Request("https://www.rfi.fr/cn/b")))
    assert crawler.stats["rfi/warc/skipped/other_host"] == 1


# --- issue 24, item 5: records within bounds --------------------------------------------
def raw_record(url: str, payload: bytes, extra_header: bytes = b"") -> bytes:
    """One WARC response record, by hand (warcio would not write a header this long)."""
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + payload
    head = (
        b"WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: " + url.encode() + b"\r\n"
        b"WARC-Date: 2026-03-01T12:00:00Z\r\nWARC-Record-ID: <urn:uuid:x>\r\n"
        b"Content-Type: application/http; msgtype=response\r\n"
        + extra_header
        + b"Content-Length: "
        + str(len(http)).encode()
        + b"\r\n\r\n"
    )
    return head + http + b"\r\n\r\n"


def test_a_payload_over_download_maxsize_is_skipped_and_never_held(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """20 MB of zeros (20 KB gzipped) over a 1 MB limit: counted, skipped, the records
    after it still read, and memory stays far under the record's size (it used to be
    inflated whole, several times over)."""
    big = 20 << 20
    path = tmp_path / "bomb.warc.gz"
    path.write_bytes(
        gzip.compress(raw_record(PAGE + "big", b"\0" * big), 1)
        + gzip.compress(raw_record(PAGE, b"<html>after</html>"))
    )
    stats = Stats()
    tracemalloc.start()
    try:
        with caplog.at_level(logging.WARNING):
            archive = WarcArchive([path], stats, max_payload=1 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, peak
    assert archive.find(PAGE + "big") is None
    assert archive.load(archive.find(PAGE)).body == b"<html>after</html>"
    assert stats["rfi/warc/bad/too_large"] == 1
    assert caplog.text.count("too_large") == 1 and PAGE + "big" in caplog.text


def test_replay_reads_a_payload_only_up_to_the_requests_maxsize(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 20 MB record indexed (no limit there) is read back as a stream that stops past
    the request's DOWNLOAD_MAXSIZE: the download is cancelled as Scrapy's would be."""
    path = tmp_path / "big.warc.gz"
    path.write_bytes(gzip.compress(raw_record(PAGE, b"\0" * (20 << 20)), 1))
    inflated: list[int] = []

    def counted(stream: object, length: int) -> Iterator[bytes]:
        for data in warc_records.inflate_member(stream, length):
            inflated.append(len(data))
            yield data

    monkeypatch.setattr(warc_index, "inflate_member", counted)
    crawler = Crawler([path])
    crawler.settings.set("DOWNLOAD_MAXSIZE", 0)  # the index takes it whole
    handler = WarcReplayHandler(crawler)
    request = Request(PAGE, meta={"download_maxsize": 1 << 20})
    with pytest.raises(DownloadCancelledError, match="DOWNLOAD_MAXSIZE"):
        asyncio.run(handler.download_request(request))
    assert sum(inflated) <= 3 << 20  # the limit and a step or two, not 20 MB
    assert crawler.stats["rfi/warc/bad/too_large"] == 1


def test_a_plain_warc_payload_over_the_limit_is_not_even_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.warc"
    path.write_bytes(raw_record(PAGE + "big", b"x" * (8 << 20)) + raw_record(PAGE, b"<p>ok</p>"))
    read: list[int] = []
    original = warc_index.read_plain

    def counted(stream: object, reader: object) -> int:
        read.append(original(stream, reader))
        return read[-1]

    monkeypatch.setattr(warc_index, "read_plain", counted)
    stats = Stats()
    archive = WarcArchive([path], stats, max_payload=64 << 10)
    assert archive.find(PAGE + "big") is None
    assert archive.load(archive.find(PAGE)).body == b"<p>ok</p>"
    assert stats["rfi/warc/bad/too_large"] == 1
    assert read[0] <= (64 << 10) + (1 << 20)  # not 8 MB: the rest was sought past


def test_a_header_of_one_enormous_line_is_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """16 MB in one header line (quadratic in warcio's line reader: tens of seconds) is
    one bad record; the record after it is read."""
    line = b"X-Pad: " + b"a" * (16 << 20) + b"\r\n"
    path = tmp_path / "header.warc.gz"
    path.write_bytes(
        gzip.compress(raw_record(PAGE + "pad", b"<p>x</p>", line), 1)
        + gzip.compress(raw_record(PAGE, b"<p>after</p>"))
    )
    stats = Stats()
    with caplog.at_level(logging.WARNING):
        archive = WarcArchive([path], stats)
    assert archive.find(PAGE + "pad") is None
    assert archive.load(archive.find(PAGE)).body == b"<p>after</p>"
    assert stats["rfi/warc/bad/header_too_large"] == 1
    assert caplog.text.count("header_too_large") == 1
    # The first record of a file (its warcinfo, for read_info) is read within bounds too.
    assert read_info([path]).base_url is None
