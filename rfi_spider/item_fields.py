"""The article item's fields as data: the field names are the contract of ``item-spec.md``.

The one list of fields: :class:`rfi_spider.items.ArticleItem` is made from it. Their order
is the order of every export (JSON Lines keys follow it); a field's metadata says whether
it is exported (``internal``), exported as null when empty (``nullable``), set by the
export only (``by_export``) or a list (``is_list``).

Plain data, apart from the ``scrapy.Item``: the archive.db child reads the field list
and does not import Scrapy, which took about 0.4 s of its start a crawl (issue 26).
"""

from __future__ import annotations

FIELD_META: dict[str, dict[str, bool]] = {
    "url": {},  # canonical URL, the dedupe key
    "title": {},
    "published_at": {},  # ISO 8601, UTC, +00:00
    "modified_at": {"nullable": True},  # ISO 8601 or None
    "date_text": {},  # "DD/MM/YYYY - HH:MM", Paris time
    "lead_image": {"nullable": True},
    "summary": {"nullable": True},  # the chapo
    "paragraphs": {"is_list": True},
    "body_html": {},
    "section": {"nullable": True},
    "tags": {"is_list": True},
    "authors": {"is_list": True},
    "audio_url": {},  # optional (left out when empty): podcasts and radio columns
    "source": {},  # "rfi.fr" or the mirror's host
    "edition": {},  # "cn" or "tw": the edition of the URL (editions.py)
    "crawled_at": {},
    # Versions (archive/versions.py): set by the export, 1 for the first one seen.
    # Set by the export only (by_export): extraction leaves them out.
    "version": {"by_export": True},
    "content_digest": {"by_export": True},  # sha256 hex of the content fields
    # The version before's digest; None for 1.
    "previous_digest": {"nullable": True, "by_export": True},
    # Internal, never exported: what a mirror sent, kept to write its seed-style file as
    # given. Feeds (-o, -O, FEEDS) export FIELDS only (FEED_EXPORT_FIELDS in settings.py);
    # no ``serializer=None`` here: feed exporters call a serializer key that is present.
    "mirror_entry": {"internal": True},
    # Internal: the item comes from a revisit of an archived article (crawl/revisits.py),
    # so a change of content is a new version rather than a duplicate.
    "revisit": {"internal": True},
    # Internal: the page's (ETag, Last-Modified), kept for the next conditional revisit.
    "validators": {"internal": True},
}

# Exported fields, in export order; fields exported as null when empty; list fields.
FIELDS = tuple(name for name, meta in FIELD_META.items() if not meta.get("internal"))
NULLABLE = tuple(name for name in FIELDS if FIELD_META[name].get("nullable"))
# Fields the export sets (the versions: archive/versions.py), never the extraction.
BY_EXPORT = tuple(name for name in FIELDS if FIELD_META[name].get("by_export"))
LISTS = tuple(name for name in FIELDS if FIELD_META[name].get("is_list"))
