"""End-to-end: a loopback site that refuses some articles, and loopback mirror feeds.

One earlier run exports an archive-only article; the main run then reads an
RSS mirror (feedx's shape), an Atom mirror (RSSHub's shape), a mirror that is
unreachable and one that is an entity bomb, while the site serves some articles,
refuses others (403, 503 after retries), lacks some (404) and answers one with a
200 error page. One more mirror feed declares an external entity that names a
secret file.
"""

from __future__ import annotations

import json
import socket
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import FIXTURES, SEED_COPY, CrawlResult, first_version, run_crawl
from feeds import Entry, atom, feedx_html, rss, rsshub_html

from rfi_spider.demo.localsite import LocalSite, Page, route_key

SITE = "https://www.rfi.fr"
ROUTES = json.loads(
    resources.files("rfi_spider.demo.sample_site").joinpath("routes.json").read_text()
)
EXPECTED = {a["url"]: a for a in json.loads(
    (FIXTURES / "sample_site_expected.json").read_text(encoding="utf-8")
)["articles"]}  # fmt: skip


def article(prefix: str) -> str:
    """The canonical URL of a sample-site page, by its file name's prefix."""
    (path,) = [p for p, name in ROUTES.items() if name.startswith(prefix)]
    return SITE + path


def path_of(url: str) -> str:
    return route_key(url.removeprefix(SITE))


def encoded(link: str) -> str:
    return SITE + quote(link.removeprefix(SITE))


A1 = article("article_a1_")  # served: the site's version wins over both mirrors' copies
A3 = article("article_a3_")  # refused with 403, also found on listings and the site's RSS
A5 = article("article_a5_")  # 503 after retries: RSSHub's copy (Atom)
A7 = article("article_a7_")  # archive only: exported by the earlier run
NOTRE_DAME = article("error_page_200")  # the site answers 200 with an error page
SEED_LINK = f"{SITE}/cn/国际/20240307-巴黎牵头支持乌克兰后续会议-近30国出席-马克龙拼了"
SEED = encoded(SEED_LINK)  # refused with 403
ONLY_MIRROR = f"{SITE}/cn/中国/20240308-只在镜像里的文章"  # the site has no such page: 404
BAD_DATE = f"{SITE}/cn/中国/20240308-日期坏了的条目"
NO_CONTENT = f"{SITE}/cn/中国/20240308-没有内容的条目"
REFUSED = {path_of(A3), path_of(SEED)}


def feedx_copy(url: str, marker: str = "") -> str:
    item = EXPECTED[url]
    body = "".join(f"<p>{marker}{p}</p>" for p in item["paragraphs"])
    return feedx_html(item["date_text"], item["lead_image"], item["summary"], body, url)


def sample_page(url: str) -> str:
    name = ROUTES[path_of(url)]
    return resources.files("rfi_spider.demo.sample_site").joinpath(name).read_text(encoding="utf-8")


