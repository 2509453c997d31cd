"""The one module of date rules: UTC exports, Paris days, integer milliseconds."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from rfi_spider import dates


def test_to_ms_takes_a_time_or_its_text_alike() -> None:
    when = datetime(2024, 3, 7, 17, 34, 12, 1000, tzinfo=UTC)
    assert dates.to_ms(when) == dates.to_ms(when.isoformat()) == 1709832852001


def test_to_ms_is_exact_where_floats_are_not() -> None:
    # int(timestamp() * 1000), the old seed-file rule, gives ...034000 for this time
    assert dates.to_ms("2004-01-15T02:00:34.001+00:00") == 1074132034001
    assert dates.to_ms("1969-12-31T23:59:59.999+00:00") == -1


def test_ms_round_trip_in_the_export_format() -> None:
    assert dates.ms_to_iso(1709832852001) == "2024-03-07T17:34:12+00:00"
    assert dates.to_ms(dates.ms_to_iso(1709832852000)) == 1709832852000


@pytest.mark.parametrize(
    ("published", "day"),
    [
        ("2024-03-06T23:30:00+00:00", date(2024, 3, 7)),  # 00:30 in Paris (winter, +1)
        ("2024-07-06T21:59:00+00:00", date(2024, 7, 6)),  # 23:59 in Paris (summer, +2)
        ("2024-07-06T22:00:00+00:00", date(2024, 7, 7)),
    ],
)
def test_an_articles_day_is_its_day_in_paris(published: str, day: date) -> None:
    assert dates.paris_day(published) == day
    assert dates.checked_paris_day(published) == day


def test_page_and_feed_parsers_take_plausible_news_dates_only() -> None:
    assert dates.parse_datetime("2024-03-07T18:34:12+01:00") == datetime(
        2024, 3, 7, 17, 34, 12, tzinfo=UTC
    )
    assert dates.parse_datetime("1999-12-31T23:00:00Z") is None
    assert dates.parse_feed_date("Thu, 07 Mar 2024 17:34:12 GMT") == datetime(
        2024, 3, 7, 17, 34, 12, tzinfo=UTC
    )
    assert dates.parse_feed_date("not a date") is None


@pytest.mark.parametrize("value", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00", 7])
def test_qa_parsers_refuse_times_beyond_utc_and_paris(value: object) -> None:
    assert dates.checked_time(value) is None
    assert dates.checked_paris_day(value) is None


def test_checked_ms_refuses_milliseconds_out_of_range() -> None:
    assert dates.checked_ms(10**20) is None
    assert dates.checked_ms(0) == datetime(1970, 1, 1, tzinfo=UTC)


def test_display_date_is_paris_time() -> None:
    assert dates.paris_date_text("2024-03-06T23:30:00+00:00") == "07/03/2024 - 00:30"
