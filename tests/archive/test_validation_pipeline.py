"""The validation pipeline: the compiled schema first, the messages only for a bad item,
and one serialisation of an item for both its check and its export (issue 26)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import BARE, FIXTURES
from itemadapter import ItemAdapter
from scrapy.utils.test import get_crawler
from slugify import slugify
from spidermon.contrib.scrapy import stats as spidermon_stats_module
from spidermon.contrib.scrapy.pipelines import ItemValidationPipeline

from rfi_spider import item_schema
from rfi_spider.archive import exporters, pipelines
from rfi_spider.archive.pipelines import ArchivePipeline, InvalidItem, ValidationPipeline
from rfi_spider.items import ArticleItem

EXPECTED = json.loads((FIXTURES / "sample_site_expected.json").read_text(encoding="utf-8"))


def good_item() -> dict[str, Any]:
    item = dict(EXPECTED["articles"][0])
    item["body_html"] = "<p>" + "</p><p>".join(item["paragraphs"]) + "</p>"
    item["crawled_at"] = "2026-11-27T12:00:00+00:00"
    return item


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    calls = {"serialize": 0, "field_errors": 0}
    serialize, field_errors = exporters.serialize_line, pipelines.field_errors

    def count_serialize(item: Any) -> bytes:
        calls["serialize"] += 1
        return serialize(item)

    def count_field_errors(data: Any) -> Any:
        calls["field_errors"] += 1
        return field_errors(data)

    monkeypatch.setattr(exporters, "serialize_line", count_serialize)
    monkeypatch.setattr(pipelines, "field_errors", count_field_errors)
    pipelines.LINES.forget()
    return calls


def validation() -> ValidationPipeline:
    return ValidationPipeline.from_crawler(get_crawler())


def test_a_valid_item_is_serialised_once_for_its_check_and_its_export(
    counted: dict[str, int],
) -> None:
    item = good_item()
    assert validation().process_item(item) is item
    line = pipelines.LINES.of(item)  # what ArchivePipeline.export writes
    assert counted == {"serialize": 1, "field_errors": 0}
    assert line == exporters.serialize_line(item)


def test_an_invalid_item_is_dropped_with_the_schemas_messages(counted: dict[str, int]) -> None:
    item = {**good_item(), "paragraphs": ["a", " "]}
    with pytest.raises(InvalidItem) as dropped:
        validation().process_item(item)
    assert counted["field_errors"] == 1
    assert dropped.value.details.startswith("paragraphs: [1]: expected text that is not empty")
    assert not item_schema.is_valid(json.loads(exporters.serialize_line(item)))


def test_another_item_is_serialised_afresh(counted: dict[str, int]) -> None:
    first, second = good_item(), {**good_item(), "title": "另一个标题"}
    validation().process_item(first)
    assert json.loads(pipelines.LINES.of(second))["title"] == "另一个标题"
    assert counted["serialize"] == 2


def archive(output: Path) -> ArchivePipeline:
    crawler = get_crawler(settings_dict={**BARE, "RFI_OUTPUT_DIR": str(output)})
    crawler.stats.open_spider()
    pipeline = ArchivePipeline.from_crawler(crawler)
    pipeline.open_spider()
    return pipeline


def test_the_export_splices_the_version_fields_into_the_validated_line(
    counted: dict[str, int], tmp_path: Path
) -> None:
    """The versions are set after the check: the exported line is the validated one with
    them added (one serialisation an item), byte for byte what serialising it again gives,
    for a first version (previous digest null) and a changed revisit (a digest)."""
    pipeline = archive(tmp_path / "out")
    first = ArticleItem(good_item())
    second = ArticleItem({**good_item(), "title": "改了标题", "revisit": True})
    for item in (first, second):
        validation().process_item(item)
        pipeline.process_item(item)
    pipeline.close_spider()
    assert counted["serialize"] == 2  # once an item
    written = (tmp_path / "out" / "items.jsonl").read_bytes()
    assert written == exporters.serialize_line(first) + exporters.serialize_line(second)
    assert json.loads(written.splitlines()[1])["previous_digest"] == first["content_digest"]


def test_a_line_validated_with_version_fields_is_serialised_again(counted: dict[str, int]) -> None:
    """Only a line without the export's fields gets them spliced in: an item that carried
    them at its check (or any other item) is serialised afresh, never with a field twice."""
    item = {**good_item(), "version": 3, "content_digest": "ab" * 32, "previous_digest": None}
    validation().process_item(item)
    item["version"] = 4
    line = pipelines.LINES.with_export_fields(item)
    assert line == exporters.serialize_line(item)
    assert json.loads(line)["version"] == 4
    assert pipelines.LINES.with_export_fields(good_item()) == exporters.serialize_line(good_item())
    assert pipelines.LINES.with_export_fields({}) == b"{}\n"


def spidermon_stats(item: dict[str, Any]) -> dict[str, Any]:
    """The stats Spidermon's own pipeline gives the project's validator for ``item``."""
    crawler = get_crawler()
    ours = ValidationPipeline(crawler.stats)
    with contextlib.suppress(InvalidItem):
        ItemValidationPipeline.process_item(ours, item)
    return crawler.stats.get_stats()


def test_the_stats_and_drops_are_spidermons_without_its_copy_of_the_item(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Spidermon's pipeline deep-copies each item (ItemAdapter.asdict) for validators that
    # read it; the project's reads the item's JSON line: the copy was 0.1 ms a page thrown
    # away (issue 26). Same counts and errors as Spidermon's own steps, no copy.
    valid, invalid = good_item(), {**good_item(), "paragraphs": ["a", " "], "title": ""}
    expected = [spidermon_stats(valid), spidermon_stats(invalid)]

    def no_copy(self: ItemAdapter) -> dict[str, Any]:
        raise AssertionError("the item was copied")

    monkeypatch.setattr(ItemAdapter, "asdict", no_copy)
    crawler = get_crawler()
    pipeline = ValidationPipeline.from_crawler(crawler)
    assert pipeline.process_item(valid) is valid
    assert crawler.stats.get_stats() == expected[0]
    crawler = get_crawler()
    with pytest.raises(InvalidItem):
        ValidationPipeline.from_crawler(crawler).process_item(invalid)
    stats = crawler.stats.get_stats()
    assert stats == expected[1]
    assert stats["spidermon/validation/items/errors"] == 1
    assert stats["spidermon/validation/items/dropped"] == 1


def test_each_stat_name_is_slugified_once_not_at_every_item(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Spidermon slugifies every part of a stat's name at every count (two names an item:
    # about 0.1 ms a page in the crawl, issue 26): the names are made once, the same ones.
    valid, invalid = good_item(), {**good_item(), "paragraphs": ["a", " "], "title": ""}
    expected = spidermon_stats(valid)
    calls = 0

    def counted_slugify(*args: Any, **kwargs: Any) -> str:
        nonlocal calls
        calls += 1
        return slugify(*args, **kwargs)

    monkeypatch.setattr(spidermon_stats_module, "slugify", counted_slugify)
    crawler = get_crawler()
    pipeline = ValidationPipeline.from_crawler(crawler)
    after_setup = calls
    pipeline.process_item(valid)
    with pytest.raises(InvalidItem):
        pipeline.process_item(invalid)
    after_first = calls
    assert after_first > after_setup
    for _ in range(5):
        pipeline.process_item(good_item())
        with pytest.raises(InvalidItem):
            pipeline.process_item(dict(invalid))
    assert calls == after_first
    stats = crawler.stats.get_stats()
    assert stats["spidermon/validation/items"] == 12
    assert stats["spidermon/validation/fields"] == 12 * expected["spidermon/validation/fields"]
    assert stats["spidermon/validation/items/dropped"] == 6
