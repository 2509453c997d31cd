"""Hostile and broken input, end to end: one crawl of a loopback site full of traps.

Good articles (generated like the benchmark's) sit next to pages that are
truncated, empty, error pages served with 200, 10 MB, a gzip bomb, with broken
JSON-LD, absurd dates, GBK text declared as UTF-8 or not declared at all, NUL
bytes, scripts and forms; links to ``javascript:``, ``data:``, other hosts and
5,000-character URLs; redirect loops and redirects to another loopback host;
and a mirror whose entry carries scripts. Each trap must end in a log line
naming the URL and an ``rfi/...`` counter, never in a crash, and the good
articles of the same crawl must be exported.
"""

from __future__ import annotations

import json
import re
import struct
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conftest import CrawlResult, first_version, run_crawl
from feeds import Entry, rss
from scrapy.http import HtmlResponse

from benchmarks.pages import Article, BenchSite
from rfi_spider.demo.localsite import LocalSite, Page, route_key
from rfi_spider.extract.loaders import load_article
from rfi_spider.extract.page import ArticlePage
from rfi_spider.quality import qa

SITE = "https://www.rfi.fr"
BENCH = BenchSite(15)
HTML = "text/html; charset=utf-8"

GOOD = [0, 1, 2]
NUL_TITLE, LONG_TITLE, BAD_JSON_LD, DATES_FALL_BACK, NO_DATE, ACTIVE = 3, 4, 5, 6, 7, 8
GBK_SAYS_UTF8, GBK_META_SAYS_GBK, GBK_NO_CHARSET, UTF8_NO_CHARSET = 9, 10, 11, 12
TRUNCATED, MIRRORED = 13, 14
EXPORTED_FROM_SITE = [*GOOD, NUL_TITLE, LONG_TITLE, BAD_JSON_LD, DATES_FALL_BACK, ACTIVE]
EXPORTED_FROM_SITE += [GBK_SAYS_UTF8, GBK_META_SAYS_GBK, GBK_NO_CHARSET, UTF8_NO_CHARSET]

HOSTILE_TITLE = "标题\x00含斜杠/../..与\u202e反向字符"
STORED_TITLE = "标题含斜杠/../..与\u202e反向字符"  # NUL dropped (as browsers do), RLO kept
ACTIVE_MARKUP = (
    '<p onclick="alert(1)">点击<a href="javascript:alert(2)">这里</a>'
    '<img src="x" onerror="alert(3)"></p><script>alert(4)</script>'
    '<iframe src="http://127.0.0.2/"></iframe>'
    '<form action="http://127.0.0.2/"><input name="q"><p>表单里的文字</p></form>'
    '<p style="color:red" data-x="1">好<svg onload="alert(5)"><script>alert(6)</script></svg>的</p>'
)
# What must never be in an export, as markup.
ACTIVE_PATTERN = re.compile(
    r"<\s*(script|iframe|form|input|svg)\b|\son[a-z]+\s*=|javascript:", re.IGNORECASE
)


def path_of(url: str) -> str:
    return route_key(url.removeprefix(SITE))


def special(slug: str) -> str:
    """A canonical article URL of the site that is no generated article."""
    return SITE + quote(f"/cn/中国/20240101-{slug}")


EMPTY, ERROR_200, HUGE, BOMB = (special(s) for s in ("空白页", "错误页", "十兆页面", "压缩炸弹"))
LOOP, LOOP_BACK, ENDLESS, AWAY = (special(s) for s in ("循环", "循环回来", "无尽跳转", "跳到别处"))
LONG_LINK = "/cn/中国/20240101-" + "长" * 600  # 5,000+ characters once percent-encoded


def gzip_bomb(gigabytes: int = 1) -> bytes:
    """``gigabytes`` GB of zeros gzip-compressed to about 1 MB, made in half a second:
    1 MB of zeros deflated once, after a full flush, is a block that can be repeated."""
    zeros = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(1024 * gigabytes):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    size = (gigabytes << 30) & 0xFFFFFFFF
    return header + block * (1024 * gigabytes) + deflate.flush() + struct.pack("<II", crc, size)


def page_html(index: int) -> tuple[Article, str]:
    generated = BENCH.page(index, padded=False)
    return generated.article, generated.body.decode("utf-8")


