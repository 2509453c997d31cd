"""Chinese search: words, one script, queries that are never FTS5 syntax, snippets."""

from __future__ import annotations

import sqlite3
import sys

import pytest

from rfi_spider.archive.database_words import (
    MARK_END,
    MARK_START,
    _is_word,
    index_text,
    match_query,
    snippet,
    words,
)

DOCS = {
    1: "台湾总统赖清德周四表示，台湾海峡的和平至关重要。",
    2: "臺灣的選舉結果公布，台灣民眾關心民主。",
    3: "香港国安法实施以来，人权组织多次批评。",
    4: "香港的经济复苏缓慢，市民对未来的住房、教育和交通都有不同看法，而国安法的影响另当别论。",
    5: '巴黎奥运会的圣火将在希腊点燃。Macron said NEAR the end: "AND" -x*.',
}


@pytest.fixture(scope="module")
def index() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(text, content='', tokenize='unicode61')")
    for rowid, text in DOCS.items():
        db.execute("INSERT INTO t (rowid, text) VALUES (?, ?)", (rowid, index_text(text)))
    return db


def found(index: sqlite3.Connection, query: str) -> set[int]:
    rows = index.execute("SELECT rowid FROM t WHERE t MATCH ?", (match_query(query),))
    return {row[0] for row in rows}


def test_two_character_words_are_words_of_their_own() -> None:
    assert "台湾" in words("台湾总统赖清德周四表示")
    assert {"香港", "人权"} <= set(words("香港国安法实施以来，人权组织"))
    # A long word also gives the words in it (search mode)
    assert {"中华", "人民", "共和国", "中华人民共和国"} <= set(words("中华人民共和国"))


def test_traditional_text_is_indexed_in_simplified() -> None:
    assert words("臺灣") == words("台灣") == words("台湾") == ["台湾"]
    assert "选举" in words("臺灣的選舉結果")


def test_punctuation_and_spaces_are_not_words() -> None:
    assert words('，。！ “”  -*"') == []
    assert words("Macron SAID") == ["macron", "said"]


def test_a_word_is_a_token_with_a_letter_or_digit_of_any_script() -> None:
    """The regular expression says what ``str.isalnum`` says, for every code point
    ("_" and the other connector punctuation that ``\\w`` takes are not words)."""
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert _is_word(char) is char.isalnum(), hex(code)
    assert _is_word("，。2024") and not _is_word("——“_”")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("台湾", {1, 2}),  # a two-character word, both scripts
        ("臺灣", {1, 2}),  # the other script
        ("台灣", {1, 2}),
        ("国安法", {3, 4}),
        ('"香港国安法"', {3}),  # a phrase: the words together
        ("香港 国安法", {3, 4}),  # two terms: both anywhere
        ("台湾 民主", {2}),
        ("macron", {5}),
        ("NEAR", {5}),  # an operator of FTS5, here a word like any other
        ("AND", {5}),
    ],
)
def test_queries_find_what_they_say(
    index: sqlite3.Connection, query: str, expected: set[int]
) -> None:
    assert found(index, query) == expected


ODD_QUERIES = [
    "",
    " ",
    '"',
    '""',
    '"""',
    '"台湾',
    'a"b',
    "*",
    "台湾*",
    "-",
    "-台湾",
    "NEAR",
    "NEAR(",
    "NEAR(台湾 香港, 2)",
    "台湾 NEAR 香港",
    "AND",
    "OR",
    "NOT 台湾",
    "台湾 OR",
    "(",
    ")",
    "^台湾",
    "text:台湾",
    "{text}: 台湾",
    "'",
    "\\",
    "+",
    "🙂",
    "\x00",
    "\ue000台湾\ue001",
    "台" * 500,
]


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_odd_queries_never_error(index: sqlite3.Connection, query: str) -> None:
    expression = match_query(query)
    index.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()
    assert snippet(DOCS[1], query)  # the snippet too


def test_syntax_characters_are_text_around_the_words(index: sqlite3.Connection) -> None:
    assert found(index, "台湾*") == found(index, "-台湾") == found(index, '"台湾') == {1, 2}
    assert found(index, "NOT 台湾") == set()  # "not" is a word no document holds
    assert found(index, "") == found(index, "*") == set()


def test_snippet_marks_matches_in_the_text_as_written() -> None:
    text = "我們在臺灣的朋友說，台灣很好"
    marked = snippet(text, "台湾")
    assert marked == f"我們在{MARK_START}臺灣{MARK_END}的朋友說，{MARK_START}台灣{MARK_END}很好"


def test_snippet_is_a_window_around_the_first_match() -> None:
    text = "前" * 300 + "台湾" + "后" * 300
    marked = snippet(text, "臺灣", width=40)
    assert marked.startswith("…") and marked.endswith("…")
    assert f"{MARK_START}台湾{MARK_END}" in marked
    assert len(marked) < 50


def test_snippet_drops_marks_found_in_the_text() -> None:
    assert snippet(f"a{MARK_START}b{MARK_END}c", "zzz") == "abc"
