"""Moved to :mod:`rfi_spider.urlset` (the core: every layer uses it). This name stays the
same module for code written against the old path."""

import sys

from rfi_spider import urlset

sys.modules[__name__] = urlset
