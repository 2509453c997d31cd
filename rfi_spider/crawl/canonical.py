"""Moved to :mod:`rfi_spider.canonical` (the core: every layer uses it). This name stays the
same module for code written against the old path."""

import sys

from rfi_spider import canonical

sys.modules[__name__] = canonical
