"""Spider arguments are checked before anything is requested (arguments.py)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from scrapy.settings import Settings

from rfi_spider import settings as project_settings
from rfi_spider.arguments import (
    ALL_HISTORY,
    ArgumentError,
    backfill_range,
    http_url,
    parse_day,
)
from rfi_spider.config import RfiSettings
from rfi_spider.spiders.rfi_cn import RfiCnSpider
from rfi_spider.spiders.rfi_tw import RfiTwSpider

TODAY = date(2026, 12, 1)
ARTICLE = "https://www.rfi.fr/cn/国际/20240307-瑞典正式加入北约"


def project(**overrides: object) -> RfiSettings:
    """The project's settings, read (``overrides`` given as with ``-s``)."""
    settings = Settings(
        {n: getattr(project_settings, n) for n in dir(project_settings) if n.isupper()}
    )
    settings.update(overrides, priority="cmdline")
    return RfiSettings.from_settings(settings)


@pytest.mark.parametrize(
    "value",
    [
        "127.0.0.1:8080",
        "example.com",
        "ftp://example.com/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://",
        "http:///path",
        "http://host:notaport",
        "http://host:99999",
        "",
        "http://exa mple.com",
        "http://host\x1b[31m",
    ],
)
def test_anything_but_an_absolute_http_url_is_refused(value: str) -> None:
    with pytest.raises(ArgumentError, match=r"-a base_url= takes an absolute http\(s\) URL"):
        http_url("base_url", value, root=True)


@pytest.mark.parametrize("value", ["http://host/?q=1", "http://host/#top", "http://u:p@host/"])
def test_a_site_root_has_no_query_fragment_or_user(value: str) -> None:
    with pytest.raises(ArgumentError, match="takes a site root"):
        http_url("base_url", value, root=True)


@pytest.mark.parametrize(
    "value", ["http://127.0.0.1:8080", "HTTPS://www.rfi.fr/", "http://[::1]:9"]
)
def test_http_and_https_roots_pass(value: str) -> None:
    assert http_url("base_url", value, root=True) == value


@pytest.mark.parametrize(
    "value", ["07/03/2024", "20240307", "2024-3-7", "2024-02-30", "x", "2024-03-07T00:00"]
)
def test_days_are_yyyy_mm_dd(value: str) -> None:
    with pytest.raises(ArgumentError, match="takes a date as YYYY-MM-DD"):
        parse_day("since", value)


def test_a_backfill_range_is_checked() -> None:
    assert backfill_range(None, None, TODAY, 10) == (None, None)
    assert backfill_range("2026-11-30", None, TODAY, 10) == (date(2026, 11, 30), TODAY)
    with pytest.raises(ArgumentError, match="since=2024-03-08 is after until=2024-03-01"):
        backfill_range("2024-03-08", "2024-03-01", TODAY, 0)
    with pytest.raises(ArgumentError, match="until= needs -a since="):
        backfill_range(None, "2024-03-01", TODAY, 0)
    with pytest.raises(ArgumentError, match="11 days is over RFI_MAX_BACKFILL_DAYS"):
        backfill_range("2024-03-01", "2024-03-11", TODAY, 10)


def test_since_all_is_the_whole_history() -> None:
    assert backfill_range("all", None, TODAY, 0) == (ALL_HISTORY, TODAY)
    assert backfill_range(" ALL ", "2024-03-01", TODAY, 0) == (ALL_HISTORY, date(2024, 3, 1))
    with pytest.raises(ArgumentError, match="takes a date as YYYY-MM-DD or all"):
        backfill_range("everything", None, TODAY, 0)


def test_only_the_daily_archive_walk_has_a_longest_backfill() -> None:
    """One request a day for the archive pages; one map a month through the sitemaps."""
    args = {"since": "1900-01-01", "until": "2024-03-07"}
    RfiCnSpider.check_arguments(args, project())  # sitemaps: no limit
    RfiCnSpider.check_arguments({"since": "all"}, project())
    with pytest.raises(ArgumentError, match="over RFI_MAX_BACKFILL_DAYS"):
        RfiCnSpider.check_arguments(args, project(RFI_BACKFILL_ARCHIVE=True))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"base_url": "127.0.0.1:8080"}, "base_url= takes an absolute"),
        ({"base_url": "ftp://127.0.0.1/"}, "base_url= takes an absolute"),
        ({"url": "/cn/国际/20240307-x"}, "url= takes an absolute"),
        ({"url": "ftp://www.rfi.fr/cn/国际/20240307-x"}, "url= takes an absolute"),
        ({"url": "https://www.rfi.fr/fr/monde/20240307-x"}, "not an RFI /cn article URL"),
        ({"since": "2024-03-08", "until": "2024-03-07"}, "is after"),
        ({"until": "2024-03-07"}, "needs -a since="),
        ({"mirrors": "feedx.net/rfi.xml"}, "a feed mirror must be an http"),
    ],
)
def test_the_spider_checks_its_arguments(args: dict[str, str], message: str) -> None:
    with pytest.raises(ArgumentError, match=message):
        RfiCnSpider.check_arguments(args, project())


