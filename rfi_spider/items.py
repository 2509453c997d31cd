"""The article item: a ``scrapy.Item`` with a field for each of the spec's fields.

The fields, their order and their metadata are :mod:`rfi_spider.item_fields`'s (plain
data, read without Scrapy by the archive.db child); ``FIELDS``, ``NULLABLE``,
``BY_EXPORT`` and ``LISTS`` are imported from here too.
"""

from __future__ import annotations

import scrapy

from rfi_spider.item_fields import BY_EXPORT as BY_EXPORT
from rfi_spider.item_fields import FIELD_META
from rfi_spider.item_fields import FIELDS as FIELDS
from rfi_spider.item_fields import LISTS as LISTS
from rfi_spider.item_fields import NULLABLE as NULLABLE


class ArticleItem(scrapy.Item):
    """One article, from the site or from a feed mirror."""

    # Scrapy's ItemMeta starts from a class's ``fields`` and adds its Field attributes.
    fields: dict[str, scrapy.Field] = {  # noqa: RUF012 (declared so by scrapy.Item)
        name: scrapy.Field(meta) for name, meta in FIELD_META.items()
    }
