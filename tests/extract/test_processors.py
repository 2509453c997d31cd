"""The text rules of the item spec, one processor at a time."""

from __future__ import annotations

import pytest

from rfi_spider.dates import paris_date_text
from rfi_spider.extract.processors import (
    clean_text,
    collapse_whitespace,
    decode_entities,
    https_url,
    normalize_datetime,
    not_publisher,
    split_keywords,
    unique,
    valid_date_text,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("法国外交部\n和国防部", "法国外交部和国防部"),  # line break between CJK: removed
        ("法国外交部 \n\t 和国防部", "法国外交部和国防部"),  # the whole run goes
        ("法国外交部  和国防部", "法国外交部 和国防部"),  # no line break: one space
        ("Hello\nworld", "Hello world"),  # Latin: a space
        ("近\n30 个国家", "近 30 个国家"),  # CJK then digit: a space
        ("会议，\n讨论", "会议，讨论"),  # fullwidth punctuation counts as wide
        ("他说：\n“我们有”", "他说：“我们有”"),  # curly quotes count as wide (the spec)
        ("“我们有”\n他说", "“我们有”他说"),
        ("巴黎……\n会议", "巴黎……会议"),
        ("say “hi”\nto", "say “hi” to"),  # a Latin letter on one side: a space
        ("a\u00a0\u00a0b", "a b"),  # non-breaking spaces fold
        ("中\u3000文", "中 文"),  # ideographic space is white space, no line break
        ("  edges  ", "edges"),
        ("", ""),
    ],
)
def test_white_space_rules(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_invisibles_removed_and_nfc() -> None:
    assert clean_text("a\u200bb\ufeffc") == "abc"
    assert clean_text("Se\u0301journe\u0301") == "Séjourné"


def test_entities_are_decoded_once() -> None:
    assert decode_entities("巴黎 &amp; 会议 &#x4E2D;") == "巴黎 & 会议 中"
    # clean_text works on parsed text: what the parser left literal stays literal.
    assert clean_text("AT&amp;T") == "AT&amp;T"


def test_collapse_keeps_single_space() -> None:
    assert collapse_whitespace("a \n b") == "a b"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-07T17:34:12+00:00", "2024-03-07T17:34:12+00:00"),
        ("2024-03-07T17:34:12Z", "2024-03-07T17:34:12+00:00"),
        ("2024-03-07T18:34:12+01:00", "2024-03-07T17:34:12+00:00"),
        ("2024-03-07T17:34:12.123456+00:00", "2024-03-07T17:34:12+00:00"),
        ("2024-03-07 17:34:12", "2024-03-07T17:34:12+00:00"),  # naive: UTC
        ("07/03/2024 - 18:34", None),
        ("0001-01-01T00:00:00+00:00", None),  # absurd years are refused
        ("9999-12-31T00:00:00+00:00", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_datetime(raw: str | None, expected: str | None) -> None:
    assert normalize_datetime(raw) == expected


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        ("2024-03-07T17:34:12+00:00", "07/03/2024 - 18:34"),  # winter: UTC+1
        ("2024-07-14T08:05:00+00:00", "14/07/2024 - 10:05"),  # summer: UTC+2
        ("2023-12-31T23:30:00+00:00", "01/01/2024 - 00:30"),  # next day in Paris
    ],
)
def test_paris_date_text(published: str, expected: str) -> None:
    assert paris_date_text(published) == expected


def test_valid_date_text() -> None:
    assert valid_date_text("07/03/2024 - 18:34") == "07/03/2024 - 18:34"
    assert valid_date_text("发表时间 07/03/2024") is None


def test_split_keywords() -> None:
    assert split_keywords("乌克兰,法国，马克龙") == ["乌克兰", "法国", "马克龙"]
    assert split_keywords(["a", 3, "b"]) == ["a", "b"]
    assert split_keywords(None) == []


def test_publisher_is_not_an_author() -> None:
    assert not_publisher("RFI") is None
    assert not_publisher("rfi") is None
    assert not_publisher("Stéphane Séjourné") == "Stéphane Séjourné"


def test_unique_keeps_first_order() -> None:
    assert unique(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]


def test_image_urls_are_upgraded_to_https() -> None:
    assert https_url("http://s.rfi.fr/a.jpg") == "https://s.rfi.fr/a.jpg"
    assert https_url("https://s.rfi.fr/a.jpg") == "https://s.rfi.fr/a.jpg"
    assert https_url("ftp://s.rfi.fr/a.jpg") is None
    assert https_url("") is None
