"""An article the site answers with 404 is given up after ``RFI_MAX_ATTEMPTS`` failed runs
(here 1), and then named, with its cause, by the crawl's summary and by ``scrapy qa``;
the next run does not request it (issue 13)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, run_crawl
from minisite import ROBOTS_ALLOW_ALL, article_page, key, listing_page, requested, url

from rfi_spider.demo.localsite import LocalSite
from rfi_spider.quality.qa import readable

GOOD = "/cn/国际/20240305-好好的文章"
GONE = "/cn/国际/20240306-已被删除的文章"  # not on the site: 404
SETTINGS = {"RFI_SECTIONS": "", "RFI_FEEDS": "", "RFI_MAX_ATTEMPTS": "1"}


@pytest.fixture
def site() -> Iterator[LocalSite]:
    served = LocalSite()
    served.add("/robots.txt", ROBOTS_ALLOW_ALL, content_type="text/plain")
    served.add("/cn/", listing_page(GOOD, GONE))
    served.add(GOOD, article_page(url(GOOD)))
    with served:
        yield served


def scrapy_qa(*args: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    environ.pop("RFI_OUTPUT_DIR", None)
    environ.pop("RFI_STATE_DIR", None)
    command = [sys.executable, "-m", "scrapy", "qa", *args]
    return subprocess.run(
        command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )


def test_a_404_article_is_given_up_and_named_by_the_summary_and_qa(
    site: LocalSite, tmp_path: Path
) -> None:
    output = tmp_path / "out"
    first = run_crawl(output, f"base_url={site.url}", settings=SETTINGS)
    assert first.returncode == 0, first.log[-3000:]
    assert [item["url"] for item in first.items] == [url(GOOD)]
    summary = first.log[first.log.index("rfi_cn crawl summary") :]
    assert "given up (failed RFI_MAX_ATTEMPTS times, not requested again): 1" in summary
    assert f"    {url(GONE)}  (last: could not fetch: HTTP 404)" in summary
    assert first.stat("rfi/gave_up") == 1

    html = tmp_path / "qa.html"
    done = scrapy_qa(str(output), "--html", str(html))
    assert done.returncode == 0, done.stdout + done.stderr  # a warning: the archive is whole
    lines = done.stdout.splitlines()
    assert "Warning: 1 article given up (failed RFI_MAX_ATTEMPTS times):" in done.stdout
    assert f"  {readable(url(GONE))}  1 attempt  could not fetch: HTTP 404" in lines
    assert lines[-2] == "QA passed: 1 items, no problems."  # the verdict, then the page's path
    page = html.read_text(encoding="utf-8")
    assert '<h2 id="given-up">Given-up articles (1)</h2>' in page
    assert readable(url(GONE)) in page

    site.requests.clear()
    second = run_crawl(output, f"base_url={site.url}", settings=SETTINGS)
    assert second.returncode == 0, second.log[-3000:]
    assert key(GONE) not in requested(site)  # given up: not requested again
    assert f"    {url(GONE)}  (last: could not fetch: HTTP 404)" in second.log