def variant(index: int, html: str, article: Article) -> Page:
    """The trap made of generated article ``index``."""
    h1 = f">{article.title}</h1>"
    if index == NUL_TITLE:
        return Page(html.replace(h1, f">{HOSTILE_TITLE}</h1>").encode())
    if index == LONG_TITLE:
        return Page(html.replace(h1, f">{'长' * 10_000}</h1>").encode())
    if index == BAD_JSON_LD:
        broken = html.replace('"@context"', '{{"@context', 1)
        return Page(broken.encode())
    if index in (DATES_FALL_BACK, NO_DATE):
        html = re.sub(r'"datePublished": "[^"]+"', '"datePublished": "0001-01-01T00:00:00Z"', html)
        html = re.sub(
            r'(article:published_time" content=")[^"]+', r"\g<1>9999-12-31T23:59:59Z", html
        )
        if index == NO_DATE:
            html = re.sub(r'datetime="[^"]+"', 'datetime="上周三"', html)
        return Page(html.encode())
    if index == ACTIVE:
        body = html.index(">", html.index('class="t-content__body')) + 1
        html = html[:body] + ACTIVE_MARKUP + html[body:]
        return Page(html.replace(h1, f">{article.title}<script>alert(7)</script></h1>").encode())
    if index == GBK_SAYS_UTF8:
        return Page(html.encode("gb18030"), content_type=HTML)
    if index == GBK_META_SAYS_GBK:
        return Page(html.replace('charset="utf-8"', 'charset="gbk"').encode("gb18030"))
    if index in (GBK_NO_CHARSET, UTF8_NO_CHARSET):
        bare = html.replace('<meta charset="utf-8">', "")
        body = bare.encode("gb18030" if index == GBK_NO_CHARSET else "utf-8")
        return Page(body, content_type="text/html")
    if index == TRUNCATED:
        cut = html.index("</p>", html.index('class="t-content__body')) + 4
        return Page(html[:cut].encode())
    return Page(html.encode())


def reference_item(index: int, without_json_ld: bool = False) -> dict[str, Any]:
    """What the project extracts from the untouched page (crawled_at aside)."""
    article, html = page_html(index)
    if without_json_ld:
        html = re.sub(r'<script type="application/ld\+json">.*?</script>', "", html, flags=re.S)
    response = HtmlResponse(url=article.url, body=html.encode(), encoding="utf-8")
    item = dict(load_article(ArticlePage.from_response(response, article.url), crawled_at=None))
    item.pop("crawled_at", None)
    return item


class Traps:
    """The hook of the main site: generated pages, traps, redirects; requests with times."""

    def __init__(self, other_host: str) -> None:
        self.other_host = other_host
        self.pages: dict[str, Page] = {}
        self.hits: list[tuple[float, str]] = []
        for index in range(len(BENCH.articles())):
            article, html = page_html(index)
            self.pages[path_of(article.url)] = variant(index, html, article)
        self.pages[path_of(MIRRORED_URL)] = Page(b"<html><body>404</body></html>", status=404)
        self.pages[path_of(EMPTY)] = Page(b"")
        self.pages[path_of(ERROR_200)] = Page(
            "<html><head><title>页面不存在</title></head><body><h1>页面不存在</h1>"
            "<p>您要找的页面不存在。</p></body></html>".encode()
        )
        self.pages[path_of(HUGE)] = Page(b"<html><body>" + b"a" * (10 << 20) + b"</body></html>")
        self.pages[path_of(BOMB)] = Page(gzip_bomb(), headers={"Content-Encoding": "gzip"})
        self.pages[path_of(LOOP)] = redirect(path_of(LOOP_BACK))
        self.pages[path_of(LOOP_BACK)] = redirect(path_of(LOOP))
        self.pages[path_of(AWAY)] = redirect(other_host + path_of(BENCH.article(0).url), 301)
        links = [path_of(a.url) for a in BENCH.articles()]
        links += [path_of(u) for u in (EMPTY, ERROR_200, HUGE, BOMB, LOOP, ENDLESS, AWAY)]
        links += [
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            other_host.replace("http:", "") + "/cn/中国/20240101-协议相对",  # //host:port/...
            other_host + "/cn/中国/20240101-别的主机",
            LONG_LINK,
        ]
        anchors = "".join(f'<a href="{link}">链接</a>' for link in links)
        self.pages["/cn/"] = Page(f"<html><body><main>{anchors}</main></body></html>".encode())

    def __call__(self, handler: BaseHTTPRequestHandler, key: str) -> Page | None:
        self.hits.append((time.monotonic(), key))
        path, _, query = key.partition("?")
        if path == path_of(ENDLESS):  # a new URL at every step: only the count stops it
            step = int(query.removeprefix("n=") or 0) + 1
            return redirect(f"{path}?n={step}")
        return self.pages.get(key) if not query else None


