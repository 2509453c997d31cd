"""Politeness, as the manual promises it: at most 2 concurrent requests to the site, a 1 s
delay, AutoThrottle on, robots.txt obeyed, an honest User-Agent (rfi-spider and a contact
URL, nothing a browser would send).

The settings are read the way ``scrapy crawl rfi_cn`` reads them (the project's
scrapy.cfg, from the project folder), then as a plain crawl's spider runs with them
(the demo lowers the delay on purpose: not judged here). A loopback crawl then
measures the requests in flight at once.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from conftest import ROOT, run_crawl
from minisite import article_page, key, listing_page, requested, url
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings, Settings
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler

from rfi_spider.demo.localsite import LocalSite, Page
from rfi_spider.fetch.politeness import MIN_DOWNLOAD_DELAY, DelayFloor

PER_DOMAIN = 2  # the manual's promise (docs/crawling.md)
PROJECT = SETTINGS_PRIORITIES["project"]
BROWSER_WORDS = re.compile(r"Mozilla|Chrome|Safari|AppleWebKit|Gecko|Firefox|Edg/|OPR/", re.I)


@pytest.fixture
def project(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The project settings as ``scrapy crawl`` loads them: scrapy.cfg of the folder it runs in."""
    monkeypatch.chdir(ROOT)
    # get_project_settings sets SCRAPY_SETTINGS_MODULE from scrapy.cfg; put the
    # environment back as it was after the test (set, then deleted: both undone).
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "")
    monkeypatch.delenv("SCRAPY_SETTINGS_MODULE")
    monkeypatch.delenv("SCRAPY_PROJECT", raising=False)
    return get_project_settings()


def assert_polite(settings: BaseSettings) -> None:
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == PER_DOMAIN
    assert settings.getint("CONCURRENT_REQUESTS_PER_IP") == 0  # 0: the per-domain limit holds
    assert settings.getfloat("DOWNLOAD_DELAY") == 1.0
    assert settings.getbool("AUTOTHROTTLE_ENABLED") is True
    assert settings.getbool("ROBOTSTXT_OBEY") is True
    agent = settings.get("USER_AGENT")
    assert "rfi-spider" in agent
    assert settings.get("RFI_CONTACT_URL") in agent
    assert re.search(r"\+https?://\S+", agent), agent  # a contact URL, as (+URL)
    assert not BROWSER_WORDS.search(agent), agent
    # The components that act on them are not switched off.
    middlewares = settings.getwithbase("DOWNLOADER_MIDDLEWARES")
    for name in ("robotstxt.RobotsTxtMiddleware", "useragent.UserAgentMiddleware"):
        assert middlewares[f"scrapy.downloadermiddlewares.{name}"] is not None, name
    assert settings.getwithbase("EXTENSIONS")["scrapy.extensions.throttle.AutoThrottle"] is not None


def crawler_of(spider_class: type[Spider], project: Settings, output: Path) -> Crawler:
    """A crawler with the project's settings, as ``scrapy crawl`` builds it (the add-ons
    applied); only the output goes to ``output``, not ./output."""
    own = {name: project[name] for name in project if project.getpriority(name) >= PROJECT}
    return get_crawler(spider_class, {**own, "RFI_OUTPUT_DIR": str(output)})


def test_the_project_settings_are_polite(project: Settings) -> None:
    assert project.get("BOT_NAME") == "rfi_spider"  # the project's, not Scrapy's defaults
    assert_polite(project)


def test_a_plain_crawls_spider_runs_with_them(project: Settings, tmp_path: Path) -> None:
    """The spider ``scrapy crawl rfi_cn`` makes (no argument), with its crawler's settings."""
    spider_class = get_spider_loader(project).load("rfi_cn")
    spider = spider_class.from_crawler(crawler_of(spider_class, project, tmp_path))
    try:
        assert spider.settings is spider.crawler.settings
        assert_polite(spider.settings)
        assert getattr(spider, "download_delay", None) is None  # no per-spider override
        assert getattr(spider, "max_concurrent_requests", None) is None
    finally:
        spider.on_closed()


