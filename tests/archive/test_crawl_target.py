"""The WARC capture's ``warcinfo`` and the Atom exporter learn what the crawl is of (its
edition, fetch root and mirrors) from the crawler, where the spider registers it once
(``crawl_target.py``), not from the spider's attributes."""

from __future__ import annotations

import io
from pathlib import Path

import scrapy
from scrapy.utils.test import get_crawler

from rfi_spider import settings as project_settings
from rfi_spider.archive.atom import AtomItemExporter, feed_info
from rfi_spider.canonical import SITE_ROOT
from rfi_spider.crawl_target import CrawlTarget
from rfi_spider.editions import TW
from rfi_spider.fetch.warc_capture import WarcCapture
from rfi_spider.spiders.rfi_tw import RfiTwSpider

BASE = "http://127.0.0.1:9"
MIRROR = "http://mirror.example/rfi.xml"
PROJECT = {
    name: getattr(project_settings, name) for name in dir(project_settings) if name.isupper()
}


def test_the_spider_registers_what_the_crawl_is_of(tmp_path: Path) -> None:
    settings = {**PROJECT, "RFI_OUTPUT_DIR": str(tmp_path), "RFI_WARC": True}
    crawler = get_crawler(RfiTwSpider, settings)
    spider = RfiTwSpider.from_crawler(crawler, base_url=BASE, mirrors=MIRROR)
    try:
        target = CrawlTarget.of(crawler)
        assert target is not None
        assert (target.edition, target.site.base_url, target.mirrors) == (TW, BASE, (MIRROR,))
        # A spider with none of the attributes: the components read the crawler's target.
        bare = scrapy.Spider(name="rfi_tw")
        info = WarcCapture(crawler).info(bare)
        assert (info["rfi-base-url"], info["rfi-mirrors"]) == (BASE, MIRROR)
        exporter = AtomItemExporter.from_crawler(crawler, io.BytesIO())
        assert exporter.info == feed_info(TW)
    finally:
        spider.on_closed()


def test_a_spider_of_another_project_registers_nothing(tmp_path: Path) -> None:
    settings = {**PROJECT, "RFI_OUTPUT_DIR": str(tmp_path), "RFI_WARC": True}
    crawler = get_crawler(scrapy.Spider, settings)
    assert CrawlTarget.of(crawler) is None
    info = WarcCapture(crawler).info(scrapy.Spider(name="other"))
    assert (info["rfi-base-url"], info["rfi-mirrors"]) == (SITE_ROOT, "")
    assert AtomItemExporter.from_crawler(crawler, io.BytesIO()).info == feed_info(None)
