"""archive.db's warc_records: each article version's page found in the WARC files (file,
offset), read up to the last complete record of a file being written."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

from test_database import line, write
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date

from rfi_spider.archive import database
from rfi_spider.archive.warc_files import WarcFiles
from rfi_spider.dates import iso_utc

BASE = "http://127.0.0.1:8123"  # the crawl fetched through base_url: not the canonical host
T0 = datetime(2024, 3, 8, 10, 0, 0, 700000, tzinfo=UTC)


def fetched_url(number: int) -> str:
    """The URL the crawl fetched for line(number)'s article (percent-encoded, as Scrapy)."""
    canonical = line(number)["url"]
    return BASE + canonical.removeprefix("https://www.rfi.fr").replace("中国", "%E4%B8%AD%E5%9B%BD")


def response(files: WarcFiles, url: str, when: datetime, status: int = 200) -> Any:
    headers = {"WARC-Date": datetime_to_iso_date(when.replace(tzinfo=None), use_micros=True)}
    body = f"<html>{url} {when.isoformat()}</html>".encode()
    return files.builder.create_warc_record(
        url,
        "response",
        payload=BytesIO(body),
        length=len(body),
        warc_headers_dict=headers,
        http_headers=StatusAndHeaders(
            f"{status} X", [("Content-Type", "text/html")], protocol="HTTP/1.1"
        ),
    )


def request(files: WarcFiles, url: str) -> Any:
    return files.builder.create_warc_record(
        url,
        "request",
        payload=BytesIO(b""),
        length=0,
        http_headers=StatusAndHeaders("GET / HTTP/1.1", [], is_http_request=True),
    )


def record_at(path: Path, offset: int) -> tuple[str, str]:
    """(type, target URI) of the record at ``offset``, as ``warcio extract`` finds it."""
    with path.open("rb") as stream:
        stream.seek(offset)
        record = next(iter(ArchiveIterator(stream)))
        return record.rec_type, record.rec_headers.get_header("WARC-Target-URI")


def linked(path: Path, folder: Path, number: int, crawled_at: datetime) -> dict | None:
    with sqlite3.connect(path) as db:
        return database.warc_record(
            db, line(number)["url"], str(folder.resolve()), iso_utc(crawled_at)
        )


def test_each_version_is_linked_to_the_record_of_its_page(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    files = WarcFiles(folder / "warc", "rfi-rfi_cn", 1 << 30, {"software": "test"})
    url = fetched_url(1)
    files.write(request(files, url), response(files, url, T0))  # version 1's page
    files.write(response(files, url, T0 + timedelta(seconds=5), status=404))  # no page
    files.write(response(files, fetched_url(2), T0 + timedelta(seconds=6)))  # another URL
    files.write(request(files, url), response(files, url, T0 + timedelta(hours=1)))  # v2
    files.close()
    # crawled_at is to the second (truncated): 10:00:00 for a page fetched at 10:00:00.7
    version1 = line(1, crawled_at=iso_utc(T0))
    version2 = line(1, version=2, crawled_at=iso_utc(T0 + timedelta(hours=1, seconds=2)))
    mirror_only = line(3, crawled_at=iso_utc(T0))  # a mirror feed's article: no page
    write(folder, [version1, version2, mirror_only])
    path = folder / database.DB_FILE
    result = database.sync(path, [folder])
    assert result.records == 3  # the 2xx responses; not the requests, not the 404
    (warc,) = files.written
    first = linked(path, folder, 1, T0.replace(microsecond=0))
    second = linked(path, folder, 1, T0 + timedelta(hours=1, seconds=2))
    assert first is not None and second is not None
    assert first["warc_file"] == f"warc/{warc.name}" and first["offset"] != second["offset"]
    assert first["fetched_at"] == "2024-03-08T10:00:00.700000+00:00"
    for found in (first, second):
        assert record_at(folder / found["warc_file"], found["offset"]) == ("response", url)
    assert linked(path, folder, 3, T0) is None
    # A rebuild finds the same records
    database.rebuild(tmp_path / "rebuilt.db", [folder])
    query = "SELECT * FROM warc_records ORDER BY warc_file, offset"
    with sqlite3.connect(path) as kept, sqlite3.connect(tmp_path / "rebuilt.db") as rebuilt:
        assert kept.execute(query).fetchall() == rebuilt.execute(query).fetchall()


def test_a_file_being_written_is_read_to_its_last_complete_record(tmp_path: Path) -> None:
    """The crawl's ``.open`` file, its last record half written: the records before are
    indexed, under the name the file will have; the rest once it is complete, once."""
    folder = tmp_path / "out"
    files = WarcFiles(folder / "warc", "rfi-rfi_cn", 1 << 30, {"software": "test"})
    files.write(response(files, fetched_url(1), T0))
    files.write(response(files, fetched_url(2), T0))
    open_path = files.current.open_path
    whole = open_path.read_bytes()
    files.write(response(files, fetched_url(3), T0))
    complete = open_path.read_bytes()
    files.close()
    final = files.written[0]
    final.unlink()
    open_path.write_bytes(complete[: len(whole) + (len(complete) - len(whole)) // 2])
    write(folder, [line(n, crawled_at=iso_utc(T0 + timedelta(seconds=1))) for n in (1, 2, 3)])
    path = folder / database.DB_FILE
    assert database.sync(path, [folder]).records == 2
    assert linked(path, folder, 3, T0) is None
    found = linked(path, folder, 2, T0)
    assert found is not None and found["warc_file"] == f"warc/{final.name}"
    open_path.write_bytes(complete)  # the writer goes on...
    open_path.rename(final)  # ...and closes the file
    assert database.sync(path, [folder]).records == 1
    found = linked(path, folder, 3, T0)
    assert found is not None and record_at(final, found["offset"])[1] == fetched_url(3)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM warc_records").fetchone()[0] == 3
