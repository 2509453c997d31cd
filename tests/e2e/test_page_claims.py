"""A page cannot take another article's place (issue 13), in both orders of arrival.

Page A's canonical link (or its ``og:url``) names article B of the same site. Whichever
of the two is crawled first, in separate runs sharing one output folder, A is exported
under A's URL and B under B's, each once, in ``items.jsonl`` and in the seed-style files;
the claim is counted (``rfi/page/canonical_mismatch``), and a rerun fetches neither
again. A page whose ``og:url`` names an URL nothing links to never brings that URL into
the archive.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CrawlResult, run_crawl
from minisite import ROBOTS_ALLOW_ALL, article_page, key, listing_page, requested, url

from rfi_spider.archive import seedfile
from rfi_spider.archive.failures import read_failures
from rfi_spider.canonical import canonical_url
from rfi_spider.demo.localsite import LocalSite

HOME = "/cn/"
A = "/cn/国际/20240305-甲篇自称是乙篇"
B = "/cn/国际/20240306-乙篇真正的文章"
C = "/cn/国际/20240307-丙篇的og网址无人链接"
GHOST = "/cn/国际/20240308-无人链接的网址"
SAMPLE_TITLE = "瑞典正式加入北约 成为第32个成员国"
SETTINGS = {"CONCURRENT_REQUESTS": "1", "RFI_SECTIONS": "", "RFI_FEEDS": ""}
CLAIMS = {
    "canonical": '<link rel="canonical" href="{}">',
    "og:url": '<meta property="og:url" content="{}">',
}


def titled(path: str, title: str) -> str:
    """Sample article a1 as the article at ``path``, under its own title."""
    html = article_page(url(path))
    assert SAMPLE_TITLE in html
    return html.replace(SAMPLE_TITLE, title)


def claiming(path: str, title: str, claim: str, claimed: str) -> str:
    """The article at ``path`` whose ``claim`` (canonical link or og:url) names ``claimed``.

    A page that claims with its ``og:url`` has no canonical link: nothing else names it.
    """
    html = titled(path, title)
    own, other = CLAIMS[claim].format(url(path)), CLAIMS[claim].format(claimed)
    assert html.count(own) == 1, claim
    html = html.replace(own, other)
    if claim == "og:url":
        html = html.replace(CLAIMS["canonical"].format(url(path)), "")
        assert 'rel="canonical"' not in html
    return html


@pytest.fixture
def site() -> Iterator[LocalSite]:
    served = LocalSite()
    served.add("/robots.txt", ROBOTS_ALLOW_ALL, content_type="text/plain")
    served.add(B, titled(B, "乙篇"))
    with served:
        yield served


def crawl(site: LocalSite, output: Path, *linked: str) -> CrawlResult:
    """One run whose home page links to ``linked``, in that order; the site's log cleared."""
    site.requests.clear()
    site.add(HOME, listing_page(*linked))
    result = run_crawl(output, f"base_url={site.url}", settings=SETTINGS)
    assert result.returncode == 0, result.log[-3000:]
    return result


def fetched_articles(site: LocalSite) -> list[str]:
    return [path for path in requested(site) if path.startswith(key("/cn/国际/"))]


def seed_files(output: Path) -> dict[str, seedfile.SeedRecord]:
    """The seed-style files by their canonical URL (each URL at most once)."""
    files: dict[str, seedfile.SeedRecord] = {}
    for path in CrawlResult(0, "", output).article_files:
        record = seedfile.read(path.read_text(encoding="utf-8"))
        found = canonical_url(record.url)
        assert found and found not in files, f"{found} has two files"
        files[found] = record
    return files


@pytest.mark.parametrize("claim", sorted(CLAIMS))
@pytest.mark.parametrize("a_first", [True, False], ids=["A-before-B", "B-before-A"])
def test_a_page_naming_another_article_keeps_its_own_place(
    site: LocalSite, tmp_path: Path, claim: str, a_first: bool
) -> None:
    site.add(A, claiming(A, "甲篇", claim, url(B)))
    first, second = (A, B) if a_first else (B, A)
    output = tmp_path / "out"

    one = crawl(site, output, first)
    assert fetched_articles(site) == [key(first)]
    assert [item["url"] for item in one.items] == [url(first)]
    two = crawl(site, output, first, second)  # the first is known: only the second is fetched
    assert fetched_articles(site) == [key(second)]
    a_run = one if a_first else two
    assert a_run.stat("rfi/page/canonical_mismatch") == 1
    assert f"its {claim} names another URL" in a_run.log
    assert (two if a_first else one).stat("rfi/page/canonical_mismatch") == 0

    items = two.items
    assert sorted(item["url"] for item in items) == sorted([url(A), url(B)])  # each once
    titles = {item["url"]: item["title"] for item in items}
    assert titles == {url(A): "甲篇", url(B): "乙篇"}
    files = seed_files(output)
    assert {found: record.title for found, record in files.items()} == titles
    assert read_failures(output / ".state") == []  # neither is waiting for another try

    three = crawl(site, output, first, second)  # A is not fetched again, run after run
    assert fetched_articles(site) == []
    assert three.stat("rfi/skipped/already_exported") == 2
    assert len(three.items) == 2


def test_an_og_url_nothing_links_to_never_enters_the_archive(
    site: LocalSite, tmp_path: Path
) -> None:
    site.add(C, claiming(C, "丙篇", "og:url", url(GHOST)))
    site.add(GHOST, titled(GHOST, "幽灵"))  # served, but linked from nowhere
    output = tmp_path / "out"

    one = crawl(site, output, C)
    assert fetched_articles(site) == [key(C)]
    assert one.stat("rfi/page/canonical_mismatch") == 1
    assert [item["url"] for item in one.items] == [url(C)]
    assert list(seed_files(output)) == [url(C)]
    assert key(GHOST) not in (output / "items.jsonl").read_text(encoding="utf-8")
    for path in one.article_files:
        assert key(GHOST) not in path.read_text(encoding="utf-8")

    crawl(site, output, C)
    assert fetched_articles(site) == []  # C is archived under its own URL: done
