"""The sources of article URLs, one small class each (see ``base.py``); importing the
package registers every kind in :data:`~rfi_spider.sources.base.KINDS`."""

from rfi_spider.sources.base import KINDS, Context, Found, Source
from rfi_spider.sources.listings import Listings
from rfi_spider.sources.mirrors import Mirrors
from rfi_spider.sources.rss import RssFeeds
from rfi_spider.sources.sitemaps import Sitemaps

__all__ = ["KINDS", "Context", "Found", "Listings", "Mirrors", "RssFeeds", "Sitemaps", "Source"]
