"""Extraction per page: the project's parser vs the bare lxml parse vs trafilatura.

Same pages (padded, about 200 KB), same process, best of ``rounds`` rounds
(``timeit``'s rule: the least disturbed run). Each method's time is the CPU time of
this thread (``time.thread_time``), summed over the sample, the methods taking turns
page by page, each page starting with the next method: a page's cost is the work
done for it, not the time another process held the core (on this shared 2-core host,
wall times of the same code moved by ±15% between runs), and a busy moment or a
warm cache favours no method.

The project's path is exactly ``ArticlePages.judged`` (``spiders/articles.py``)'s:
``HtmlResponse`` → ``ArticlePage.from_response`` → ``load_article``.
The floor is ``lxml.etree.fromstring`` of the same bytes with the parser parsel
builds (``lxml.html.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree, html
from scrapy.http import HtmlResponse

from benchmarks.pages import HTML_TYPE, BenchSite, Page
from rfi_spider.canonical import FetchRoot, clear_url_caches
from rfi_spider.extract.loaders import load_article
from rfi_spider.extract.page import ArticlePage, parse_html

CRAWLED_AT = "2026-11-27T12:00:00+00:00"
_SITE = FetchRoot()
# The headers the crawl's response has (the benchmark server's, pages.HTML_TYPE): without
# them, HtmlResponse sniffs the encoding from the body (about 0.05 ms a page), which the
# crawl never does.
HEADERS = {"Content-Type": HTML_TYPE}


def lxml_floor(page: Page) -> Any:
    """The bare parse: parsel's own parser settings, on the response's bytes."""
    parser = html.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)
    return etree.fromstring(page.body, parser=parser, base_url=page.article.url)


def project_parse(page: Page) -> Any:
    """The project's parse alone: ``rfi_spider.extract.page.parse_html`` of the response's bytes."""
    response = HtmlResponse(url=page.article.url, body=page.body, headers=HEADERS)
    return parse_html(response.body, response.encoding)


def project(page: Page) -> dict[str, Any]:
    """The project's whole extraction, as ``parse_article`` runs it.

    The URL caches are emptied first: a crawl meets each page once, while the rounds
    here meet the same pages again (only a page's own repeats of its URL may hit).
    """
    clear_url_caches()
    response = HtmlResponse(url=page.article.url, body=page.body, headers=HEADERS)
    fetched_as = _SITE.to_site(response.url) or page.article.url
    view = ArticlePage.from_response(response, fetched_as)
    assert view is not None
    item = load_article(view, crawled_at=CRAWLED_AT)
    return dict(item)


def trafilatura_extract(page: Page) -> Any:
    import trafilatura  # a heavy import: only when measured

    return trafilatura.extract(page.body, url=page.article.url)


METHODS: dict[str, Callable[[Page], Any]] = {
    "lxml": lxml_floor,
    "project_parse": project_parse,
    "project": project,
    "trafilatura": trafilatura_extract,
}


@dataclass
class ExtractionResult:
    pages: int
    mean_kb: float
    ms_per_page: dict[str, float]
    checked: int  # pages whose padded and unpadded items were compared
    mismatches: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)  # items without the page's URL or title

    def ratio(self, method: str) -> float:
        return self.ms_per_page[method] / self.ms_per_page["lxml"]


def sample_indices(site: BenchSite, count: int) -> list[int]:
    """``count`` page numbers spread over the site (every template is represented)."""
    count = max(1, min(count, site.count))
    step = site.count / count
    return sorted({int(i * step) for i in range(count)} | set(range(min(9, site.count))))


def check_fields(site: BenchSite, indices: list[int]) -> tuple[list[str], list[str]]:
    """The project's item on each padded page must equal the one on the unpadded page,
    and carry the page's own URL and title."""
    mismatches, wrong = [], []
    for index in indices:
        padded = site.page(index, padded=True)
        plain = site.page(index, padded=False)
        item = project(padded)
        if item != project(plain):
            mismatches.append(padded.article.path)
        if item.get("url") != padded.article.url or item.get("title") != padded.article.title:
            wrong.append(padded.article.path)
    return mismatches, wrong


def bench_extraction(site: BenchSite, sample: int, rounds: int) -> ExtractionResult:
    indices = sample_indices(site, sample)
    pages = [site.page(i) for i in indices]
    for method in METHODS.values():  # warm-up: imports, caches, first-call costs
        for page in pages[:3]:
            method(page)
    best: dict[str, float] = {}
    methods = list(METHODS.items())
    clock = time.thread_time
    for _ in range(rounds):
        spent = dict.fromkeys(METHODS, 0.0)
        for number, page in enumerate(pages):  # page by page, the first method in turn
            turn = number % len(methods)
            for name, method in methods[turn:] + methods[:turn]:
                start = clock()
                method(page)
                spent[name] += clock() - start
        for name, seconds in spent.items():
            best[name] = min(best.get(name, seconds), seconds)
    mismatches, wrong = check_fields(site, indices)
    return ExtractionResult(
        pages=len(pages),
        mean_kb=sum(len(p.body) for p in pages) / len(pages) / 1024,
        ms_per_page={name: seconds / len(pages) * 1000 for name, seconds in best.items()},
        checked=len(indices),
        mismatches=mismatches,
        wrong=wrong,
    )
