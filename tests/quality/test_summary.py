"""The end-of-crawl summary, from the stats alone."""

from __future__ import annotations

from rfi_spider.quality.extensions import summary_lines


def test_summary_counts_by_reason() -> None:
    stats = {
        "rfi/articles/found": 9,
        "rfi/articles/fetched": 7,
        "rfi/exported": 5,
        "rfi/exported/source/rfi.fr": 4,
        "rfi/exported/source/feedx.net": 1,
        "rfi/duplicates": 1,
        "rfi/skipped/already_exported": 2,
        "rfi/dropped/no_title": 1,
        "rfi/dropped/no_paragraphs": 2,
        "rfi/failed/article/404": 1,
        "response_received_count": 12,
    }
    text = "\n".join(summary_lines(stats, "finished", "rfi_tw"))
    assert "rfi_tw crawl summary (finished)" in text
    assert "articles found:            9" in text
    assert "exported:                  5" in text
    assert "exported from feedx.net: 1" in text
    assert "skipped, already exported: 2" in text
    assert "dropped: 3\n    no_paragraphs: 2\n    no_title: 1" in text
    assert "requests failed: 1\n    article/404: 1" in text
    assert "nothing could be fetched" not in text


def test_summary_says_when_nothing_could_be_fetched() -> None:
    stats = {"rfi/failed/listing/CannotResolveHostError": 17}
    text = "\n".join(summary_lines(stats, "finished", "rfi_tw"))
    assert "nothing could be fetched at all" in text
