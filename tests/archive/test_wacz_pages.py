"""The page list of ``scrapy wacz``: which articles a run's WACZ lists, and under which URL."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from io import BytesIO
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from rfi_spider.archive.wacz_pages import (
    PAGES_HEADER,
    Fetched,
    fetched_pages,
    page_list,
    path_key,
    render,
)
from rfi_spider.archive.warc_files import WarcFiles

SITE = "https://www.rfi.fr"
LOOPBACK = "http://127.0.0.1:8080"
A = "/cn/%E5%9B%BD%E9%99%85/20240307-a"
B = "/cn/%E4%B8%AD%E5%9B%BD/20240307-b"
GONE = "/cn/%E4%B8%AD%E5%9B%BD/20240307-gone"
BROWSER = "/cn/%E6%B3%95%E5%9B%BD/20240308-browser"


def warc(folder: Path) -> Path:
    """A WARC of responses (200, 301, 404) and a browser page, fetched on loopback."""
    files = WarcFiles(folder, "rfi-test", 1 << 30, {"software": "test"})
    date = {"WARC-Date": datetime_to_iso_date(datetime(2026, 3, 1, 12, 0, 0))}
    for path, status in ((A, "200 OK"), (B, "301 Moved Permanently"), (GONE, "404 Not Found")):
        body = b"<html>page</html>"
        files.write(
            files.builder.create_warc_record(
                LOOPBACK + path,
                "response",
                payload=BytesIO(body),
                length=len(body),
                warc_headers_dict=dict(date),
                http_headers=StatusAndHeaders(status, [("Content-Type", "text/html")], "HTTP/1.1"),
            )
        )
    body = b"<html>the browser's</html>"
    files.write(
        files.builder.create_warc_record(
            LOOPBACK + BROWSER,
            "resource",
            payload=BytesIO(body),
            length=len(body),
            warc_content_type="text/html",
            warc_headers_dict=dict(date),
        )
    )
    files.close()
    (path,) = files.written
    return path


def items(folder: Path, *lines: object) -> Path:
    path = folder / "items.jsonl"
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    return path


def test_only_2xx_pages_and_browser_pages_count_as_fetched(tmp_path: Path) -> None:
    fetched = fetched_pages([warc(tmp_path)])
    assert fetched.urls == {A: LOOPBACK + A, BROWSER: LOOPBACK + BROWSER}
    assert fetched.unreadable == []


def test_the_list_names_each_article_by_the_url_fetched_and_its_title(tmp_path: Path) -> None:
    fetched = fetched_pages([warc(tmp_path)])
    listed = page_list(
        items(
            tmp_path,
            {"url": SITE + A, "title": "A"},
            {"url": SITE + GONE, "title": "only a mirror has it"},  # the site said 404
            {"url": SITE + "/cn/国际/20240307-a", "title": "A again"},  # the same, unescaped
            {"url": SITE + BROWSER, "title": "Browser"},
        ),
        fetched,
    )
    assert listed.pages == [
        {"url": LOOPBACK + A, "title": "A"},
        {"url": LOOPBACK + BROWSER, "title": "Browser"},
    ]
    assert listed.not_fetched == 1
    assert listed.bad_lines == 0


def test_lines_that_are_no_item_are_counted_not_fatal(tmp_path: Path) -> None:
    fetched = Fetched({A: LOOPBACK + A})
    listed = page_list(
        items(
            tmp_path,
            "{not json",
            "[1, 2]",
            "",
            {"url": 5, "title": "x"},
            {"url": SITE + A, "title": "A"},
        ),
        fetched,
    )
    assert listed.pages == [{"url": LOOPBACK + A, "title": "A"}]
    assert listed.bad_lines == 3
    (tmp_path / "bad").mkdir()
    bad = tmp_path / "bad" / "items.jsonl"
    bad.write_bytes(b'{"url": "\xff"}\n')
    assert page_list(bad, fetched).bad_lines == 1
    assert page_list(tmp_path / "none.jsonl", fetched).pages == []


def test_a_warc_that_cannot_be_read_to_its_end_keeps_what_came_before(tmp_path: Path) -> None:
    good = warc(tmp_path)
    torn = tmp_path / "torn.warc.gz"
    torn.write_bytes(good.read_bytes()[:-40])
    garbage = tmp_path / "garbage.warc.gz"
    garbage.write_bytes(b"this is no WARC at all\n" * 10)
    fetched = fetched_pages([torn, garbage])
    assert fetched.urls[A] == LOOPBACK + A
    assert set(fetched.unreadable) == {torn, garbage}


def test_a_record_whose_digest_does_not_match_is_not_listed(tmp_path: Path) -> None:
    files = WarcFiles(tmp_path, "rfi-test", 1 << 30, {"software": "test"})
    body = b"<html>tampered</html>"
    headers = {
        "WARC-Date": datetime_to_iso_date(datetime(2026, 3, 1, 12, 0, 0)),
        "WARC-Payload-Digest": "sha1:" + "A" * 32,
    }
    files.write(
        files.builder.create_warc_record(
            LOOPBACK + A,
            "response",
            payload=BytesIO(body),
            length=len(body),
            warc_headers_dict=headers,
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], "HTTP/1.1"),
        )
    )
    files.close()
    fetched = fetched_pages(files.written)
    assert fetched.urls == {}
    assert fetched.bad_records == 1


def test_render_writes_the_header_then_one_page_a_line() -> None:
    text = render([{"url": LOOPBACK + A, "title": "瑞典"}]).decode("utf-8")
    first, page = text.splitlines()
    assert json.loads(first) == PAGES_HEADER
    assert json.loads(page) == {"url": LOOPBACK + A, "title": "瑞典"}
    assert "瑞典" in page and text.endswith("\n")


def test_path_keys_ignore_the_host_and_the_escapes_case() -> None:
    assert path_key(SITE + A) == path_key(LOOPBACK + A.lower()) == A
    assert path_key("http://h/x?b=2&a=1") == "/x?a=1&b=2"


def test_a_gzip_of_something_else_is_no_warc_and_a_huge_record_is_set_aside(
    tmp_path: Path,
) -> None:
    """``scrapy wacz`` used to leave a valid gzip that is no WARC out silently (it now
    refuses it), and inflated a 200 MB record whole (a file holding one is left out)."""
    good = warc(tmp_path / "good")
    other = tmp_path / "other.warc.gz"
    other.write_bytes(gzip.compress(b"<html>a gzip of something else</html>" * 100))
    big = tmp_path / "big.warc.gz"
    body = b"\0" * (4 << 20)
    with big.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        writer.write_record(
            writer.create_warc_record(
                LOOPBACK + A,
                "response",
                payload=BytesIO(body),
                length=len(body),
                http_headers=StatusAndHeaders(
                    "200 OK", [("Content-Type", "text/html")], "HTTP/1.1"
                ),
            )
        )
    fetched = fetched_pages([good, other, big], max_payload=1 << 20)
    assert fetched.not_warc == [other]
    assert fetched.too_large == [big]
    assert fetched.unreadable == []
    assert path_key(LOOPBACK + A) in fetched.urls  # the good file's pages, still
