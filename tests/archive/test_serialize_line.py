"""``serialize_line``: the bytes of Scrapy's JSON Lines exporter, without an exporter an item."""

from __future__ import annotations

import datetime
import decimal
import io
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.exporters import JsonLinesItemExporter

from rfi_spider.archive import exporters
from rfi_spider.archive.exporters import serialize_line
from rfi_spider.items import FIELDS, ArticleItem


def scrapys_line(item: Any) -> bytes:
    """What Scrapy's exporter writes for ``item`` with the export's options."""
    buffer = io.BytesIO()
    exporter = JsonLinesItemExporter(buffer, fields_to_export=list(FIELDS), ensure_ascii=False)
    exporter.export_item(item)
    return buffer.getvalue()


TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    TEXT,
    st.datetimes(),
    st.dates(),
    st.decimals(allow_nan=False, allow_infinity=False),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(TEXT, inner, max_size=3),
    ),
    max_leaves=6,
)
# Any subset of the item's fields (internal ones too), in any order, with values of any kind.
FIELD_VALUES = st.lists(
    st.tuples(st.sampled_from(sorted(ArticleItem.fields)), VALUES), max_size=len(ArticleItem.fields)
)


@settings(max_examples=300, deadline=None)
@given(FIELD_VALUES)
def test_the_same_bytes_as_scrapys_exporter(pairs: list[tuple[str, Any]]) -> None:
    item = ArticleItem()
    for name, value in pairs:
        item[name] = value
    assert serialize_line(item) == scrapys_line(item)


def test_an_article_line_in_the_specs_order_without_internal_fields() -> None:
    item = ArticleItem(
        mirror_entry={"ms": 1},
        crawled_at="2026-12-08T00:00:00+00:00",
        title="標題\u2028",
        url="https://www.rfi.fr/cn/x",
        published_at=datetime.datetime(2026, 12, 8, tzinfo=datetime.UTC),
        tags=("a", "b"),
        version=decimal.Decimal("2"),
    )
    line = serialize_line(item)
    assert line == scrapys_line(item)
    assert line.decode("utf-8").startswith('{"url": "https://www.rfi.fr/cn/x", "title": "標題')
    assert b"mirror_entry" not in line


def test_no_exporter_is_made_for_an_article(monkeypatch: pytest.MonkeyPatch) -> None:
    """An article's line is made without Scrapy's exporter (built for every item, it was
    most of the line's cost); any other kind of item still goes through it."""
    made: list[Any] = []

    class Counted(JsonLinesItemExporter):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            made.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(exporters, "JsonLinesItemExporter", Counted)
    serialize_line(ArticleItem(url="u", title="t"))
    assert made == []
    assert serialize_line({"title": "t", "url": "u", "other": 1}) == b'{"url": "u", "title": "t"}\n'
    assert len(made) == 1


@settings(max_examples=300, deadline=None)
@given(FIELD_VALUES)
def test_the_validated_value_is_the_lines_json(pairs: list[tuple[str, Any]]) -> None:
    """What the validation checks is what ``json.loads`` reads from the exported line: the
    same values of the same types (``repr`` tells a tuple from a list, True from 1)."""
    item = ArticleItem()
    for name, value in pairs:
        item[name] = value
    lines = exporters.LastLine()
    assert repr(lines.parsed(item)) == repr(json.loads(serialize_line(item)))


def test_a_plain_article_is_not_parsed_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """An article of strings, lists of strings, numbers and None is validated as its own
    fields, not by parsing the line just made; any other value is parsed back."""
    loads: list[Any] = []
    real = json.loads
    monkeypatch.setattr(json, "loads", lambda text: loads.append(text) or real(text))
    plain = ArticleItem(url="u", tags=["a"], version=2, summary=None, title="標題")
    lines = exporters.LastLine()
    assert lines.parsed(plain) == {
        "url": "u",
        "title": "標題",
        "summary": None,
        "tags": ["a"],
        "version": 2,
    }
    assert loads == []
    assert lines.parsed(ArticleItem(url="u", tags=("a",))) == {"url": "u", "tags": ["a"]}
    assert lines.parsed(ArticleItem(url="u", version=1.0)) == {"url": "u", "version": 1.0}
    assert len(loads) == 2
