"""Versions: a site whose articles change between runs (issue 28).

Run 1 archives N articles. Then the site edits three of them (a title rewritten, a
paragraph added, a paragraph removed), re-renders two without changing their text,
answers one with 304 Not Modified, and gives all six a later ``lastmod`` in its news
sitemap. Run 2 revisits the six and writes exactly three new versions, each with the
digest of version 1 as its ``previous_digest``; a crash during run 2 and a rerun give
the same lines; the first versions stay byte for byte what they were.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from conftest import CrawlResult, run_crawl, start_crawl
from crashhooks import CRASH_EXIT_STATUS
from redisserver import RedisServer
from warcio.archiveiterator import ArchiveIterator

from benchmarks.crawl import site_settings
from benchmarks.pages import BenchSite
from rfi_spider.archive.versions import content_digest
from rfi_spider.demo.localsite import LocalSite, Page
from rfi_spider.quality import qa

ARTICLES = 10
BENCH = BenchSite(ARTICLES)
NEWS = "/sitemaps/cn/news.xml"
ROBOTS = "User-agent: *\nAllow: /\nSitemap: https://www.rfi.fr/sitemaps/cn/news.xml\n"
_BODY = '<div class="t-content__body u-clearfix">'
_PARAGRAPH = re.compile(r"<p>[^<]*</p>")


def retitle(html: str, index: int) -> str:
    title = BENCH.article(index).title
    return html.replace(title, title + "（更新）")


def add_paragraph(html: str, index: int) -> str:
    return html.replace(_BODY, _BODY + "<p>编者按：本文发表后补充了这一段。</p>", 1)


def remove_paragraph(html: str, index: int) -> str:
    head, body = html.split(_BODY, 1)
    return head + _BODY + _PARAGRAPH.sub("", body, count=1)


def rerender(html: str, index: int) -> str:
    """The same text in other markup: an ad slot, another script."""
    return html.replace(
        _BODY, _BODY + '<div class="m-ad"><script>var slot = "second render";</script></div>', 1
    ).replace("</head>", "<script>window.renderedAgain = 2;</script></head>", 1)


# Article index -> what the site does to it after run 1.
EDITS: dict[int, Callable[[str, int], str]] = {
    0: retitle,
    1: add_paragraph,
    2: remove_paragraph,
    3: rerender,
    4: rerender,
}
NOT_MODIFIED = 5  # answered 304 to a conditional request
SAME_BYTES = 6  # the very same page again (no validators to ask with)
ETAG = '"v1"'


class EditingSite:
    """A LocalSite hook serving :data:`BENCH` (unpadded), its news sitemap with a
    ``lastmod`` per article, the edits once :meth:`edit` is called, and a 304 for the
    article :data:`NOT_MODIFIED` when asked with its ETag."""

    def __init__(self) -> None:
        long_ago = "2024-03-08T00:00:00+00:00"
        self.lastmod = dict.fromkeys(range(ARTICLES), long_ago)
        self.edited = 0  # how many times the site edited its articles
        self.lock = threading.Lock()
        self.conditional: list[str] = []  # article paths asked with If-None-Match

    def edit(self) -> None:
        """Edit (or re-render) the articles of :data:`EDITS`, all with a new lastmod,
        and return once that lastmod is in the past.

        Fetch times are kept to the second, and a lastmod is due when it is later than
        the last one: the new lastmod is the next whole second, later than any fetch
        before the edit. Waiting for the clock to pass it makes every fetch after the
        edit at or after it, so the run after the revisits finds nothing due. (A lastmod
        2 s ahead, not waited for, was due again whenever the next run fetched within
        those 2 s: a fast machine's run 3 then revisited the articles run 2 had settled.)
        """
        later = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
        for index in [*EDITS, NOT_MODIFIED, SAME_BYTES]:
            self.lastmod[index] = later.isoformat()
        self.edited += 1
        while (left := (later - datetime.now(UTC)).total_seconds()) > 0:
            time.sleep(left)  # the condition is the clock itself: at most 1 s

    def news(self) -> bytes:
        entries = "".join(
            f"<url><loc>{escape(BENCH.article(i).url)}</loc>"
            f"<lastmod>{self.lastmod[i]}</lastmod></url>"
            for i in range(ARTICLES)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
        ).encode()

    def __call__(self, handler: BaseHTTPRequestHandler, key: str) -> Page | None:
        path = key.split("?")[0]
        if path == "/robots.txt":
            return Page(ROBOTS.encode(), content_type="text/plain")
        if path == NEWS:
            return Page(self.news(), content_type="application/xml")
        if BENCH.is_article_path(path):
            index = next(i for i in range(ARTICLES) if BENCH.article(i).path == path)
            headers = {"ETag": ETAG} if index == NOT_MODIFIED else {}
            if handler.headers.get("If-None-Match"):
                with self.lock:
                    self.conditional.append(path)
                if index == NOT_MODIFIED and handler.headers["If-None-Match"] == ETAG:
                    return Page(b"", status=304, headers=headers)
            html = BENCH.page(index, padded=False).body.decode("utf-8")
            for _ in range(self.edited if index in EDITS else 0):
                html = EDITS[index](html, index)
            return Page(html.encode("utf-8"), headers=headers)
        found = BENCH.route(key)
        if found is None:
            return None
        body, content_type = found
        return Page(body, content_type=content_type)


@pytest.fixture
def site() -> Iterator[tuple[LocalSite, EditingSite]]:
    hook = EditingSite()
    served = LocalSite(hook=hook)
    with served:
        yield served, hook


def crawl(site: LocalSite, output: Path, env: dict[str, str] | None = None) -> CrawlResult:
    return run_crawl(output, f"base_url={site.url}", settings=site_settings(BENCH), env=env or {})


def warc_records(output: Path) -> dict[str, list[str]]:
    """Each URL's response and revisit records, in the order written (status, empty body)."""
    found: dict[str, list[str]] = {}
    for path in sorted((output / "warc").glob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type not in ("response", "revisit"):
                    continue
                status = record.http_headers.get_statuscode()
                body = record.content_stream().read()
                empty = " (0 bytes)" if record.rec_type == "response" and not body else ""
                uri = record.rec_headers.get_header("WARC-Target-URI")
                found.setdefault(uri, []).append(f"{record.rec_type} {status}{empty}")
    return found


def lines(output: Path) -> list[dict]:
    return [json.loads(line) for line in (output / "items.jsonl").read_bytes().splitlines()]


def assert_three_new_versions(output: Path, first: list[dict]) -> None:
    """Run 1's lines, untouched, then exactly one version 2 of each edited article."""
    after = lines(output)
    assert after[: len(first)] == first
    new = after[len(first) :]
    by_url = {line["url"]: line for line in first}
    edited = {BENCH.article(i).url for i in (0, 1, 2)}
    assert sorted(line["url"] for line in new) == sorted(edited)
    for line in new:
        assert line["version"] == 2
        assert line["previous_digest"] == by_url[line["url"]]["content_digest"]
        assert line["content_digest"] == content_digest(line)
        assert line["content_digest"] != line["previous_digest"]
    title = {line["url"]: line for line in new}[BENCH.article(0).url]["title"]
    assert title.endswith("（更新）")
    report = qa.check_archive(output)
    assert report.ok, qa.render_text(report, limit=None)


def test_run_two_writes_exactly_the_three_edits(
    site: tuple[LocalSite, EditingSite], tmp_path: Path
) -> None:
    served, hook = site
    output = tmp_path / "out"
    first_run = crawl(served, output)
    assert first_run.returncode == 0, first_run.log[-3000:]
    first = lines(output)
    assert len(first) == ARTICLES
    assert {line["version"] for line in first} == {1}
    assert all(line["previous_digest"] is None for line in first)
    files = {p: p.read_bytes() for p in first_run.article_files}
    warcs_before = sorted((output / "warc").glob("*.warc.gz"))
    assert warcs_before

    hook.edit()
    result = crawl(served, output)
    assert result.returncode == 0, result.log[-3000:]
    assert "Traceback" not in result.log
    assert_three_new_versions(output, first)
    # Seven revisits (the sitemap's lastmod): three changed, three unchanged, one 304.
    assert result.stat("rfi/revisits/lastmod") == 7
    assert result.stat("rfi/revisits/checked") == 7
    assert result.stat("rfi/versions/changed") == 3
    assert result.stat("rfi/versions/unchanged") == 3
    assert result.stat("rfi/revisits/not_modified") == 1
    assert result.stat("rfi/exported") == 3
    assert "revisited: 7 checked again, 1 not modified, 3 unchanged, 3 changed" in result.log
    # The WARC holds every fetch; the same bytes again are a revisit record, the 304 an
    # empty answer: neither is a second copy of the page.
    records = warc_records(output)
    same = served.url + BENCH.article(SAME_BYTES).path
    assert records[same] == ["response 200", "revisit 200"]
    not_modified = served.url + BENCH.article(NOT_MODIFIED).path
    assert records[not_modified] == ["response 200", "response 304 (0 bytes)"]
    assert records[served.url + BENCH.article(3).path] == ["response 200", "response 200"]
    # Version 1's files are byte for byte what they were; each version 2 sits beside it.
    for path, data in files.items():
        assert path.read_bytes() == data
    beside = sorted(p for p in result.article_files if p.name.endswith(".v2.txt"))
    assert len(beside) == 3
    for path in beside:
        assert path.with_name(path.name.replace(".v2.txt", ".txt")) in files
    # The 304 was asked with the stored ETag.
    assert BENCH.article(NOT_MODIFIED).path in hook.conditional

    # Run 3: nothing is due any more (lastmod is not after the last settled fetch).
    again = crawl(served, output)
    assert again.returncode == 0, again.log[-3000:]
    assert again.stat("rfi/revisits/scheduled") == 0
    assert len(lines(output)) == ARTICLES + 3


@pytest.mark.parametrize("crash", ["intent:2", "file:2", "line:2", "store:2", "torn:2"])
def test_a_crash_during_run_two_then_a_rerun_gives_the_same_versions(
    site: tuple[LocalSite, EditingSite], tmp_path: Path, crash: str
) -> None:
    served, hook = site
    output = tmp_path / "out"
    assert crawl(served, output).returncode == 0
    first = lines(output)
    hook.edit()
    crashed = crawl(served, output, env={"RFI_TEST_CRASH_AT": crash})
    assert crashed.returncode == CRASH_EXIT_STATUS, crashed.log[-3000:]
    result = crawl(served, output)
    assert result.returncode == 0, result.log[-3000:]
    assert "Traceback" not in result.log
    assert_three_new_versions(output, first)


def assert_versions(new: list[dict], version: int, before: dict[str, dict]) -> None:
    """Exactly one line of ``version`` for each edited article, after ``before``'s line."""
    assert sorted(line["url"] for line in new) == sorted(BENCH.article(i).url for i in (0, 1, 2))
    for line in new:
        assert line["version"] == version
        assert line["previous_digest"] == before[line["url"]]["content_digest"]


def test_two_nodes_on_one_redis_write_each_new_version_once(
    site: tuple[LocalSite, EditingSite], tmp_path: Path, redis_server: RedisServer
) -> None:
    """Run 1: node a alone. Run 2: node b alone, its own state empty: it revisits with what
    Redis knows of a's versions, and writes the three versions 2. Run 3, after more edits:
    nodes a and b at once; the versions 3 land once in the union of both folders."""
    served, hook = site
    folder_a, folder_b = tmp_path / "a", tmp_path / "b"

    def node(name: str) -> dict[str, str]:
        return {
            **site_settings(BENCH),
            "REDIS_URL": redis_server.url,
            "RFI_REDIS_LEASE_SECONDS": "2",
            "RFI_WARC": "False",
            "USER_AGENT": f"rfi-spider-test ({name})",
        }

    first_run = run_crawl(folder_a, f"base_url={served.url}", settings=node("a"))
    assert first_run.returncode == 0, first_run.log[-3000:]
    first = lines(folder_a)
    assert len(first) == ARTICLES
    hook.edit()
    second = run_crawl(folder_b, f"base_url={served.url}", settings=node("b"))
    assert second.returncode == 0, second.log[-3000:]
    assert second.stat("rfi/revisits/lastmod") == 7
    assert second.stat("rfi/versions/unchanged") == 4  # b knows no ETag: no 304
    by_url = {line["url"]: line for line in first}
    assert_versions(lines(folder_b), 2, by_url)
    by_url = {line["url"]: line for line in lines(folder_b)}
    hook.edit()
    processes = []
    for name, folder in (("a", folder_a), ("b", folder_b)):
        log = tmp_path / f"{name}.log"
        processes.append(
            (start_crawl(folder, f"base_url={served.url}", settings=node(name), log=log), log)
        )
    for process, log in processes:
        process.wait(300)
        assert process.returncode == 0, log.read_text()[-3000:]
    assert_versions(lines(folder_a)[ARTICLES:] + lines(folder_b)[3:], 3, by_url)
    report = qa.check_archives([folder_a, folder_b])
    assert report.ok, qa.render_text(report, limit=None)