def redirect(location: str, status: int = 302) -> Page:
    return Page(b"", status=status, headers={"Location": location})


MIRRORED_URL = BENCH.article(MIRRORED).url
MIRROR_HTML = (
    "<div>05/03/2024 - 09:15</div><p><strong>镜像的摘要。</strong></p>"
    '<div><p onmouseover="steal()">镜像正文第一段。</p><script>steal()</script>'
    '<iframe src="http://127.0.0.2/"></iframe><p>镜像正文第二段。</p></div>'
)


@pytest.fixture(scope="module")
def other() -> Iterator[LocalSite]:
    """Another loopback host, where redirects and links lead: it must never be asked."""
    with LocalSite(host="127.0.0.2") as served:
        served.add("/robots.txt", b"User-agent: *\nAllow: /\n", content_type="text/plain")
        yield served


@pytest.fixture(scope="module")
def crawl(other: LocalSite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrawlResult]:
    traps = Traps(other.url)
    entry = Entry(
        BENCH.article(MIRRORED).title, MIRRORED_URL, MIRROR_HTML, "Tue, 05 Mar 2024 08:15:00 GMT"
    )
    with LocalSite(hook=traps) as site:
        site.add("/robots.txt", b"User-agent: *\nAllow: /\n", content_type="text/plain")
        site.add("/mirror.xml", rss([entry]), content_type="application/rss+xml")
        result = run_crawl(
            tmp_path_factory.mktemp("hostile") / "out",
            f"base_url={site.url}",
            f"mirrors={site.url}/mirror.xml",
            settings={"RFI_SECTIONS": "", "RFI_FEEDS": "", "RFI_BROWSER_PATH": ""},
        )
        result.site_url = site.url  # type: ignore[attr-defined]
    yield result


def fetched(crawl: CrawlResult, url: str) -> str:
    """The URL the crawl fetched for a canonical URL (as its log lines name it)."""
    return crawl.site_url + path_of(url)  # type: ignore[attr-defined]


def items_by_url(crawl: CrawlResult) -> dict[str, dict[str, Any]]:
    return {item["url"]: item for item in crawl.items}


# --- the crawl as a whole ---------------------------------------------------------
def test_the_crawl_finishes_cleanly(crawl: CrawlResult) -> None:
    assert crawl.returncode == 0, crawl.log[-3000:]
    assert "Traceback" not in crawl.log
    assert crawl.stat("log_count/ERROR") == 0, crawl.log[-3000:]


def test_the_good_articles_and_the_survivors_are_exported_once(crawl: CrawlResult) -> None:
    expected = {BENCH.article(i).url for i in EXPORTED_FROM_SITE} | {MIRRORED_URL}
    assert sorted(items_by_url(crawl)) == sorted(expected)
    assert len(crawl.items) == len(expected)
    for index in GOOD:
        item = items_by_url(crawl)[BENCH.article(index).url]
        assert {
            k: v for k, v in first_version(item).items() if k != "crawled_at"
        } == reference_item(index)
    report = qa.check_archive(crawl.output)
    assert report.ok, qa.render_text(report, limit=None)


# --- pages ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (BENCH.article(TRUNCATED).url, "truncated"),
        (ERROR_200, "no_title"),
        (EMPTY, "empty_body"),
        (BENCH.article(NO_DATE).url, "no_date"),
    ],
)
def test_pages_that_are_not_articles_are_dropped(crawl: CrawlResult, url: str, reason: str) -> None:
    assert crawl.stat(f"rfi/dropped/{reason}") == 1
    assert f"dropped {fetched(crawl, url)}: {reason}" in crawl.log


