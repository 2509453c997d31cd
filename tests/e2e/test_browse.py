"""scrapy browse, as a user meets it: two demo crawls (/cn, /tw), one database of both,
Datasette opened in headless Chromium: facets, a 台湾 search, an article page."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from conftest import ROOT, run_crawl
from warcio.archiveiterator import ArchiveIterator

from rfi_spider.archive.database_words import simplified
from rfi_spider.archive.wacz_pages import path_key

pytestmark = pytest.mark.e2e

HOSTILE_TITLE = "<script>alert('x')</script>台湾<b>粗体</b>"
ADDED = [  # lines as a crawl would have exported them, beside the demo's
    ("cn", "台湾海峡局势", ["台湾总统表示，和平至关重要。", "第二段"], "政治"),
    ("tw", "臺灣選舉", ["臺灣的選舉結果公布。", "民眾關心民主。"], "政治"),
    ("tw", "台灣經濟", ["台灣的出口增長。"], "經濟"),
    ("tw", "香港新聞", ["沒有提到那個地方。"], "經濟"),
    ("cn", HOSTILE_TITLE, ["<img src=x onerror=alert(1)>正文。"], "政治"),
]


def added_line(number: int, edition: str, title: str, paragraphs: list[str], section: str):
    return {
        "url": f"https://www.rfi.fr/{edition}/test/20240307-added-{number}",
        "title": title,
        "published_at": "2024-03-07T10:00:00+00:00",
        "modified_at": None,
        "date_text": "07/03/2024 - 11:00",
        "lead_image": None,
        "summary": None,
        "paragraphs": paragraphs,
        "body_html": "<p>x</p>",
        "section": section,
        "tags": [],
        "authors": ["記者"],
        "source": "rfi.fr",
        "edition": edition,
        "crawled_at": "2024-03-08T00:00:00+00:00",
    }


def scrapy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("browse")
    cn, tw = folder / "out", folder / "out-tw"
    for output, spider in ((cn, "rfi_cn"), (tw, "rfi_tw")):
        result = run_crawl(output, "demo=1", spider=spider)
        assert result.returncode == 0, result.log[-3000:]
        kept = output / "archive.db"  # the crawl kept it
        lines = (output / "items.jsonl").read_text(encoding="utf-8").splitlines()
        with sqlite3.connect(kept) as db:
            assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == len(lines)
    for number, (edition, title, paragraphs, section) in enumerate(ADDED):
        with (cn if edition == "cn" else tw).joinpath("items.jsonl").open("a") as handle:
            line = added_line(number, edition, title, paragraphs, section)
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    target = folder / "all.db"
    built = scrapy("archive-db", str(cn), str(tw), "-o", str(target))
    assert built.returncode == 0, built.stderr
    articles = [
        json.loads(line)
        for output in (cn, tw)
        for line in (output / "items.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    return {"db": target, "articles": articles}


@pytest.fixture(scope="module")
def server(archive: dict[str, Any]) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "browse", str(archive["db"])],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert found, first
        yield found.group(0)
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"]
        )
        context = browser.new_context()
        requests: list[tuple[str, str]] = []
        context.on("request", lambda r: requests.append((r.resource_type, r.url)))
        # Nothing leaves the machine (the demo's lead images are on the real site)
        context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if urlsplit(route.request.url).hostname == "127.0.0.1"
                else route.abort()
            ),
        )
        tab = context.new_page()
        tab.dialogs = []  # type: ignore[attr-defined]
        tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
        tab.requests = requests  # type: ignore[attr-defined]
        # The server answers once uvicorn is up: poll for that condition
        for _ in range(600):
            try:
                tab.goto(server + "/archive/articles", timeout=2000)
                break
            except Exception:
                tab.wait_for_timeout(100)
        tab.server = server  # type: ignore[attr-defined]
        yield tab
        browser.close()


def ids_to_urls(archive: dict[str, Any], ids: list[int]) -> set[str]:
    with sqlite3.connect(archive["db"]) as db:
        return {
            db.execute("SELECT url FROM articles WHERE id = ?", (i,)).fetchone()[0] for i in ids
        }


def facet(page: Any, column: str) -> dict[str, int]:
    items = page.locator(f'.facet-info[data-column="{column}"] li').all_inner_texts()
    counts = {}
    for text in items:
        found = re.match(r"\s*(.+?)\s+([\d,]+)\s*$", text)
        if found:
            counts[found.group(1)] = int(found.group(2).replace(",", ""))
    return counts


def test_facets_show_the_right_counts(page: Any, archive: dict[str, Any]) -> None:
    page.goto(page.server + "/archive/articles")
    articles = archive["articles"]
    assert facet(page, "edition") == Counter(a["edition"] for a in articles)
    assert facet(page, "month") == Counter(a["published_at"][:7] for a in articles)
    sections = Counter(a["section"] for a in articles if a["section"])
    assert facet(page, "section") == dict(sections.most_common(30))
    assert page.locator("form input[name=_search]").count() == 1  # the search box


def test_a_taiwan_search_finds_both_scripts_ranked_and_highlighted(
    page: Any, archive: dict[str, Any]
) -> None:
    page.goto(page.server + "/archive/search?q=" + quote("台湾"))
    rows = page.locator("table.rows-and-columns tbody tr")
    ids = [int(t) for t in page.locator("td.col-article a").all_inner_texts()]
    expected = {
        a["url"]
        for a in archive["articles"]
        if "台湾" in simplified(" ".join([a["title"], a.get("summary") or "", *a["paragraphs"]]))
    }
    assert {a["edition"] for a in archive["articles"] if a["url"] in expected} == {"cn", "tw"}
    assert ids_to_urls(archive, ids) == expected and rows.count() == len(expected)
    scores = [float(t) for t in page.locator("td.col-score").all_inner_texts()]
    assert scores == sorted(scores)  # bm25: best (lowest) first
    marks = set(page.locator("td.col-snippet mark").all_inner_texts())
    assert {"台湾", "臺灣", "台灣"} <= marks
    # The table's own search box segments and converts too
    page.goto(page.server + "/archive/articles?_search=" + quote("臺灣"))
    listed = [int(t) for t in page.locator("td.col-id a").all_inner_texts()]
    assert ids_to_urls(archive, listed) == expected


@pytest.mark.parametrize(
    "query", ['"台湾', "台湾*", "-台湾", "NEAR(台湾 香港)", '"台湾 总统"', "台", "臺灣 OR"]
)
def test_odd_queries_behave(page: Any, query: str) -> None:
    response = page.goto(page.server + "/archive/search?q=" + quote(query))
    assert response.status == 200
    assert page.locator(".message-error").count() == 0
    response = page.goto(page.server + "/archive/articles?_search=" + quote(query))
    assert response.status == 200
    assert page.locator(".message-error").count() == 0


def test_the_article_page_reads_as_an_article_and_escapes(
    page: Any, archive: dict[str, Any]
) -> None:
    with sqlite3.connect(archive["db"]) as db:
        (hostile,) = db.execute(
            "SELECT id FROM articles WHERE title = ?", (HOSTILE_TITLE,)
        ).fetchone()
        (demo,) = db.execute(
            "SELECT id FROM articles WHERE edition = 'cn' AND source = 'rfi.fr'"
            " AND json_array_length(paragraphs) > 3"  # the site's page (a mirror's has none)
        ).fetchone()
        paragraphs = json.loads(
            db.execute("SELECT paragraphs FROM articles WHERE id = ?", (demo,)).fetchone()[0]
        )
    page.goto(f"{page.server}/archive/articles/{demo}")
    assert page.locator("article .paragraphs p").all_inner_texts() == paragraphs
    assert page.locator("a.original").get_attribute("href").startswith("https://www.rfi.fr/cn/")
    assert page.locator("a.seed-file").get_attribute("href").startswith("file:///")
    # The WARC record of its page: a path and an offset warcio finds the response at
    warc, offset = page.locator(".warc-path").inner_text(), page.locator(".warc-offset")
    with open(warc, "rb") as stream:
        stream.seek(int(offset.inner_text()))
        record = next(iter(ArchiveIterator(stream)))
    assert record.rec_type == "response"
    assert path_key(record.rec_headers.get_header("WARC-Target-URI")) == path_key(
        page.locator("a.original").get_attribute("href")
    )
    extract = page.locator(".warc-extract").inner_text()
    assert extract == f"warcio extract --payload {warc} {offset.inner_text()}"
    page.goto(f"{page.server}/archive/articles/{hostile}")
    assert page.locator("h1.title").inner_text() == HOSTILE_TITLE
    assert "WARC record: none" in page.locator("li.warc").inner_text()  # no page of its own
    assert page.locator("article script, article b, article img[src=x]").count() == 0
    assert page.dialogs == []


def test_no_script_from_outside_this_server(page: Any) -> None:
    page.goto(page.server + "/archive/search?q=" + quote("台湾"))
    sources = page.locator("script[src]").evaluate_all("els => els.map(e => e.src)")
    assert sources and all(urlsplit(s).hostname == "127.0.0.1" for s in sources)
    scripts = [url for kind, url in page.requests if kind == "script"]
    assert all(urlsplit(url).hostname == "127.0.0.1" for url in scripts)


def test_no_sql_and_no_writes(page: Any) -> None:
    response = page.goto(page.server + "/archive?sql=" + quote("select 1"))
    assert response.status == 403
