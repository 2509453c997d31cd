"""The item's JSON Schema: every good item of the fixtures passes, planted bad ones fail."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import FIXTURES
from pages import VARIANTS, parse_fixture

from rfi_spider.archive.exporters import serialize_line
from rfi_spider.archive.versions_read import VERSION_FIELDS
from rfi_spider.item_fields import FIELD_META
from rfi_spider.item_schema import _inlined, always_filled, is_valid, load_schema, value_errors
from rfi_spider.item_schema import field_errors as schema_field_errors
from rfi_spider.items import FIELDS, LISTS, NULLABLE, ArticleItem

EXPECTED = json.loads((FIXTURES / "sample_site_expected.json").read_text(encoding="utf-8"))
ARTICLE_VARIANTS = [
    v for v in VARIANTS if json.loads((FIXTURES / "pages" / f"{v}.json").read_text())["expected"]
]


def field_errors(data: Any) -> list[Any]:
    """The schema's errors; and every item checked here is one on which the compiled
    schema the crawl asks first (``is_valid``) agrees with them."""
    errors = schema_field_errors(data)
    assert is_valid(data) == (not errors), (data, errors)
    return errors


def good_item() -> dict[str, Any]:
    """A valid exported item: the sample site's first article with its clock fields."""
    item = dict(EXPECTED["articles"][0])
    item["body_html"] = "<p>" + "</p><p>".join(item["paragraphs"]) + "</p>"
    item["crawled_at"] = "2026-11-27T12:00:00+00:00"
    return item


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("version", 1, True),
        ("version", 2, True),
        ("version", 0, False),
        ("version", "2", False),
        ("version", 1.5, False),
        ("content_digest", "a" * 64, True),
        ("content_digest", "A" * 64, False),
        ("content_digest", "a" * 63, False),
        ("content_digest", None, False),
        ("previous_digest", None, True),
        ("previous_digest", "0" * 64, True),
        ("previous_digest", "", False),
    ],
)
def test_the_version_fields(field: str, value: object, ok: bool) -> None:
    assert (value_errors(field, value) == []) is ok


def test_schema_describes_exactly_the_exported_fields() -> None:
    schema = load_schema()
    assert list(schema["properties"]) == list(FIELDS)
    # edition, the versions: optional, as items exported before them lack them.
    assert set(FIELDS) - set(schema["required"]) == {"audio_url", "edition", *VERSION_FIELDS}
    assert schema["additionalProperties"] is False


def test_item_field_metadata_agrees_with_the_schema() -> None:
    """The field table is the one list of fields: its metadata says what the schema says."""
    properties = load_schema()["properties"]

    def types(name: str) -> set[str]:
        rule = properties[name]
        return {r.get("type") for r in [rule, *rule.get("anyOf", [])]} - {None}

    assert "mirror_entry" not in FIELDS  # internal
    assert set(NULLABLE) == {f for f in FIELDS if "null" in types(f)}
    assert set(LISTS) == {f for f in FIELDS if "array" in types(f)}


@pytest.mark.parametrize("index", range(len(EXPECTED["articles"])))
def test_every_expected_sample_site_item_is_valid(index: int) -> None:
    item = dict(EXPECTED["articles"][index], crawled_at="2026-11-27T12:00:00+00:00")
    item["body_html"] = "<p>body</p>"
    assert field_errors(item) == []


@pytest.mark.parametrize("variant", ARTICLE_VARIANTS)
def test_every_parsed_fixture_item_is_valid_as_exported(variant: str) -> None:
    item, _ = parse_fixture(variant)
    assert field_errors(json.loads(serialize_line(item))) == []


def test_optional_and_nullable_fields() -> None:
    item = good_item()
    item.pop("audio_url", None)
    for name in ("modified_at", "lead_image", "summary", "section"):
        item[name] = None
    item["tags"] = item["authors"] = []
    assert field_errors(item) == []
    assert field_errors({**item, "audio_url": "https://aod.example/a.mp3"}) == []
    assert set(always_filled()) == {
        "url", "title", "published_at", "date_text", "paragraphs", "body_html", "source",
        "crawled_at",
    }  # fmt: skip


URL = "https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/20240307-%E7%8E%8B%E6%AF%85"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", URL + "?utm=x"),
        ("url", URL + "#top"),
        ("url", URL + "/"),
        ("url", "https://www.rfi.fr/cn/%e4%b8%ad%e5%9b%bd/20240307-%e7%8e%8b%e6%af%85"),
        ("url", URL.replace("https://", "http://")),
        ("url", URL.replace("www.rfi.fr", "cn.rfi.fr")),
        ("url", "https://www.rfi.fr/cn/中国/20240307-王毅"),
        ("url", "https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/"),
        ("url", URL + "\n"),
        ("title", ""),
        ("title", " 王毅 "),
        ("title", None),
        ("published_at", "2024-03-07T06:48:00"),
        ("published_at", "2024-03-07 06:48:00+00:00"),
        ("published_at", "2024-02-30T06:48:00+00:00"),
        ("published_at", "07/03/2024"),
        ("modified_at", "yesterday"),
        ("crawled_at", "2026-11-27"),
        ("date_text", "2024-03-07 07:48"),
        ("date_text", "07/03/2024 07:48"),
        ("date_text", "07/03/2024 - 07:48\n"),
        ("lead_image", "http://s.rfi.fr/media/a.jpg"),
        ("lead_image", "/media/a.jpg"),
        ("lead_image", "data:image/png;base64,AAAA"),
        ("lead_image", ""),
        ("summary", ""),
        ("paragraphs", []),
        ("paragraphs", ["第一段", ""]),
        ("paragraphs", ["第一段", "  "]),
        ("paragraphs", "第一段"),
        ("body_html", ""),
        ("section", ""),
        ("tags", "香港"),
        ("authors", [""]),
        ("audio_url", "aod.mp3"),
        ("source", ""),
        ("edition", "fr"),
        ("published_at", "2024-03-07T06:48:00+25:00"),
        ("published_at", 20240307),
        ("tags", ["香港", 23]),
    ],
)
def test_planted_bad_value_is_rejected_naming_the_field(field: str, value: Any) -> None:
    item = {**good_item(), field: value}
    errors = field_errors(item)
    assert errors, f"{field}={value!r} was accepted"
    assert {e.field for e in errors} == {field}