@pytest.mark.parametrize(
    ("url", "cause"),
    [
        (HUGE, "too_large"),  # 10 MB, over DOWNLOAD_MAXSIZE: Scrapy cancels the download
        (BOMB, "too_large"),  # 1 GB once decompressed: refused at 8 MB
        (LOOP, "redirect_loop"),
        (ENDLESS, "too_many_redirects"),
        (AWAY, "offsite_redirect"),
    ],
)
def test_pages_that_cannot_be_fetched_are_counted_by_cause(
    crawl: CrawlResult, url: str, cause: str
) -> None:
    expected = 2 if cause == "too_large" else 1
    assert crawl.stat(f"rfi/failed/article/{cause}") == expected
    line = next(line for line in crawl.log.splitlines() if fetched(crawl, url) in line)
    assert "WARNING" in line


def test_the_gzip_bomb_is_refused_while_decompressing(crawl: CrawlResult) -> None:
    assert "exceeded DOWNLOAD_MAXSIZE (8388608 B) during decompression" in crawl.log
    assert f"could not fetch article {fetched(crawl, BOMB)}: too_large" in crawl.log
    # 1 GB of zeros never was in memory: the crawl's peak stayed that of a small crawl.
    assert 0 < crawl.stat("rfi/memory/peak_rss_mb") < 300


def test_malformed_json_ld_is_ignored_and_the_other_fields_are_right(crawl: CrawlResult) -> None:
    url = BENCH.article(BAD_JSON_LD).url
    assert crawl.stat("rfi/page/bad_json_ld") == 1
    assert f"{url}: JSON-LD that does not parse was ignored" in crawl.log
    item = items_by_url(crawl)[url]
    # Exactly the item of the page without its JSON-LD: every field the markup has is right.
    assert {k: v for k, v in first_version(item).items() if k != "crawled_at"} == reference_item(
        BAD_JSON_LD, without_json_ld=True
    )
    assert item["title"] == BENCH.article(BAD_JSON_LD).title


def test_absurd_dates_fall_back_to_the_page_or_drop_the_article(crawl: CrawlResult) -> None:
    """JSON-LD says year 1, the meta tag 9999: neither is taken; the <time> element is.
    With a <time> that says 上周三 ("last Wednesday") too, there is no date: dropped."""
    item = items_by_url(crawl)[BENCH.article(DATES_FALL_BACK).url]
    assert item["published_at"] == reference_item(DATES_FALL_BACK)["published_at"]
    assert BENCH.article(NO_DATE).url not in items_by_url(crawl)


@pytest.mark.parametrize("index", [GBK_SAYS_UTF8, GBK_META_SAYS_GBK])
def test_gbk_declared_as_utf8_is_read_as_gbk(crawl: CrawlResult, index: int) -> None:
    url = BENCH.article(index).url
    item = items_by_url(crawl)[url]
    expected = reference_item(index)
    assert item["title"] == expected["title"]
    assert item["paragraphs"] == expected["paragraphs"]
    assert f"{fetched(crawl, url)} says it is UTF-8 but is not: read as G" in crawl.log
    assert crawl.stat("rfi/page/charset_fixed") == 2


@pytest.mark.parametrize("index", [GBK_NO_CHARSET, UTF8_NO_CHARSET])
def test_a_page_without_any_charset_is_read_right(crawl: CrawlResult, index: int) -> None:
    """No charset in the headers nor in the page: Scrapy's detection finds GBK or UTF-8."""
    item = items_by_url(crawl)[BENCH.article(index).url]
    expected = reference_item(index)
    assert (item["title"], item["paragraphs"]) == (expected["title"], expected["paragraphs"])


# --- text -------------------------------------------------------------------------
def test_no_script_frame_form_or_handler_reaches_any_export(crawl: CrawlResult) -> None:
    exports = [crawl.output / "items.jsonl", *crawl.article_files]
    for path in exports:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":  # markup sits in JSON strings: read it back out
            lines = text.splitlines()
            text = "\n".join(json.dumps(json.loads(line), ensure_ascii=False) for line in lines)
        assert not ACTIVE_PATTERN.search(text), (path, ACTIVE_PATTERN.search(text))
    item = items_by_url(crawl)[BENCH.article(ACTIVE).url]
    assert item["title"] == BENCH.article(ACTIVE).title  # the script in the h1 is no text
    assert "表单里的文字" not in item["paragraphs"]  # a form's text is not the article's
    assert "好的" in item["paragraphs"]


