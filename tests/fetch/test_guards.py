"""Unit tests of the guards against interrupted runs and hostile input (issue 7).

The end-to-end behaviour is in test_resume.py and test_hostile.py; these pin
each piece down: the pending queue and who may adopt its rows, the intent log,
the resumable duplicate filter, the compact URL set, charset and NUL repair,
mirror HTML sanitising, failure causes, truncated pages, control characters.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pytest
from conftest import SEED_COPY
from lxml import etree
from scrapy import Request
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from benchmarks.pages import BenchSite
from rfi_spider import settings as project_settings
from rfi_spider.archive.exporters import IntentLog
from rfi_spider.archive.state import PendingArticles, SeenStore
from rfi_spider.crawl.dupefilter import ResumableDupeFilter
from rfi_spider.extract.gate import is_truncated
from rfi_spider.extract.listing import read_links
from rfi_spider.extract.processors import clean_text
from rfi_spider.fetch.causes import failure_cause
from rfi_spider.fetch.htmlbytes import HtmlBytesMiddleware, misdeclared_utf8, real_encoding
from rfi_spider.meta_keys import REFETCH
from rfi_spider.mirrors.sanitize import safe_html
from rfi_spider.spiders.rfi_cn import RfiCnSpider
from rfi_spider.urlset import FingerprintSet, KeySet, UrlSet

URLS = [f"https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/20240307-{n}" for n in range(5)]
PROJECT = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}


# --- the pending queue ----------------------------------------------------------
@pytest.fixture
def store(tmp_path: Path) -> SeenStore:
    return SeenStore(tmp_path / "seen.sqlite3")


def test_pending_urls_come_out_in_the_order_found(store: SeenStore, tmp_path: Path) -> None:
    pending = PendingArticles(store, tmp_path)
    assert pending.add(URLS[:3]) == 3
    assert pending.add(URLS[1:4]) == 1  # one queue entry per URL
    assert pending.take(2) == [(URLS[0], False), (URLS[1], False)]
    assert pending.has_more()
    assert pending.take(10) == [(URLS[2], False), (URLS[3], False)]
    assert pending.take(10) == [] and not pending.has_more()
    pending.done(URLS[0])
    pending.flush()
    assert len(pending) == 3
    for url in URLS[1:3]:
        pending.done(url)
    assert pending.finish() == 1  # out of work: URLS[3] was handed out, never answered
    assert len(pending) == 1


def test_pending_urls_are_read_ahead_in_batches_and_handed_out_one_by_one(
    store: SeenStore, tmp_path: Path
) -> None:
    pending = PendingArticles(store, tmp_path)
    many = [f"{URLS[0]}-{n}" for n in range(250)]
    pending.add(many[:200])
    queries: list[str] = []
    store.db.set_trace_callback(lambda sql: queries.append(sql))
    taken = [pending.take(1)[0][0] for _ in range(150)]
    pending.add(many[200:])  # found meanwhile: after the rows read ahead
    taken += [url for url, _ in pending.take(100)]
    selects = [q for q in queries if q.startswith("SELECT id, url FROM pending")]
    store.db.set_trace_callback(None)
    assert taken == many  # in the order found, none twice, none lost
    assert len(selects) <= 3  # one query a batch, not one an article
    assert pending.take(1) == []
    pending.done(many[0])
    assert pending.finish() == 249  # what was handed out, not what was read ahead


def test_urls_read_ahead_but_not_handed_out_are_not_counted_as_out(
    store: SeenStore, tmp_path: Path
) -> None:
    pending = PendingArticles(store, tmp_path)
    pending.add(URLS[:4])
    assert pending.take(1) == [(URLS[0], False)]
    assert pending.has_more()
    assert pending.finish() == 1
    assert pending.unanswered() == [URLS[0]]


def test_urls_handed_out_and_never_answered_go_to_the_next_run(
    store: SeenStore, tmp_path: Path
) -> None:
    """A request Scrapy lost without a callback (a torn JOBDIR queue did that) is not done."""
    run = PendingArticles(store, tmp_path)
    run.add(URLS[:3])
    run.take(3)
    run.done(URLS[0])
    assert run.finish() == 2
    run.close()
    later = PendingArticles(store, tmp_path)
    assert later.adopted == 2
    assert later.take(10) == [(URLS[1], True), (URLS[2], True)]


def test_a_killed_runs_urls_are_adopted_first_and_marked(store: SeenStore, tmp_path: Path) -> None:
    killed = PendingArticles(store, tmp_path)
    killed.add(URLS[:3])
    killed.done(URLS[0])  # not written yet when the process dies: done again later
    os.close(killed._lock_fd)  # what a kill -9 leaves: the lock is released, nothing else
    rerun = PendingArticles(store, tmp_path)
    assert rerun.adopted == 3
    rerun.add([URLS[3]])
    assert rerun.take(10) == [(URLS[0], True), (URLS[1], True), (URLS[2], True), (URLS[3], False)]
    assert not (tmp_path / "runs" / f"{killed.owner}.lock").exists()


def test_an_adopted_url_out_of_scope_is_left_to_a_later_run(
    store: SeenStore, tmp_path: Path
) -> None:
    killed = PendingArticles(store, tmp_path)
    killed.add(URLS[:2])
    os.close(killed._lock_fd)
    single = PendingArticles(store, tmp_path)  # say, a run of -a url=URLS[0]
    assert [url for url, _ in single.take(10)] == URLS[:2]
    single.leave(URLS[1])
    single.done(URLS[0])  # exported
    assert single.finish() == 0
    later = PendingArticles(store, tmp_path)
    assert later.take(10) == [(URLS[1], True)]


def test_a_single_article_run_fetches_only_its_own_leftover(tmp_path: Path) -> None:
    state = tmp_path / ".state"
    killed = PendingArticles(SeenStore(state / "seen.sqlite3"), state)
    killed.add(URLS[:2])  # a full crawl's queue, killed
    os.close(killed._lock_fd)
    crawler = get_crawler(RfiCnSpider, {**PROJECT, "RFI_OUTPUT_DIR": str(tmp_path)})
    spider = RfiCnSpider.from_crawler(
        crawler, url=URLS[0], base_url="http://127.0.0.1:9", mirrors=""
    )
    try:
        (request,) = spider.articles.next()
        assert request.url.endswith(URLS[0].removeprefix("https://www.rfi.fr"))
        assert request.meta[REFETCH] and request.priority > 5  # before the listings
    finally:
        spider.on_closed()
    # The next run adopts both: the other article, and this one, never fetched here.
    later = PendingArticles(SeenStore(state / "seen.sqlite3"), state)
    assert sorted(url for url, _ in later.take(10)) == URLS[:2]


def test_a_live_runs_urls_are_left_to_it(store: SeenStore, tmp_path: Path) -> None:
    """Two jobs sharing a state: the second adopts nothing of the first, which still runs."""
    first = PendingArticles(store, tmp_path)
    first.add(URLS[:2])
    second = PendingArticles(SeenStore(tmp_path / "seen.sqlite3"), tmp_path)
    assert second.adopted == 0 and second.take(10) == []
    assert [url for url, _ in first.take(10)] == URLS[:2]
    first.close()  # a clean stop (Ctrl-C) leaves the unfinished rows for the next run
    third = PendingArticles(store, tmp_path)
    assert third.adopted == 2


# --- the intent log --------------------------------------------------------------
def test_intents_are_read_back_and_a_torn_one_is_skipped(tmp_path: Path) -> None:
    log = IntentLog(tmp_path / "intents.log")
    log.record(URLS[0], "2024/03/07/0123456789abcdef.txt")
    log.record(URLS[1], "2024/03/08/fedcba9876543210.txt")
    with (tmp_path / "intents.log").open("ab") as handle:
        handle.write(b'["https://www.rfi.fr/cn/x", "2024/0')  # the write a kill cut short
    assert log.entries() == [
        (URLS[0], "2024/03/07/0123456789abcdef.txt"),
        (URLS[1], "2024/03/08/fedcba9876543210.txt"),
    ]
    log.clear()
    assert log.entries() == []
    log.close()


# --- the duplicate filter --------------------------------------------------------
def test_refetch_gets_past_an_earlier_runs_fingerprints_once(tmp_path: Path) -> None:
    def run() -> ResumableDupeFilter:
        crawler = get_crawler(settings_dict={"JOBDIR": str(tmp_path)})
        return ResumableDupeFilter.from_crawler(crawler)

    first = run()
    assert not first.request_seen(Request(URLS[0]))  # in flight when the run is killed
    assert first.request_seen(Request(URLS[0]))
    # Written through: nothing is left in a buffer for the kill to lose.
    assert (tmp_path / "requests.seen").stat().st_size > 0
    second = run()
    assert second.request_seen(Request(URLS[0]))  # Scrapy's rule: seen in an earlier run
    refetch = Request(URLS[0], meta={REFETCH: True})
    assert not second.request_seen(refetch)  # what the spider asks again gets through
    assert second.request_seen(refetch)  # once: this run's duplicates are still dropped
    assert not second.request_seen(Request(URLS[1]))


# --- the compact URL set -------------------------------------------------------------
def test_url_set() -> None:
    urls = UrlSet(URLS[:2])
    urls.add(URLS[2])
    urls.update([URLS[2], URLS[3]])
    assert len(urls) == 4
    assert URLS[3] in urls and URLS[4] not in urls and None not in urls


def test_key_set_grows_and_keeps_every_key() -> None:
    keys = KeySet()
    values = [0, 1, 2**64 - 1, *range(1024, 1024 + 5000 * 1024, 1024)]  # same low bits: probing
    for value in values:
        keys.add(value)
    keys.add(values[5])
    assert len(keys) == len(values) - 1  # 0 is kept as 1
    assert all(value in keys for value in values)
    assert 3 not in keys and 2**63 not in keys


def test_fingerprints_are_kept_by_their_first_64_bits() -> None:
    fingerprints = FingerprintSet([b"\x01" * 20])
    fingerprints.add(b"\x02" * 20)
    assert b"\x01" * 20 in fingerprints and b"\x03" * 20 not in fingerprints
    assert len(fingerprints) == 2


# --- charsets and NUL bytes ----------------------------------------------------------
PAGE = BenchSite(1).page(0, padded=False).body.decode("utf-8")


def test_a_stray_byte_is_no_misdeclared_charset() -> None:
    utf8 = PAGE.encode("utf-8")
    assert misdeclared_utf8(utf8) == 0
    assert misdeclared_utf8(utf8[:-20] + b"\xe4\xb8" + utf8[-20:]) == 0  # one cut character
    assert real_encoding(utf8) is None


def test_gbk_declared_as_utf8_is_found() -> None:
    gbk = PAGE.encode("gb18030")
    assert misdeclared_utf8(gbk) > 100
    assert real_encoding(gbk) == "gb18030"
    with_meta = PAGE.replace('charset="utf-8"', 'charset="big5"').encode("big5", "replace")
    assert real_encoding(with_meta) == "big5hkscs"  # its meta tag first (w3lib: a superset)


def test_the_middleware_reads_the_page_right_and_drops_nul_bytes() -> None:
    crawler = get_crawler()
    crawler.stats.open_spider()
    middleware = HtmlBytesMiddleware.from_crawler(crawler)
    body = PAGE.replace("<h1", "<h1 data-x='\x00'").encode("gb18030")
    response = HtmlResponse(
        "http://127.0.0.1/a", body=body, headers={"Content-Type": "text/html; charset=utf-8"}
    )
    fixed = middleware.process_response(Request(response.url), response)
    assert fixed.encoding == "gb18030" and b"\x00" not in fixed.body
    assert "瑞典正式加入北约" in fixed.text
    assert crawler.stats.get_value("rfi/page/charset_fixed") == 1
    assert crawler.stats.get_value("rfi/page/nul_removed") == 1
    plain = HtmlResponse("http://127.0.0.1/b", body=PAGE.encode(), encoding="utf-8")
    assert middleware.process_response(Request(plain.url), plain) is plain


# --- mirror HTML ------------------------------------------------------------------
def test_the_seeds_html_is_kept_byte_for_byte() -> None:
    html = SEED_COPY.read_text(encoding="utf-8").split("\n")[4]
    assert safe_html(html) == (html, False)


@pytest.mark.parametrize(
    "html",
    [
        "<p>正文</p><script>alert(1)</script>",
        '<p onclick="alert(1)">正文</p>',
        '<p>正文<a href="javascript:alert(1)">链接</a></p>',
        '<p>正文</p><iframe src="https://example.com/"></iframe>',
        '<form action="https://example.com/"><input name="q"><p>正文</p></form>',
        "<p>正文</p><svg><script>alert(1)</script></svg>",
    ],
)
def test_active_html_is_cleaned_and_its_text_kept(html: str) -> None:
    cleaned, changed = safe_html(html)
    assert changed and "正文" in cleaned
    for marker in ("<script", "onclick", "javascript:", "<iframe", "<form", "<input"):
        assert marker not in cleaned


# --- listings, read without a tree ----------------------------------------------------
def test_listing_links_skip_the_sponsored_and_highlighted_asides() -> None:
    html = (
        '<html><body><a href="/a1">x</a><aside data-org-type="aside-content--sponsors">'
        '<a href="/s1">s</a><aside><a href="/s2">s</a></aside><a href="/s3">s</a></aside>'
        '<a href="/a2">x</a><aside data-org-type="aside-content--other"><a href="/a3">x</a>'
        '</aside><a name="no-href">x</a>'
        '<aside data-org-type="aside-content--highlighted"><a href="/h1">h</a></aside>'
        "</body></html>"
    )
    assert read_links(html.encode(), "utf-8") == ["/a1", "/a2", "/a3"]
    assert read_links(b"", "utf-8") == []


@pytest.mark.parametrize("name", ["home.html", "section_guoji.html", "section_faguo.html"])
def test_listing_links_are_what_the_xpath_rule_gives(name: str) -> None:
    body = resources.files("rfi_spider.demo.sample_site").joinpath(name).read_bytes()
    rule = etree.XPath(
        "//a[@href][not(ancestor::aside[@data-org-type='aside-content--sponsors'"
        " or @data-org-type='aside-content--highlighted'])]/@href"
    )
    expected = [str(href) for href in rule(etree.fromstring(body, etree.HTMLParser()))]
    assert read_links(body, "utf-8") == expected
    assert len(expected) > 10


# --- failures, truncated pages, control characters -----------------------------------
def failure(error: Exception) -> Failure:
    try:
        raise error
    except Exception:
        return Failure()


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (DownloadCancelledError("Received 9000000 bytes which is larger than..."), "too_large"),
        (IgnoreRequest("... exceeded DOWNLOAD_MAXSIZE (8388608 B) during decompression."),
         "too_large"),
        (IgnoreRequest("max redirections reached"), "too_many_redirects"),
        (IgnoreRequest("Forbidden by robots.txt"), "IgnoreRequest"),
        (TimeoutError(), "TimeoutError"),
    ],
)  # fmt: skip
def test_failure_causes(error: Exception, cause: str) -> None:
    assert failure_cause(failure(error)) == cause


def test_truncated_pages() -> None:
    assert not is_truncated(PAGE.encode())
    assert not is_truncated(b"<html><body><p>x</p></BODY>\n")
    assert is_truncated(PAGE.encode()[: len(PAGE) // 2])


def test_control_characters_are_no_text_but_bidi_marks_are() -> None:
    assert clean_text("标题\x00含\x07控制\x1b符\x7f号\x9f\u202e反向") == "标题含控制符号\u202e反向"
    assert clean_text("a\x1cb\x85c") == "a b c"  # the ones that are white space fold
