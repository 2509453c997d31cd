"""The article item: the field names are the contract of ``item-spec.md``.

The item class is the one list of fields. Their order is the order of every export (JSON
Lines keys follow it); a field's metadata says whether it is exported (``internal``), exported
as null when empty (``nullable``) or a list (``is_list``).
"""

from __future__ import annotations

import scrapy


class ArticleItem(scrapy.Item):
    """One article, from the site or from a feed mirror."""

    url = scrapy.Field()  # canonical URL, the dedupe key
    title = scrapy.Field()
    published_at = scrapy.Field()  # ISO 8601, UTC, +00:00
    modified_at = scrapy.Field(nullable=True)  # ISO 8601 or None
    date_text = scrapy.Field()  # "DD/MM/YYYY - HH:MM", Paris time
    lead_image = scrapy.Field(nullable=True)
    summary = scrapy.Field(nullable=True)  # the chapo
    paragraphs = scrapy.Field(is_list=True)
    body_html = scrapy.Field()
    section = scrapy.Field(nullable=True)
    tags = scrapy.Field(is_list=True)
    authors = scrapy.Field(is_list=True)
    audio_url = scrapy.Field()  # optional (left out when empty): podcasts and radio columns
    source = scrapy.Field()  # "rfi.fr" or the mirror's host
    edition = scrapy.Field()  # "cn" or "tw": the edition of the URL (editions.py)
    crawled_at = scrapy.Field()
    # Versions (archive/versions.py): set by the export, 1 for the first one seen.
    # Set by the export only (by_export): extraction leaves them out.
    version = scrapy.Field(by_export=True)
    content_digest = scrapy.Field(by_export=True)  # sha256 hex of the content fields
    # The version before's digest; None for 1.
    previous_digest = scrapy.Field(nullable=True, by_export=True)
    # Internal, never exported: what a mirror sent, kept to write its seed-style file as
    # given. Feeds (-o, -O, FEEDS) export FIELDS only (FEED_EXPORT_FIELDS in settings.py);
    # no ``serializer=None`` here: feed exporters call a serializer key that is present.
    mirror_entry = scrapy.Field(internal=True)
    # Internal: the item comes from a revisit of an archived article (crawl/revisits.py),
    # so a change of content is a new version rather than a duplicate.
    revisit = scrapy.Field(internal=True)
    # Internal: the page's (ETag, Last-Modified), kept for the next conditional revisit.
    validators = scrapy.Field(internal=True)


# Exported fields, in export order; fields exported as null when empty; list fields.
FIELDS = tuple(name for name, meta in ArticleItem.fields.items() if not meta.get("internal"))
NULLABLE = tuple(name for name in FIELDS if ArticleItem.fields[name].get("nullable"))
# Fields the export sets (the versions: archive/versions.py), never the extraction.
BY_EXPORT = tuple(name for name in FIELDS if ArticleItem.fields[name].get("by_export"))
LISTS = tuple(name for name in FIELDS if ArticleItem.fields[name].get("is_list"))