def test_a_mirror_entry_with_scripts_is_stored_without_them(crawl: CrawlResult) -> None:
    item = items_by_url(crawl)[MIRRORED_URL]
    assert item["source"] == "127.0.0.1"
    assert item["paragraphs"] == ["镜像正文第一段。", "镜像正文第二段。"]
    assert crawl.stat("rfi/mirror/sanitized") == 1
    assert f"entry {MIRRORED_URL} held scripts, frames, forms or event handlers" in crawl.log
    (seed,) = [p for p in crawl.article_files if MIRRORED_URL in p.read_text(encoding="utf-8")]
    text = seed.read_text(encoding="utf-8")
    assert "镜像正文第一段。" in text and "<p>镜像正文第二段。</p>" in text


def test_titles_are_text_and_never_shape_a_path(crawl: CrawlResult) -> None:
    items = items_by_url(crawl)
    assert items[BENCH.article(NUL_TITLE).url]["title"] == STORED_TITLE
    assert crawl.stat("rfi/page/nul_removed") == 1
    assert items[BENCH.article(LONG_TITLE).url]["title"] == "长" * 10_000
    raw = (crawl.output / "items.jsonl").read_text(encoding="utf-8")
    assert "\u202e" in raw and "\\u0000" not in raw  # the RLO is kept as text
    for path in crawl.article_files:
        relative = path.relative_to(crawl.output / "articles").as_posix()
        assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/[0-9a-f]{16}\.txt", relative), relative
    titles = [p.read_text(encoding="utf-8").split("\n")[1] for p in crawl.article_files]
    assert f"[{STORED_TITLE}]({BENCH.article(NUL_TITLE).url})" in titles


# --- links --------------------------------------------------------------------------
def test_no_link_leads_off_the_site(crawl: CrawlResult, other: LocalSite) -> None:
    assert [path for _, path, _ in other.requests] == []  # neither a link nor a redirect
    # //other/cn/... and http://other/cn/...: counted; javascript: and data: are not even
    # looked at (no site path in them), like the menus' hundreds of other links.
    assert crawl.stat("rfi/links/offsite") == 2
    assert crawl.stat("rfi/links/too_long") == 1
    assert "links to an article URL of 5" in crawl.log
    assert crawl.stat("urllength/request_ignored_count") == 0  # never even asked of Scrapy


# --- servers ------------------------------------------------------------------------
def test_bursts_of_429_and_503_are_waited_out_not_hammered(tmp_path: Path) -> None:
    """Four articles each answer 429 or 503 with Retry-After: 1 first. No retry may come
    before its second is up, each is asked twice (no more), and every one is exported.
    (The back-off is capped at 1 s here: escalating it is test_blocked's business.)"""
    burst = [path_of(BENCH.article(i).url) for i in range(4)]
    first_answer: dict[str, float] = {}
    hits: dict[str, list[float]] = {}

    def hook(handler: BaseHTTPRequestHandler, key: str) -> Page | None:
        now = time.monotonic()
        hits.setdefault(key, []).append(now)
        if key in burst and key not in first_answer:
            first_answer[key] = now
            status = 429 if burst.index(key) % 2 else 503
            return Page(b"busy", status=status, headers={"Retry-After": "1"})
        found = BENCH.route(key) if key != "/cn/" else None
        return Page(found[0], content_type=found[1]) if found else None

    links = "".join(f'<a href="{path}">x</a>' for path in burst)
    with LocalSite(hook=hook) as site:
        site.add("/cn/", f"<html><body>{links}</body></html>")
        result = run_crawl(
            tmp_path / "out",
            f"base_url={site.url}",
            settings={"RFI_SECTIONS": "", "RFI_FEEDS": "", "RFI_BACKOFF_MAX_DELAY": "1"},
        )
    assert result.returncode == 0, result.log[-3000:]
    assert sorted(i["url"] for i in result.items) == sorted(SITE + p for p in burst)
    assert result.stat("rfi/blocked/429") == 2 and result.stat("rfi/blocked/503") == 2
    assert result.stat("rfi/backoff/retry_after") == 4
    for path in burst:
        assert len(hits[path]) == 2, (path, hits[path])
        assert hits[path][1] - first_answer[path] >= 1.0
