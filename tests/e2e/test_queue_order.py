"""Articles are fetched in the order they were found (FIFO scheduler queues, issue 14).

Scrapy's default last-in-first-out queues fetched the latest finds first and starved
the first ones. One request at a time, so the site's request log is the scheduler's
order, with no timing involved; with a JOBDIR (disk queues) and without (memory).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_crawl
from minisite import ROBOTS_ALLOW_ALL, article_page, key, listing_page, requested, url

from rfi_spider.demo.localsite import LocalSite

HOME = "/cn/"
ARTICLES = [f"/cn/国际/202403{day:02d}-第{day}篇文章" for day in range(1, 16)]


@pytest.fixture(scope="module")
def site() -> Iterator[LocalSite]:
    served = LocalSite()
    served.add("/robots.txt", ROBOTS_ALLOW_ALL, content_type="text/plain")
    served.add(HOME, listing_page(*ARTICLES))
    for path in ARTICLES:
        served.add(path, article_page(url(path)))
    with served:
        yield served


@pytest.mark.parametrize("jobdir", [False, True], ids=["memory-queue", "disk-queue"])
def test_articles_are_requested_in_the_order_found(
    site: LocalSite, tmp_path: Path, jobdir: bool
) -> None:
    site.requests.clear()
    settings = {"CONCURRENT_REQUESTS": "1", "RFI_SECTIONS": "", "RFI_FEEDS": ""}
    if jobdir:
        settings["JOBDIR"] = str(tmp_path / "job")
    result = run_crawl(tmp_path / "out", f"base_url={site.url}", settings=settings)
    assert result.returncode == 0, result.log[-3000:]
    articles = [path for path in requested(site) if path.startswith(key("/cn/国际/"))]
    assert articles == [key(path) for path in ARTICLES]
    assert len(result.items) == len(ARTICLES)