RSS_ENTRIES = [
    Entry("镜像标题", A1, feedx_copy(A1, marker="镜像："), "Thu, 07 Mar 2024 17:13:02 GMT"),
    Entry(
        "巴黎牵头支持乌克兰后续会议 近30国出席 马克龙拼了？",
        SEED_LINK,
        SEED_COPY.read_text(encoding="utf-8").split("\n")[4],
        "Thu, 07 Mar 2024 17:45:02 GMT",
        cdata=False,
    ),
    Entry(
        "巴黎圣母院修复工程进入最后阶段",
        NOTRE_DAME,
        feedx_html(
            "07/03/2024 - 11:20",
            None,
            "测试摘要：修复工程进入最后阶段。",
            "<p>测试段落一。</p><p>测试段落二。</p>",
            NOTRE_DAME,
        ),
        "Thu, 07 Mar 2024 10:20:00 GMT",
    ),
    Entry(
        "缅甸军政府启动征兵",
        A7,
        feedx_html("07/03/2024 - 10:00", None, None, "<p>镜像正文。</p>", A7),
        "Thu, 07 Mar 2024 09:00:00 GMT",
    ),
    Entry(
        "法国举行仪式将堕胎自由正式写入宪法", A3, feedx_copy(A3), "Fri, 08 Mar 2024 16:21:07 GMT"
    ),
    Entry("没有链接", None, "<p>x</p>", "Fri, 08 Mar 2024 08:00:00 GMT"),
    Entry("日期坏了", BAD_DATE, "<p>x</p>", "8 mars 2024"),
    Entry("没有内容", NO_CONTENT, "", "Fri, 08 Mar 2024 08:00:00 GMT"),
    Entry("别的网站", "https://example.com/cn/中国/20240308-x", "<p>x</p>", "Fri, 08 Mar 2024"),
]
A5_ITEM = EXPECTED[A5]
ATOM_ENTRIES = [
    Entry(
        A5_ITEM["title"],
        A5,
        rsshub_html(sample_page(A5)),
        A5_ITEM["published_at"],
        authors=[", ".join(A5_ITEM["authors"])],  # RSSHub joins them
        categories=A5_ITEM["tags"],
    ),
    Entry("镜像标题", A1, rsshub_html(sample_page(A1)), "2024-03-07T17:02:00Z"),
    Entry(
        "只在镜像里的文章",
        ONLY_MIRROR,
        "<p>镜像独有的第一段。</p>\n<p>第二段。</p>",
        "2024-03-08T02:00:00Z",
    ),
]
BOMB = (
    '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
    + "".join(
        f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for p, c in zip("abcd", "bcde", strict=True)
    )
    + f']><rss version="2.0"><channel><item><title>&e;</title><link>{A1}</link>'
    "<description>x</description><pubDate>Thu, 07 Mar 2024 17:45:02 GMT</pubDate></item>"
    "</channel></rss>"
)
SECRET = "TOP-SECRET-FROM-THE-DISK"


def external_entity_feed(secret_file: Path) -> str:
    """A feed whose entry's title is an external entity: the content of a local file."""
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret_file}">]>'
        f'<rss version="2.0"><channel><item><title>&x;</title><link>{A1}</link>'
        "<description>&x;</description><pubDate>Thu, 07 Mar 2024 17:45:02 GMT</pubDate>"
        "</item></channel></rss>"
    )


# The RSS mirror is served as 127.0.0.1, the Atom one as localhost: two mirror hosts.
MIRROR_ENTRIES = {  # canonical URL -> (entry, pubDate in ms, source) a mirror must give
    SEED: (RSS_ENTRIES[1], 1709833502000, "127.0.0.1"),
    NOTRE_DAME: (RSS_ENTRIES[2], 1709806800000, "127.0.0.1"),
    A3: (RSS_ENTRIES[4], 1709914867000, "127.0.0.1"),
    A5: (ATOM_ENTRIES[0], 1709895720000, "localhost"),
    encoded(ONLY_MIRROR): (ATOM_ENTRIES[2], 1709863200000, "localhost"),
}


def refuse(handler: object, key: str) -> Page | None:
    if key in REFUSED:
        return Page(b"<html><body><h1>403 Forbidden</h1></body></html>", status=403)
    if key == path_of(A5):
        return Page(b"<html><body>busy</body></html>", status=503)
    return None


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> LocalSite:
    served = LocalSite.sample(hook=refuse)
    xml = "application/rss+xml; charset=utf-8"
    served.add("/mirror/feedx.xml", rss(RSS_ENTRIES), content_type=xml)
    served.add("/mirror/rsshub.atom", atom(ATOM_ENTRIES), content_type="application/atom+xml")
    served.add("/mirror/bomb.xml", BOMB, content_type=xml)
    secret = tmp_path_factory.mktemp("secret") / "secret.txt"
    secret.write_text(SECRET)
    served.add("/mirror/xxe.xml", external_entity_feed(secret), content_type=xml)
    with served:
        yield served


