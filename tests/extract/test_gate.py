"""The gate: whether a page is the article, decided once where it is extracted (in a worker
when there are workers), and a verdict the spider acts on without checking again."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from importlib import resources
from pathlib import Path

from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from rfi_spider import settings as project_settings
from rfi_spider.extract.gate import OTHER_EDITION, OUT_OF_RANGE, Gate, Verdict
from rfi_spider.extract.workers import PageExtractor, PageFacts, PageJob, extract_page
from rfi_spider.spiders.rfi_cn import RfiCnSpider

SAMPLE = resources.files("rfi_spider.demo.sample_site")
ROUTES = json.loads(SAMPLE.joinpath("routes.json").read_text())
(A1_PATH,) = [path for path, name in ROUTES.items() if name.startswith("article_a1_")]
A1 = "https://www.rfi.fr" + A1_PATH  # published 2024-03-07 (Paris)
BODY = SAMPLE.joinpath(ROUTES[A1_PATH]).read_bytes()
CN_GATE = Gate("cn")


def judged(gate: Gate, body: bytes = BODY, url: str = A1) -> Verdict:
    facts = extract_page(PageJob(body, "utf-8", url, None, gate))
    assert facts.verdict is not None
    return facts.verdict


def test_the_article_passes() -> None:
    verdict = judged(CN_GATE)
    assert verdict.refused is None and not verdict.page_fault
    assert verdict.other_claims == []


def test_what_a_page_is_not() -> None:
    assert judged(CN_GATE, b"").refused == "empty_body"
    assert judged(CN_GATE, BODY[: len(BODY) // 2]).refused == "truncated"
    verdict = Gate("cn").judge(BODY, {"title": "", "url": A1}, json_ld_errors=1)
    assert (verdict.refused, verdict.json_ld_errors, verdict.page_fault) == ("no_title", 1, True)
    no_date = Gate("cn").judge(BODY, {"title": "t", "paragraphs": ["p"], "url": A1})
    assert no_date.refused == "no_date"


def test_another_editions_page_and_a_page_out_of_range_are_no_page_fault() -> None:
    other = judged(Gate("tw"))
    assert (other.refused, other.page_fault) == (OTHER_EDITION, False)
    before = judged(Gate("cn", since=date(2024, 3, 8), until=date(2024, 3, 9)))
    assert (before.refused, before.page_fault) == (OUT_OF_RANGE, False)
    assert judged(Gate("cn", since=date(2024, 3, 7), until=date(2024, 3, 7))).refused is None


def test_a_page_claiming_another_url_is_said_not_refused() -> None:
    moved = "https://www.rfi.fr/cn/%E5%9B%BD%E9%99%85/20240307-moved"
    verdict = judged(CN_GATE, url=moved)
    assert verdict.refused is None
    assert {name for name, _ in verdict.other_claims} == {"canonical", "og:url"}


def test_the_worker_judges_the_page() -> None:
    """The verdict comes back from the worker process: the crawl's process need not judge."""
    pool = PageExtractor(1)
    try:
        job = PageJob(BODY, "utf-8", A1, None, Gate("tw"))
        facts = asyncio.run(pool.extract(job))
    finally:
        pool.close()
    assert isinstance(facts, PageFacts) and facts.verdict is not None
    assert facts.verdict.refused == OTHER_EDITION


def test_the_spider_acts_on_the_verdict_without_judging_again(tmp_path: Path) -> None:
    """A verdict says other_edition for a good /cn page: the spider drops it, as told."""
    settings = {
        **{n: getattr(project_settings, n) for n in dir(project_settings) if n.isupper()},
        "RFI_OUTPUT_DIR": str(tmp_path),
    }
    crawler = get_crawler(RfiCnSpider, settings)
    spider = RfiCnSpider.from_crawler(crawler, base_url="http://127.0.0.1:9", mirrors="")
    try:
        response = HtmlResponse(url="http://127.0.0.1:9" + A1_PATH, body=BODY)
        facts = extract_page(PageJob(BODY, "utf-8", A1, None, Gate("cn")))
        assert list(spider.articles.judged(response, A1, facts)) != []  # the article
        facts.verdict = Verdict(OTHER_EDITION)
        assert list(spider.articles.judged(response, A1, facts)) == []
        assert crawler.stats.get_value("rfi/dropped/other_edition") == 1
    finally:
        spider.on_closed()