def test_a_delay_of_zero_keeps_a_floor(project: Settings, tmp_path: Path) -> None:
    """Without a delay Scrapy 2.19 lets more than the per-domain cap out at once (see
    rfi_spider/politeness.py): a delay of 0 runs as 1 ms, even one from the command line."""
    project.set("DOWNLOAD_DELAY", "0", priority="project")
    spider_class = get_spider_loader(project).load("rfi_cn")
    crawler = crawler_of(spider_class, project, tmp_path)
    assert crawler.settings.getfloat("DOWNLOAD_DELAY") == MIN_DOWNLOAD_DELAY
    command_line = Settings({"DOWNLOAD_DELAY": 0}, priority="cmdline")  # -s DOWNLOAD_DELAY=0
    DelayFloor().update_settings(command_line)
    assert command_line.getfloat("DOWNLOAD_DELAY") == MIN_DOWNLOAD_DELAY
    assert command_line.getpriority("DOWNLOAD_DELAY") == SETTINGS_PRIORITIES["cmdline"]


# --- measured on a loopback site ------------------------------------------------------
ARTICLES = [f"/cn/国际/20240307-同时请求的文章{n}" for n in range(4)]
DISALLOWED = "/cn/国际/20240307-机器人不许抓的文章"
ROBOTS = f"User-agent: *\nDisallow: {key(DISALLOWED)}\nAllow: /\n"
HOLD_SECONDS = 1.5  # each article's answer waits this long unless more requests come


class InFlight:
    """A hook that counts the requests in flight at once, and holds each article's answer
    until more than ``PER_DOMAIN`` are in flight (what a looser crawl would soon send) or
    ``HOLD_SECONDS`` have passed: so a crawl that would send more gets the chance to."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.now = 0
        self.most = 0

    def __call__(self, handler: BaseHTTPRequestHandler, path: str) -> Page | None:
        with self.changed:
            self.now += 1
            self.most = max(self.most, self.now)
            self.changed.notify_all()
            if path in {key(p) for p in ARTICLES}:
                self.changed.wait_for(lambda: self.now > PER_DOMAIN, timeout=HOLD_SECONDS)
            self.now -= 1  # the answer goes out now: only then can the crawl send another
        return None


@pytest.fixture
def held_site() -> Iterator[tuple[LocalSite, InFlight]]:
    counter = InFlight()
    site = LocalSite(hook=counter)
    site.add("/robots.txt", ROBOTS, content_type="text/plain")
    site.add("/cn/", listing_page(*ARTICLES, DISALLOWED))
    for path in [*ARTICLES, DISALLOWED]:
        site.add(path, article_page(url(path)))
    with site:
        yield site, counter


def test_never_more_than_two_requests_in_flight(
    held_site: tuple[LocalSite, InFlight], tmp_path: Path
) -> None:
    """The project's own concurrency (only the delay and AutoThrottle off, for speed):
    the site sees 2 requests at once, never 3; robots.txt first and obeyed; one honest
    User-Agent on every request."""
    site, counter = held_site
    result = run_crawl(
        tmp_path / "out",
        f"base_url={site.url}",
        settings={"RFI_SECTIONS": "", "RFI_FEEDS": "", "RFI_BROWSER_PATH": ""},
    )
    assert result.returncode == 0, result.log[-3000:]
    assert sorted(i["url"] for i in result.items) == sorted(url(p) for p in ARTICLES)
    assert counter.most == PER_DOMAIN
    asked = requested(site)
    assert asked[0] == "/robots.txt"
    assert key(DISALLOWED) not in asked
    assert result.stat("robotstxt/forbidden") == 1
    agents = {headers.get("User-Agent") for _, _, headers in site.requests}
    assert len(agents) == 1
    agent = agents.pop()
    assert agent.startswith("rfi-spider/") and not BROWSER_WORDS.search(agent)
