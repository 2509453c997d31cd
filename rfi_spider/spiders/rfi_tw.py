"""``scrapy crawl rfi_tw``: the traditional-character edition (/tw), with every feature of
``rfi_cn`` (the same class, another :class:`~rfi_spider.editions.Edition`).

Its exports go to their own folder by default (``output-tw/``, under Scrapyd
``$XDG_DATA_HOME/rfi-spider/output-tw``); ``RFI_OUTPUT_DIR`` overrides it.
"""

from __future__ import annotations

from rfi_spider.editions import TW, Edition
from rfi_spider.spiders.rfi_cn import RfiCnSpider


class RfiTwSpider(RfiCnSpider):
    """Walks /tw listings, feeds and (for backfill) the daily archive; parses articles."""

    name = "rfi_tw"
    edition: Edition = TW