@pytest.mark.parametrize("field", sorted(set(FIELDS) - {"audio_url", "edition", *VERSION_FIELDS}))
def test_missing_field_is_rejected(field: str) -> None:
    item = good_item()
    del item[field]
    assert [(e.field, e.message) for e in field_errors(item)] == [(field, "missing")]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("published_at", "0001-01-01T00:00:00+01:00"),
        ("published_at", "9999-12-31T23:59:59-01:00"),
        ("published_at", "2024-03-07T06:48:00.123456Z"),
        ("url", URL + "$"),
        ("url", URL.replace("%E7%8E%8B", "$&'()")),
        ("title", "王毅\n"),
        ("paragraphs", ["a", None]),
        ("audio_url", None),
    ],
)
def test_the_compiled_schema_agrees_on_edge_values(field: str, value: Any) -> None:
    field_errors({**good_item(), field: value})  # asserts the agreement


def test_an_edition_that_is_not_the_urls_is_rejected() -> None:
    assert [e.field for e in field_errors({**good_item(), "edition": "tw"})] == ["url"]
    assert field_errors({**good_item(), "edition": "cn"}) == []


def test_unknown_field_and_non_objects_are_rejected() -> None:
    assert [e.field for e in field_errors({**good_item(), "mirror_entry": {}})] == ["mirror_entry"]
    assert [e.field for e in field_errors(["not", "an", "object"])] == ["(item)"]


def test_messages_say_what_was_expected() -> None:
    errors = field_errors({**good_item(), "paragraphs": ["a", " "], "lead_image": "http://x/a"})
    messages = {e.field: e.message for e in errors}
    assert messages["paragraphs"].startswith("[1]: expected text that is not empty")
    assert messages["lead_image"] == 'expected an absolute https URL, got "http://x/a"'


def test_value_errors_checks_one_field() -> None:
    assert value_errors("url", URL) == []
    assert value_errors("url", URL + "/")[0].startswith("expected a canonical article URL")
    assert value_errors("published_at", "2024-03-07T06:48:00+01:00") == []


# Values of every kind a field may hold, good and bad, for the agreement checks below.
ANY_VALUES: list[Any] = [
    None,
    "",
    " ",
    "x",
    " x",
    "x\n",
    "王毅",
    1,
    0,
    1.5,
    True,
    [],
    ["a"],
    ["a", None],
    [" a"],
    {},
    "2024-03-07T06:48:00+01:00",
    "2024-03-07T06:48:00",
    "2024-02-30T06:48:00Z",
    "07/03/2024 - 17:34",
    "https://s.rfi.fr/a.jpg",
    "http://s.rfi.fr/a.mp3",
    "https://s.rfi.fr/a b.jpg",
    "a" * 64,
    "A" * 64,
    URL,
]


@pytest.mark.parametrize("field", FIELDS)
def test_the_compiled_schema_agrees_on_any_value_of_any_field(field: str) -> None:
    """The schema is compiled from a lighter copy (its references inlined, its nullable
    strings as a list of types): ``is_valid`` still says what the schema says."""
    for value in ANY_VALUES:
        field_errors({**good_item(), field: value})  # asserts the agreement


def test_the_compiled_schema_has_no_reference_nor_nullable_branches() -> None:
    """fastjsonschema's code for a ``$ref`` (a call, and a name built by ``str.format``
    at each list item) and for ``anyOf`` (an exception raised and caught for each
    branch that fails: the null one for every string) cost about 30 µs an item."""
    schema = load_schema()
    compiled = _inlined(schema, schema["$defs"])
    text = json.dumps(compiled["properties"])
    assert "$ref" not in text
    assert "anyOf" not in text
    assert compiled["properties"]["modified_at"]["type"] == ["null", "string"]
    assert compiled["properties"]["paragraphs"]["items"]["pattern"]


def test_the_item_has_the_field_tables_fields_in_order() -> None:
    """``ArticleItem`` is made from ``item_fields.FIELD_META``: every field, internal ones
    too, in the table's order and with its metadata; unknown keys still refused."""
    assert list(ArticleItem.fields) == list(FIELD_META)
    assert all(ArticleItem.fields[name] == meta for name, meta in FIELD_META.items())
    assert ArticleItem.fields["mirror_entry"] == {"internal": True}
    with pytest.raises(KeyError):
        ArticleItem(titel="x")
