"""Moved to :mod:`rfi_spider.arguments` (the core: every layer uses it). This name stays the
same module for code written against the old path."""

import sys

from rfi_spider import arguments

sys.modules[__name__] = arguments
