"""The item loader: each field's cleaning rules on one line.

Values are added in the spec's order of fallbacks (``page.py`` lists them);
input processors clean each candidate and drop the empty ones, ``TakeFirst``
keeps the first survivor. Lists keep every survivor, without duplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from itemloaders.common import wrap_loader_context
from itemloaders.processors import Identity, TakeFirst
from itemloaders.utils import arg_to_iter
from scrapy.loader import ItemLoader

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

    def __call__(self, values: Iterable[str]) -> list[str]:
        kept = []
        for value in values:
            for step in self.steps:
                value = step(value)  # type: ignore[assignment]
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


# The processors of each field, as ArticleLoader resolves them (its class attributes, else
# the item's field metadata, else the defaults): fixed at import, so looked up once.
# By class and field: a subclass may declare its own.
_INPUT: dict[tuple[type, str], Callable[..., Any]] = {}
_OUTPUT: dict[tuple[type, str], Callable[..., Any]] = {}
# The input processors that take no loader context (None: one that does), by field.
_PLAIN_INPUT: dict[tuple[type, str], Callable[..., Any] | None] = {}
_UNKNOWN = object()


class ArticleLoader(ItemLoader):
    """Loads an :class:`ArticleItem`; ``load_item`` fills the derived fields."""

    default_item_class = ArticleItem
    default_output_processor = TakeFirst()

    url_in = each(_article_url)
    title_in = _text
    published_at_in = each(normalize_datetime)
    modified_at_in = each(normalize_datetime)
    date_text_in = each(clean_text, valid_date_text)
    lead_image_in = each(str.strip, https_url)
    summary_in = _text
    paragraphs_in = Identity()  # body.extract_body cleaned them and dropped the empty ones
    paragraphs_out = Identity()
    section_in = _text
    tags_in = _text
    tags_out = unique  # a plain function: Compose would build a ChainMap a call
    authors_in = each(clean_text, drop_empty, not_publisher)
    authors_out = unique
    audio_url_in = each(str.strip, drop_empty)

    def get_input_processor(self, field_name: str) -> Callable[..., Any]:
        """The field's input processor, looked up once per field (``ItemLoader`` reads the
        item's field metadata through a new ``ItemAdapter`` at every value added)."""
        found = _INPUT.get((self.__class__, field_name))
        if found is None:
            found = _INPUT[self.__class__, field_name] = super().get_input_processor(field_name)
        return found

    def get_output_processor(self, field_name: str) -> Callable[..., Any]:
        """The field's output processor, looked up once per field (see above)."""
        found = _OUTPUT.get((self.__class__, field_name))
        if found is None:
            found = _OUTPUT[self.__class__, field_name] = super().get_output_processor(field_name)
        return found

    def add_value(
        self, field_name: str | None, value: Any, *processors: Callable[..., Any], **kw: Any
    ) -> ArticleLoader:
        """``ItemLoader.add_value``; a plain value (no processors, no ``re``) for a named
        field goes straight to the field's input processor.

        The same steps as ``ItemLoader``'s (the value made a list as ``arg_to_iter`` does,
        the input processor's error wrapped the same way, what it leaves appended), without
        its five calls a value and its ``wrap_loader_context`` look-up (issue 26: about a
        tenth of an extraction). A processor that takes ``loader_context``, a nested loader
        or any extra argument goes the whole way.
        """
        if processors or kw or not field_name or self.parent is not None:
            super().add_value(field_name, value, *processors, **kw)
            return self
        if value is None:
            return self
        proc = self._plain_input_processor(field_name)
        if proc is None:
            super().add_value(field_name, value)
            return self
        try:
            processed = proc(arg_to_iter(value))
        except Exception as e:
            raise ValueError(
                f"Error with input processor {proc.__class__.__name__}:"
                f" field={field_name!r} value={value!r} error='{type(e).__name__}: {e!s}'"
            ) from e
        if processed:
            self._local_values.setdefault(field_name, []).extend(arg_to_iter(processed))
        return self

    def _plain_input_processor(self, field_name: str) -> Callable[..., Any] | None:
        """The field's input processor when it takes no loader context, else None."""
        key = (self.__class__, field_name)
        found = _PLAIN_INPUT.get(key, _UNKNOWN)
        if found is _UNKNOWN:
            proc = self.get_input_processor(field_name)
            plain = wrap_loader_context(proc, {}) is proc
            found = _PLAIN_INPUT[key] = proc if plain else None
        return found  # type: ignore[return-value]

    def add_fallback(self, field_name: str, *candidates: Callable[[], object]) -> None:
        """Add the first candidate list that leaves a value after the input processors.

        Each list is asked for only when the ones before it left nothing: a fallback is
        computed on the pages that need it, not on every page (the URL's section decodes
        the whole path; issue 26).
        """
        for values_of in candidates:
            if self.get_collected_values(field_name):
                return
            self.add_value(field_name, values_of())

    def _output_values(self) -> dict[str, Any]:
        """What ``ItemLoader.load_item`` would leave in the item, as a dict in the item's
        order: the item's own values, then each collected field's output processed (a
        None output leaves the field as it was)."""
        values = dict(self.item)
        for field_name in tuple(self._values):
            value = self.get_output_value(field_name)
            if value is not None:
                values[field_name] = value
        return values

    def load_item(self) -> ArticleItem:
        """``ItemLoader.load_item``, then the derived fields, on a plain dict.

        The same steps in the same order as on the item, but an item's ``get`` and
        ``setdefault`` (``MutableMapping``'s, by ``KeyError``) and ``ItemAdapter``'s
        look-ups cost a Python call or an exception a field (issue 26): the output
        processors' values are gathered in a dict (:meth:`_output_values`), and the item
        written once, each key in the order the steps give it.
        """
        item = self.item
        values = self._output_values()
        published = values.get("published_at")
        if published and not values.get("date_text"):
            values["date_text"] = paris_date_text(published)
        edition = edition_of(values["url"]) if values.get("url") else None
        if edition is not None:
            values["edition"] = edition.key
        if values.get("modified_at") == published:
            values["modified_at"] = None
        for name in NULLABLE:
            if name not in BY_EXPORT:  # the export sets it (a version's previous digest)
                values.setdefault(name, None)
        for name in LISTS:
            values.setdefault(name, [])
        for name, value in values.items():  # body_html, URLs...: no lone surrogate anywhere
            if isinstance(value, str):
                value = drop_surrogates(value)
            elif isinstance(value, list):
                value = [drop_surrogates(v) if isinstance(v, str) else v for v in value]
            item[name] = value  # a key the item has keeps its place; new ones follow in order
        return item


def load_article(
    page: ArticleView, crawled_at: str | None, source: str | None = SITE_SOURCE
) -> ArticleItem:
    """Fill an item from a page view (a site page or a mirror entry), each field in order.

    ``crawled_at`` and ``source`` may be None (the seed-file reader knows neither).
    """
    # Values that need no cleaning go straight into the item.
    given = {"body_html": page.body.html, "source": source, "crawled_at": crawled_at}
    loader = ArticleLoader(item=ArticleItem({k: v for k, v in given.items() if v is not None}))
    loader.add_value("url", page.canonical_urls())
    loader.add_value("title", page.titles())
    loader.add_value("published_at", page.published())
    loader.add_value("modified_at", page.modified())
    loader.add_value("date_text", page.date_texts())
    loader.add_value("lead_image", page.lead_images())
    loader.add_value("summary", page.summaries())
    loader.add_value("paragraphs", page.body.paragraphs)
    loader.add_fallback("section", page.sections, lambda: [section_of(page.url)])
    loader.add_fallback("tags", page.page_tags, lambda: split_keywords(page.ld_keywords()))
    loader.add_fallback("authors", page.page_authors, page.ld_authors)
    loader.add_value("audio_url", list(page.audio_urls()))
    return loader.load_item()