@pytest.fixture(scope="module")
def crawl(site: LocalSite, tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    output = tmp_path_factory.mktemp("mirrors") / "out"
    earlier = run_crawl(output, f"base_url={site.url}", f"url={A7}")
    assert [i["url"] for i in earlier.items] == [A7], earlier.log[-3000:]
    site.requests.clear()
    mirrors = [
        f"{site.url}/mirror/feedx.xml",
        f"{site.url.replace('127.0.0.1', 'localhost')}/mirror/rsshub.atom",
        f"http://127.0.0.1:{closed_port()}/rss/rfi.xml",
        f"{site.url}/mirror/bomb.xml",
        f"{site.url}/mirror/xxe.xml",
    ]
    # The browser fallback (issue 4) is off: a 403 goes straight to the mirror.
    no_browser = {"RFI_BROWSER_PATH": ""}
    result = run_crawl(
        output, f"base_url={site.url}", "mirrors=" + ",".join(mirrors), settings=no_browser
    )
    result.requests = [path for _, path, _ in site.requests]  # type: ignore[attr-defined]
    return result


def new_items(crawl: CrawlResult) -> dict[str, dict]:
    return {i["url"]: i for i in crawl.items if i["url"] != A7}


def test_crawl_finishes_cleanly(crawl: CrawlResult) -> None:
    assert crawl.returncode == 0, crawl.log[-3000:]
    # Scrapy's own ERROR lines only: giving up retrying (A5's 503s, the unreachable
    # mirror) and the unreachable mirror's robots.txt; no callback or pipeline error.
    errors = [line for line in crawl.log.splitlines() if "] ERROR: " in line]
    for line in errors:
        assert "[scrapy.downloadermiddlewares.retry]" in line or (
            "[scrapy.downloadermiddlewares.robotstxt]" in line and "/rss/rfi.xml" in line
        ), line
    assert "Spider error processing" not in crawl.log
    assert "Error processing" not in crawl.log


def test_every_article_exported_once(crawl: CrawlResult) -> None:
    urls = [i["url"] for i in crawl.items]
    assert len(urls) == len(set(urls))
    site_served = {url for url in EXPECTED if url not in (A3, A5)}
    assert set(new_items(crawl)) == site_served | set(MIRROR_ENTRIES)
    assert crawl.stat("rfi/exported") == len(site_served) + len(MIRROR_ENTRIES)
    assert crawl.stat("rfi/duplicates") == 0


def test_the_site_wins_when_it_serves_the_article(crawl: CrawlResult) -> None:
    items = new_items(crawl)
    for url in EXPECTED:
        if url not in (A3, A5):
            assert items[url]["source"] == "rfi.fr"
    a1 = {k: v for k, v in first_version(items[A1]).items() if k not in ("crawled_at", "body_html")}
    assert a1 == EXPECTED[A1]  # not the mirrors' copies ("镜像标题", "镜像：…")


def test_refused_articles_come_from_the_mirror(crawl: CrawlResult) -> None:
    items = new_items(crawl)
    for url, (_, _, source) in MIRROR_ENTRIES.items():
        assert items[url]["source"] == source, url
        assert "mirror_entry" not in items[url]  # kept for the file, not exported
    assert crawl.stat("rfi/mirror/fallback/403") == 2  # the seed's article, A3
    assert crawl.stat("rfi/mirror/fallback/503") == 1  # A5, after retries
    assert crawl.stat("rfi/mirror/fallback/404") == 1  # only the mirror has it
    assert crawl.stat("rfi/mirror/fallback/no_title") == 1  # a 200 page that is not it
    a3 = items[A3]
    for name in ("url", "date_text", "lead_image", "summary", "paragraphs", "section"):
        assert a3[name] == EXPECTED[A3][name], name
    assert a3["published_at"] == "2024-03-08T16:21:07+00:00"  # the entry's pubDate
    a5 = items[A5]  # RSSHub's shape, through the same loader as the page
    for name in ("title", "published_at", "date_text", "summary", "paragraphs", "tags"):
        assert a5[name] == A5_ITEM[name], name
    assert a5["authors"] == A5_ITEM["authors"]
    assert items[NOTRE_DAME]["paragraphs"] == ["测试段落一。", "测试段落二。"]


def test_mirror_files_are_the_entries_byte_for_byte(crawl: CrawlResult) -> None:
    files = {p.read_text(encoding="utf-8").split("\n")[1]: p for p in crawl.article_files}
    assert len(files) == len(crawl.article_files)
    for url, (entry, ms, _) in MIRROR_ENTRIES.items():
        link = quote(entry.link, safe=":/%")
        html = "".join(line.strip() for line in entry.html.split("\n"))
        expected = f"<!--{ms}-->\n[{entry.title}]({link})\n------\n\n{html}\n"
        path = files[f"[{entry.title}]({link})"]
        assert path.read_bytes() == expected.encode("utf-8"), url


def test_the_seed_file_is_reproduced_byte_for_byte(crawl: CrawlResult) -> None:
    seed = SEED_COPY.read_bytes()
    assert [p for p in crawl.article_files if p.read_bytes() == seed]


def test_an_article_exported_earlier_is_not_even_requested(crawl: CrawlResult) -> None:
    assert path_of(A7) not in crawl.requests  # type: ignore[attr-defined]
    assert [i["url"] for i in crawl.items].count(A7) == 1
    # A1 is in both mirrors: one entry is kept, the other skipped (exported or pending).
    skipped = crawl.stat("rfi/mirror/skipped/already_exported")
    assert skipped + crawl.stat("rfi/mirror/skipped/duplicate") == 2
    assert skipped >= 1


def test_broken_entries_are_skipped_with_warnings_and_counters(crawl: CrawlResult) -> None:
    for reason in ("no_link", "bad_date", "no_content", "not_article"):
        assert crawl.stat(f"rfi/mirror/bad_entry/{reason}") == 1, reason
    assert "entry #6 skipped: no_link" in crawl.log
    assert "skipped: bad_date" in crawl.log
    assert crawl.stat("rfi/mirror/entries") == 8
    # Their links, when good, are asked of the site like any feed link; the site lacks
    # them and no entry stands in, so nothing is exported for them.
    requests = crawl.requests  # type: ignore[attr-defined]
    assert path_of(BAD_DATE) in requests and path_of(NO_CONTENT) in requests
    exported = set(new_items(crawl))
    assert not {u for u in exported if "20240308-%E6%97%A5%E6%9C%9F" in u or "%E6%B2%A1" in u}


def test_unreachable_and_hostile_mirrors_cost_a_warning(crawl: CrawlResult) -> None:
    assert crawl.stat("rfi/mirror/unreachable") == 1
    assert "could not fetch mirror http://127.0.0.1:" in crawl.log
    assert crawl.stat("rfi/mirror/bad_feed") == 2
    assert "/mirror/bomb.xml refused" in crawl.log
    assert "/mirror/xxe.xml refused: declares XML entities" in crawl.log
    exports = [crawl.output / "items.jsonl", *crawl.article_files]
    assert not [p for p in exports if SECRET in p.read_text(encoding="utf-8")]
    assert "feed mirrors:" in crawl.log  # in the crawl summary


def test_feeds_and_site_requests_go_through_the_offsite_filter(crawl: CrawlResult) -> None:
    assert crawl.stat("offsite/filtered") == 0
    requests = crawl.requests  # type: ignore[attr-defined]
    assert "/mirror/feedx.xml" in requests and "/mirror/rsshub.atom" in requests
    assert requests.count(path_of(A5)) == 4  # 503: three retries, then the mirror


def test_mirror_hosts_must_be_urls(tmp_path: Path) -> None:
    result = run_crawl(tmp_path / "out", "mirrors=feedx.net/rss/rfi.xml")
    assert result.returncode != 0
    assert "a feed mirror must be an http(s) URL" in result.log
