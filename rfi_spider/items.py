"""The article item: the field names are the contract of ``item-spec.md``."""

from __future__ import annotations

import scrapy

# Field order of every export (JSON Lines keys follow it).
FIELDS = (
    "url",
    "title",
    "published_at",
    "modified_at",
    "date_text",
    "lead_image",
    "summary",
    "paragraphs",
    "body_html",
    "section",
    "tags",
    "authors",
    "audio_url",
    "source",
    "edition",
    "crawled_at",
)
# Fields exported as null when empty; ``audio_url`` is left out instead.
NULLABLE = ("modified_at", "lead_image", "summary", "section")
LISTS = ("paragraphs", "tags", "authors")


class ArticleItem(scrapy.Item):
    """One article, from the site or from a feed mirror."""

    url = scrapy.Field()  # canonical URL, the dedupe key
    title = scrapy.Field()
    published_at = scrapy.Field()  # ISO 8601, UTC, +00:00
    modified_at = scrapy.Field()  # ISO 8601 or None
    date_text = scrapy.Field()  # "DD/MM/YYYY - HH:MM", Paris time
    lead_image = scrapy.Field()
    summary = scrapy.Field()  # the chapo
    paragraphs = scrapy.Field()
    body_html = scrapy.Field()
    section = scrapy.Field()
    tags = scrapy.Field()
    authors = scrapy.Field()
    audio_url = scrapy.Field()  # optional: podcasts and radio columns
    source = scrapy.Field()  # "rfi.fr" or the mirror's host
    edition = scrapy.Field()  # "cn" or "tw": the edition of the URL (editions.py)
    crawled_at = scrapy.Field()
    # Internal, never exported: what a mirror sent, kept to write its seed-style file as
    # given. Feeds (-o, -O, FEEDS) export FIELDS only (FEED_EXPORT_FIELDS in settings.py);
    # no ``serializer=None`` here: feed exporters call a serializer key that is present.
    mirror_entry = scrapy.Field()
