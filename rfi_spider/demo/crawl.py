"""``-a demo=1``: a crawl of the bundled sample site, served on loopback by this process.

The spider starts the site when it is built (its fetch root is the site's address), reads
the sample's own mirror feed unless ``-a mirrors=`` is given (the demo never reaches a
real host), walks only the listings the sample has, and stops the site when it closes.
"""

from __future__ import annotations

import logging

from scrapy.settings import BaseSettings

from rfi_spider.demo.localsite import LocalSite
from rfi_spider.demo.sample_site import EDITION_SECTIONS, MIRROR_FEEDS
from rfi_spider.editions import Edition

logger = logging.getLogger(__name__)


class DemoSite:
    """The sample site of one edition's demo crawl, served until :meth:`stop`."""

    def __init__(self, edition: Edition) -> None:
        self.edition = edition
        self.site = LocalSite.sample()
        self.base_url = self.site.start()

    def mirrors(self) -> list[str]:
        """The sample's mirror feeds of the edition (served by the same site)."""
        return [self.site.url + feed for feed in MIRROR_FEEDS.get(self.edition.key, [])]

    def configure(self, settings: BaseSettings) -> None:
        """The crawl's settings for the sample site: no delays (the site is ours, on
        loopback), and the listings it has."""
        settings.set("DOWNLOAD_DELAY", 0, priority="spider")
        settings.set("AUTOTHROTTLE_ENABLED", False, priority="spider")
        sections = EDITION_SECTIONS.get(self.edition.key, [])
        settings.set("RFI_SECTIONS", sections, priority="spider")
        logger.info("demo: serving the bundled sample site at %s", self.base_url)

    def stop(self) -> None:
        self.site.stop()
