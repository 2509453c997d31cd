"""``scrapy crawl``'s exit status (rfi_spider/commands/crawl.py): 2 for a bad argument, with
one line on stderr and no request sent; 1 for a failed finish reason; 0 otherwise."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, crawl_command

from rfi_spider.demo.localsite import LocalSite


def crawl(output: Path, *args: str, settings: dict[str, str] | None = None):
    command, environment = crawl_command(output, *args, settings=settings)
    return subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def site() -> LocalSite:
    with LocalSite.sample() as served:
        yield served


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["base_url=127.0.0.1:8080"], "-a base_url= takes an absolute http(s) URL"),
        (["base_url=ftp://127.0.0.1/"], "-a base_url= takes an absolute http(s) URL"),
        (["url=/cn/国际/20240307-x"], "-a url= takes an absolute http(s) URL"),
        (["since=07/03/2024"], "-a since= takes a date as YYYY-MM-DD"),
        (["since=2024-03-08", "until=2024-03-07"], "-a since=2024-03-08 is after until="),
        (["until=2024-03-07"], "-a until= needs -a since="),
        (["mirrors=feedx.net/rfi.xml"], "a feed mirror must be an http(s) URL"),
    ],
)
def test_a_bad_argument_is_one_line_and_exit_2_before_any_request(
    site: LocalSite, tmp_path: Path, args: list[str], message: str
) -> None:
    site.requests.clear()
    # base_url first: a later bad base_url replaces it (Scrapy keeps the last -a).
    done = crawl(tmp_path / "out", f"base_url={site.url}", *args)
    assert done.returncode == 2, done.stderr[-3000:]
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr[-3000:]
    assert lines[0].startswith("scrapy crawl rfi_cn: bad argument: ")
    assert message in lines[0]
    assert "Traceback" not in done.stdout + done.stderr
    assert not site.requests
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("level", ["10", "fast"])
def test_a_bad_warc_gzip_level_is_one_line_and_exit_2_before_any_request(
    site: LocalSite, tmp_path: Path, level: str
) -> None:
    site.requests.clear()
    done = crawl(tmp_path / "out", f"base_url={site.url}", settings={"RFI_WARC_GZIP_LEVEL": level})
    assert done.returncode == 2, done.stderr[-3000:]
    assert done.stderr.splitlines() == [
        "scrapy crawl rfi_cn: bad setting: RFI_WARC_GZIP_LEVEL must be a whole number"
        f" from 0 to 9, not {level!r}"
    ]
    assert not site.requests
    assert not (tmp_path / "out").exists()


def test_a_crawl_that_finishes_exits_0(site: LocalSite, tmp_path: Path) -> None:
    done = crawl(tmp_path / "out", f"base_url={site.url}", "url=" + site.url + "/nope")
    assert done.returncode == 2  # not an article URL: refused before any request
    url = next(p for p in site.pages if "/20240307-" in p)
    done = crawl(tmp_path / "out", f"base_url={site.url}", f"url={site.url}{url}")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "'finish_reason': 'finished'" in done.stderr


def test_a_failed_finish_reason_exits_1(site: LocalSite, tmp_path: Path) -> None:
    """A finish reason listed in RFI_FAILED_FINISH_REASONS exits 1, another exits 0 (here
    CloseSpider's closespider_pagecount, listed or not)."""
    settings = {"CLOSESPIDER_PAGECOUNT": "1", "RFI_FAILED_FINISH_REASONS": "closespider_pagecount"}
    done = crawl(tmp_path / "out", f"base_url={site.url}", settings=settings)
    assert "'finish_reason': 'closespider_pagecount'" in done.stderr, done.stderr[-3000:]
    assert done.returncode == 1
    settings["RFI_FAILED_FINISH_REASONS"] = "write_error"
    done = crawl(tmp_path / "out2", f"base_url={site.url}", settings=settings)
    assert "'finish_reason': 'closespider_pagecount'" in done.stderr, done.stderr[-3000:]
    assert done.returncode == 0
