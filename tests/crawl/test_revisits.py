"""Revisits (issue 28): the window, the interval, the budget, the sitemaps' lastmod."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import scrapy
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from rfi_spider import settings as project_settings
from rfi_spider.archive.state import Checked, SeenStore
from rfi_spider.config import RfiSettings
from rfi_spider.crawl.revisits import REVISIT, Revisits, http_date, is_revisit
from rfi_spider.dates import iso_utc

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


def url(n: int) -> str:
    return f"https://www.rfi.fr/cn/guoji/20240307-a{n}"


def make(target: str) -> scrapy.Request:
    return scrapy.Request(target, cb_kwargs={"site_url": target})


def ago(**delta: float) -> str:
    return iso_utc(NOW - timedelta(**delta))


@pytest.fixture
def store(tmp_path: Path) -> SeenStore:
    return SeenStore(tmp_path / "seen.sqlite3")


def revisits(store: SeenStore, **values: object) -> tuple[Revisits, MemoryStatsCollector]:
    settings = Settings()
    settings.setmodule(project_settings)
    settings.update(values)
    stats = MemoryStatsCollector(get_crawler())
    config = RfiSettings.from_settings(settings)
    return Revisits(store, config, lambda: stats, now=lambda: NOW), stats


def test_the_window_interval_and_budget(store: SeenStore) -> None:
    store.record_checks(
        [
            Checked(url(1), ago(hours=7), ago(days=1)),  # due
            Checked(url(2), ago(hours=30), ago(days=2)),  # due, checked longest ago: first
            Checked(url(3), ago(hours=5), ago(days=1)),  # checked 5 h ago: not yet
            Checked(url(4), ago(hours=48), ago(days=4)),  # published 4 days ago: out
            Checked(url(5), ago(hours=8), ago(days=2), '"e5"', "Sat, 09 Mar 2024 10:00:00 GMT"),
        ]
    )
    planner, stats = revisits(store)
    requests = list(planner.due(make))
    assert [r.url for r in requests] == [url(2), url(5), url(1)]
    assert stats.get_value("rfi/revisits/window") == 3
    assert all(r.meta[REVISIT] and r.meta["handle_httpstatus_list"] == [304] for r in requests)
    conditional = requests[1].headers
    assert conditional[b"If-None-Match"] == b'"e5"'
    assert conditional[b"If-Modified-Since"] == b"Sat, 09 Mar 2024 10:00:00 GMT"
    assert b"If-None-Match" not in requests[0].headers
    # RFI_REVISIT_MAX: two a run, oldest check first; the rest counted, left for later.
    planner, stats = revisits(store, RFI_REVISIT_MAX=2)
    assert [r.url for r in planner.due(make)] == [url(2), url(5)]
    edited = [(url(3), NOW)]
    assert list(planner.from_sitemap(edited, make)) == []
    assert stats.get_value("rfi/revisits/scheduled") == 2
    assert stats.get_value("rfi/revisits/over_budget") == 1
    # A longer interval, a shorter window, none at all.
    planner, _ = revisits(store, RFI_REVISIT_EVERY=24)
    assert [r.url for r in planner.due(make)] == [url(2)]
    planner, _ = revisits(store, RFI_REVISIT_DAYS=1.5)
    assert [r.url for r in planner.due(make)] == [url(1)]
    planner, _ = revisits(store, RFI_REVISIT_MAX=0)
    assert list(planner.due(make)) == []


def test_a_lastmod_after_the_last_settled_fetch_schedules_a_revisit(store: SeenStore) -> None:
    store.record_checks([Checked(url(1), ago(days=200)), Checked(url(2), ago(days=200))])
    planner, stats = revisits(store)
    entries = [
        (url(1), NOW - timedelta(days=1)),  # modified since: revisit
        (url(2), NOW - timedelta(days=300)),  # not since
        (url(3), NOW),  # never archived: the crawl's new article, not a revisit
        (url(1), NOW),  # listed twice: once
    ]
    assert [r.url for r in planner.from_sitemap(entries, make)] == [url(1)]
    assert stats.get_value("rfi/revisits/lastmod") == 1
    # Another place knows an article this state does not (a distributed crawl's Redis).
    planner, _ = revisits(store)
    planner.checked_elsewhere = lambda u: ago(days=3) if u == url(3) else None
    assert [r.url for r in planner.from_sitemap([(url(3), NOW)], make)] == [url(3)]


def test_a_304_is_a_settled_check(store: SeenStore) -> None:
    store.record_checks([Checked(url(1), ago(days=2), ago(days=2), '"e"')])
    planner, stats = revisits(store)
    (request,) = planner.from_sitemap([(url(1), NOW - timedelta(days=1))], make)
    assert is_revisit(HtmlResponse(url(1), request=request))
    answer = HtmlResponse(url(1), status=304, request=request, headers={"ETag": '"e"'})
    assert planner.fetched(answer)
    assert stats.get_value("rfi/revisits/not_modified") == 1
    again, _ = revisits(store)
    assert list(again.from_sitemap([(url(1), NOW - timedelta(days=1))], make)) == []
    assert not planner.fetched(HtmlResponse(url(1), status=200, request=request))


def test_http_dates() -> None:
    assert http_date("Sat, 09 Mar 2024 10:00:00 GMT") == "Sat, 09 Mar 2024 10:00:00 GMT"
    assert http_date("2024-03-09T11:00:00+01:00") == "Sat, 09 Mar 2024 10:00:00 GMT"
    assert http_date("not a date") is None
