"""The item loader: each field's cleaning rules on one line.

Values are added in the spec's order of fallbacks (``page.py`` lists them); a field's
input processor cleans each candidate and drops the empty ones, and the first survivor
is kept (``TakeFirst``'s rule). Lists keep every survivor, without duplicates.

What Scrapy's ``ItemLoader`` did with these processors, as a table and a loop: the
loader's own machinery (a context wrapped around every call, the field's processors
looked up through the item's metadata, every candidate cleaned though only the first
survivor counts) cost as much as the processors themselves (issue 26).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rfi_spider.canonical import canonical_url, is_article_url, section_of
from rfi_spider.dates import paris_date_text
from rfi_spider.editions import edition_of
from rfi_spider.extract.page import ArticleView
from rfi_spider.extract.processors import (
    clean_text,
    drop_empty,
    drop_surrogates,
    https_url,
    normalize_datetime,
    not_publisher,
    split_keywords,
    unique,
    valid_date_text,
)
from rfi_spider.items import BY_EXPORT, LISTS, NULLABLE, ArticleItem

SITE_SOURCE = "rfi.fr"


class each:  # noqa: N801 (used like MapCompose, which it stands in for)
    """An input processor: each value through ``steps`` in turn, dropped at the first None.

    What ``MapCompose`` does for steps that return one value or None, without its
    per-call wrapping of every step in the loader context (a fifth of the loader's time).
    """

    __slots__ = ("steps",)

    def __init__(self, *steps: Callable[[str], str | None]) -> None:
        self.steps = steps

    def __call__(self, values: Iterable[Any]) -> list[str]:
        kept = []
        for value in values:
            for step in self.steps:
                value = step(value)
                if value is None:
                    break
            else:
                kept.append(value)
        return kept


_text = each(clean_text, drop_empty)


def _article_url(url: str) -> str | None:
    """A canonical URL, kept only when it is an article's (a home-page canonical is not)."""
    canonical = canonical_url(url)
    return canonical if canonical and is_article_url(canonical) else None


# Each field's input processor. Single-valued fields keep the first candidate that
# survives it; ``paragraphs`` (cleaned by body.extract_body) every one; tags and authors
# every survivor, once each.
URL_IN = each(_article_url)
TITLE_IN = _text
DATETIME_IN = each(normalize_datetime)
DATE_TEXT_IN = each(clean_text, valid_date_text)
LEAD_IMAGE_IN = each(str.strip, https_url)
SUMMARY_IN = _text
SECTION_IN = _text
TAGS_IN = _text
AUTHORS_IN = each(clean_text, drop_empty, not_publisher)
AUDIO_URL_IN = each(str.strip, drop_empty)


def _first(steps: each, candidates: Iterable[Any]) -> Any:
    """The first candidate that survives ``steps``, cleaned; None when none does.

    The candidates after it are not cleaned at all: only the first survivor is kept.
    """
    for value in candidates:
        kept = steps((value,))
        if kept and kept[0] != "":
            return kept[0]
    return None


def _fill(item: ArticleItem) -> ArticleItem:
    """The derived fields (date text, edition), the empty ones, and no lone surrogate."""
    published = item.get("published_at")
    if published and not item.get("date_text"):
        item["date_text"] = paris_date_text(published)
    edition = edition_of(item["url"]) if item.get("url") else None
    if edition is not None:
        item["edition"] = edition.key
    if item.get("modified_at") == published:
        item["modified_at"] = None
    for name in NULLABLE:
        if name in BY_EXPORT:  # the export sets it (a version's previous digest)
            continue
        item.setdefault(name, None)
    for name in LISTS:
        item.setdefault(name, [])
    for name, value in list(item.items()):  # body_html, URLs...: no lone surrogate anywhere
        if isinstance(value, str):
            item[name] = drop_surrogates(value)
        elif isinstance(value, list):
            item[name] = [drop_surrogates(v) if isinstance(v, str) else v for v in value]
    return item


def load_article(
    page: ArticleView, crawled_at: str | None, source: str | None = SITE_SOURCE
) -> ArticleItem:
    """Fill an item from a page view (a site page or a mirror entry), each field in order.

    ``crawled_at`` and ``source`` may be None (the seed-file reader knows neither).
    A candidate list is asked for only when the fields before it are settled (the
    section's last resort, the URL's section, only when the page names none).
    """
    # Values that need no cleaning go straight into the item.
    given = {"body_html": page.body.html, "source": source, "crawled_at": crawled_at}
    item = ArticleItem({k: v for k, v in given.items() if v is not None})
    found: dict[str, Any] = {
        "url": _first(URL_IN, page.canonical_urls()),
        "title": _first(TITLE_IN, page.titles()),
        "published_at": _first(DATETIME_IN, page.published()),
        "modified_at": _first(DATETIME_IN, page.modified()),
        "date_text": _first(DATE_TEXT_IN, page.date_texts()),
        "lead_image": _first(LEAD_IMAGE_IN, page.lead_images()),
        "summary": _first(SUMMARY_IN, page.summaries()),
        "paragraphs": list(page.body.paragraphs) or None,
        "section": _first(SECTION_IN, page.sections()),
    }
    if found["section"] is None:
        found["section"] = _first(SECTION_IN, [section_of(page.url)])
    found["tags"] = unique(TAGS_IN(page.page_tags())) or unique(
        TAGS_IN(split_keywords(page.ld_keywords()))
    )
    found["authors"] = unique(AUTHORS_IN(page.page_authors())) or unique(
        AUTHORS_IN(page.ld_authors())
    )
    found["audio_url"] = _first(AUDIO_URL_IN, page.audio_urls())
    for name, value in found.items():
        if value is not None and value != []:
            item[name] = value
    return _fill(item)
