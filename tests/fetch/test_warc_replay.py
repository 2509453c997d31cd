"""The replay handler of ``-a from_warc=``: what it answers, and what it makes of bad WARCs."""

from __future__ import annotations

import asyncio
import gzip
import logging
from collections import Counter
from datetime import datetime
from io import BytesIO
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date

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
        self.settings = Settings({"RFI_WARC_REPLAY": [str(p) for p in paths]})
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
