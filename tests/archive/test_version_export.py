"""Versions (issue 28): the content digest, the export of a changed revisit, exactly once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import BARE, FIXTURES
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from rfi_spider.archive.pipelines import ArchivePipeline
from rfi_spider.archive.state import SeenStore
from rfi_spider.archive.versions import (
    content_digest,
    line_version,
    version_of_name,
    versioned_name,
)
from rfi_spider.items import ArticleItem

EXPECTED = json.loads((FIXTURES / "sample_site_expected.json").read_text(encoding="utf-8"))


def article(**changes: object) -> ArticleItem:
    fields = {
        **EXPECTED["articles"][0],
        "body_html": "<p>x</p>",
        "crawled_at": "2024-03-08T00:00:00+00:00",
    }
    fields.update(changes)
    return ArticleItem(**fields)


def test_the_digest_is_the_content_not_the_markup_nor_the_fetch() -> None:
    item = article()
    same = article(
        body_html="<p>x</p><div class='ad'></div>", crawled_at="2025-01-01T00:00:00+00:00"
    )
    assert content_digest(item) == content_digest(same)
    assert len(content_digest(item)) == 64
    for field, value in [
        ("title", "另一个标题"),
        ("summary", "另一段摘要"),
        ("paragraphs", [*item["paragraphs"], "新的一段。"]),
        ("paragraphs", item["paragraphs"][1:]),
        ("lead_image", "https://s.rfi.fr/other.jpg"),
        ("authors", ["某某"]),
        ("tags", ["新标签"]),
    ]:
        assert content_digest(article(**{field: value})) != content_digest(item), field


def test_a_line_read_back_has_the_digest_of_the_item_that_wrote_it() -> None:
    item = article(tags=[], summary=None)
    line = json.loads(json.dumps(dict(item)))
    del line["tags"]  # a line without the field: the same as an empty list
    assert line_version(line).digest == content_digest(item)
    assert line_version(line).number == 1
    assert line_version({**line, "version": 3, "content_digest": "ab"}).number == 3


def test_file_names_of_versions() -> None:
    assert versioned_name("2024/03/07/abc.txt", 1) == "2024/03/07/abc.txt"
    assert versioned_name("2024/03/07/abc.txt", 2) == "2024/03/07/abc.v2.txt"
    assert version_of_name("2024/03/07/abc.v12.txt") == 12
    assert version_of_name("2024/03/07/abc.txt") == 1


def open_pipeline(output: Path) -> ArchivePipeline:
    crawler = get_crawler(settings_dict={**BARE, "RFI_OUTPUT_DIR": str(output)})
    crawler.stats.open_spider()
    pipeline = ArchivePipeline.from_crawler(crawler)
    pipeline.open_spider()
    return pipeline


def lines(output: Path) -> list[dict]:
    return [json.loads(x) for x in (output / "items.jsonl").read_bytes().splitlines()]


def test_a_revisit_exports_a_change_once_and_nothing_for_the_same_content(tmp_path: Path) -> None:
    output = tmp_path / "out"
    pipeline = open_pipeline(output)
    pipeline.process_item(article())
    first = lines(output)[0]
    assert (first["version"], first["previous_digest"]) == (1, None)
    stats = pipeline.stats
    # Found again without a revisit: a duplicate, as before versions.
    with pytest.raises(DropItem, match="already exported"):
        pipeline.process_item(article(title="改了标题"))
    # A revisit with the same content: unchanged.
    with pytest.raises(DropItem, match="unchanged"):
        pipeline.process_item(article(revisit=True, body_html="<p>re-rendered</p>"))
    # A revisit of a mirror's copy never makes a version.
    with pytest.raises(DropItem, match="already exported"):
        pipeline.process_item(article(revisit=True, title="镜像", source="feedx.net"))
    pipeline.process_item(article(revisit=True, title="改了标题"))
    # The same change seen again (a second job, a rerun): unchanged.
    with pytest.raises(DropItem, match="unchanged"):
        pipeline.process_item(article(revisit=True, title="改了标题"))
    pipeline.process_item(article(revisit=True, title="又改了"))
    pipeline.close_spider()
    versions = lines(output)
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert [v["previous_digest"] for v in versions] == [None] + [
        v["content_digest"] for v in versions[:2]
    ]
    assert stats.get_value("rfi/versions/changed") == 2
    assert stats.get_value("rfi/versions/unchanged") == 2
    assert stats.get_value("rfi/duplicates") == 2
    names = sorted(p.name for p in (output / "articles").rglob("*.txt") if ".tmp" not in p.parts)
    stem = names[0].split(".")[0]
    assert names == [f"{stem}.txt", f"{stem}.v2.txt", f"{stem}.v3.txt"]
    # The state knows each version; a new pipeline (a rerun) carries on from it.
    again = open_pipeline(output)
    with pytest.raises(DropItem, match="unchanged since version 3"):
        again.process_item(article(revisit=True, title="又改了"))
    again.close_spider()


def test_a_state_older_than_versions_reads_them_from_items_jsonl(tmp_path: Path) -> None:
    """An archive made before versions: its lines have no version fields, the state none."""
    output = tmp_path / "out"
    pipeline = open_pipeline(output)
    pipeline.process_item(article())
    pipeline.close_spider()
    old = lines(output)[0]
    for field in ("version", "content_digest", "previous_digest"):
        del old[field]
    (output / "items.jsonl").write_text(json.dumps(old, ensure_ascii=False) + "\n")
    store = SeenStore(output / ".state" / "seen.sqlite3")
    store.db.execute("DELETE FROM versions")
    store.db.execute("DELETE FROM meta WHERE key LIKE 'versions_read:%'")
    store.close()
    pipeline = open_pipeline(output)
    with pytest.raises(DropItem, match="unchanged since version 1"):
        pipeline.process_item(article(revisit=True))
    pipeline.process_item(article(revisit=True, title="改了标题"))
    pipeline.close_spider()
    new = lines(output)[1]
    assert (new["version"], new["previous_digest"]) == (2, content_digest(old))


def test_the_revisit_benchmark_at_a_small_size(tmp_path: Path) -> None:
    from benchmarks.revisits import bench_revisits

    result = bench_revisits(50, 0.1, tmp_path)
    assert (result.changed, result.new_versions, result.unchanged) == (5, 5, 45)
