"""QA's month labels: ``YYYY-MM`` with a four-digit year, so they read as ISO 8601 and
sort in time order whatever the year, and dates at the calendar's ends do not crash."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from rfi_spider.quality import qa
from rfi_spider.quality.qa.compare import Comparison
from rfi_spider.quality.qa.report import _by_month


def test_month_labels_have_four_digit_years_and_sort_in_time_order() -> None:
    days = [
        (date(2024, 1, 3), 2),
        (date(999, 5, 1), 1),
        (date(999, 5, 31), 4),
        (date(1, 1, 1), 1),
        (date(9999, 12, 31), 1),
        (date(80, 2, 1), 1),
    ]
    assert _by_month(days) == [
        ("0001-01", 1),
        ("0080-02", 1),
        ("0999-05", 5),
        ("2024-01", 2),
        ("9999-12", 1),
    ]


def test_the_comparison_timeline_merges_months_in_time_order(tmp_path: Path) -> None:
    """Both archives' months, merged and sorted as labels: time order only if the labels
    have one width (``999-05`` would sort after ``2024-01``)."""
    this = qa.Report(root=tmp_path / "a", checked_at=datetime(2026, 1, 1, tzinfo=UTC))
    other = qa.Report(root=tmp_path / "b", checked_at=datetime(2026, 1, 1, tzinfo=UTC))
    this.per_day = lambda: [(date(999, 5, 1), 1), (date(2024, 1, 1), 2)]  # type: ignore[method-assign]
    other.per_day = lambda: [(date(1, 1, 1), 3), (date(9999, 12, 31), 4)]  # type: ignore[method-assign]
    assert Comparison(this, other).timeline(10) == (
        "month",
        [("0001-01", 0, 3), ("0999-05", 1, 0), ("2024-01", 2, 0), ("9999-12", 0, 4)],
    )


def test_year_1_and_9999_with_an_offset_are_left_out_of_the_timeline(tmp_path: Path) -> None:
    """They cannot be expressed in UTC (``datetime`` raises OverflowError, not ValueError):
    left out of the chart (the checks report them as out of range), never a crash."""
    records = [
        {"published_at": "0001-01-01T00:00:00+01:00"},
        {"published_at": "9999-12-31T23:59:59-01:00"},
        {"published_at": "2024-01-15T10:00:00+00:00"},
        {"published_at": "2024-03-01T10:00:00+00:00"},
    ]
    report = qa.Report(root=tmp_path, checked_at=datetime(2026, 1, 1, tzinfo=UTC), records=records)
    assert report.timeline(10) == ("month", [("2024-01", 1), ("2024-02", 0), ("2024-03", 1)])