def test_good_arguments_pass_and_the_edition_is_the_spiders() -> None:
    RfiCnSpider.check_arguments(
        {"base_url": "http://127.0.0.1:9", "url": "http://127.0.0.1:9/cn/国际/20240307-x"},
        project(),
    )
    RfiCnSpider.check_arguments({"url": ARTICLE, "since": "2024-03-07"}, project())
    with pytest.raises(ArgumentError, match="not an RFI /tw article URL"):
        RfiTwSpider.check_arguments({"url": ARTICLE}, project())


def test_the_constructor_runs_the_same_checks() -> None:
    with pytest.raises(ArgumentError, match="base_url= takes an absolute"):
        RfiCnSpider(base_url="example.com")
    with pytest.raises(ArgumentError, match="url= takes an absolute"):
        RfiCnSpider(url="")


def test_from_warc_must_name_warc_files_never_nothing(tmp_path: Path) -> None:
    """``from_warc=`` (an unset variable in a script) and ``from_warc=,`` used to start a
    live crawl; a missing path, an empty file or a FIFO gave a traceback."""
    empty = tmp_path / "empty.warc.gz"
    empty.touch()
    fifo = tmp_path / "fifo.warc.gz"
    os.mkfifo(fifo)
    (tmp_path / "nothing").mkdir()
    for value, message in [
        ("", "names no WARC file or folder"),
        (",", "names no WARC file or folder"),
        (" , ", "names no WARC file or folder"),
        (str(tmp_path / "missing.warc.gz"), "no such file or folder"),
        (str(empty), "is an empty file"),
        (str(fifo), "is neither a WARC file nor a folder"),
        (str(tmp_path / "nothing"), r"no \.warc\.gz or \.warc file"),
    ]:
        with pytest.raises(ArgumentError, match=message):
            RfiCnSpider.check_arguments({"from_warc": value}, project())
        with pytest.raises(ArgumentError, match=message):
            RfiCnSpider(from_warc=value)


@pytest.mark.parametrize("value", ["2", "", " ", "on", "demo", "yes please", "-1"])
def test_a_demo_value_not_understood_is_refused_not_a_live_crawl(value: str) -> None:
    with pytest.raises(ArgumentError, match="-a demo= takes 1, true or yes"):
        RfiCnSpider.check_arguments({"demo": value}, project())
    with pytest.raises(ArgumentError, match="-a demo= takes 1, true or yes"):
        RfiCnSpider(demo=value)


@pytest.mark.parametrize(
    ("value", "on"), [("1", True), ("TRUE", True), (" yes ", True), ("0", False), ("no", False)]
)
def test_demo_takes_on_and_off_words(value: str, on: bool) -> None:
    RfiCnSpider.check_arguments({"demo": value, "base_url": "http://127.0.0.1:9"}, project())
    spider = RfiCnSpider(demo=value, base_url="http://127.0.0.1:9")  # no sample site served
    assert spider.demo is on


@pytest.mark.parametrize("name", ["sinse", "base-url", "demo ", "name", "start_urls"])
def test_an_unknown_argument_name_is_refused(name: str) -> None:
    with pytest.raises(ArgumentError, match="is not an argument of this spider"):
        RfiCnSpider.check_arguments({name: "x"}, project())
    with pytest.raises(ArgumentError, match="is not an argument of this spider"):
        RfiCnSpider(**{name: "x"})


def test_scrapyds_own_arguments_pass() -> None:
    """Scrapyd adds -a _job=<id> to every run it starts."""
    RfiCnSpider.check_arguments({"_job": "abc", "_version": "1"}, project())
    RfiCnSpider(_job="abc")


@pytest.mark.parametrize("args", [{"since": ""}, {"since": "2024-03-01", "until": ""}])
def test_an_empty_date_is_refused_not_a_plain_crawl(args: dict[str, str]) -> None:
    with pytest.raises(ArgumentError, match="takes a date as YYYY-MM-DD"):
        RfiCnSpider.check_arguments(args, project())
