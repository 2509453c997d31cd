"""Moved to :mod:`rfi_spider.meta_keys` (the core: every layer uses it). This name stays the
same module for code written against the old path."""

import sys

from rfi_spider import meta_keys

sys.modules[__name__] = meta_keys
