"""Chinese text made searchable with SQLite FTS5: one script, then words.

FTS5 cannot search Chinese by itself: ``unicode61`` takes a whole run of ideographs for
one token, and the ``trigram`` tokenizer matches nothing shorter than three characters,
while most Chinese words (台湾, 香港, 人权) are two. So the text is segmented into words
with jieba's algorithm and dictionary, through rjieba (the Python binding of jieba-rs, the
Rust port: the same words as jieba 0.42.1, which the tests hold it to, at about 1/30 of the
CPU; its dictionary is built in, nothing is downloaded) and indexed as space-separated
words, which ``unicode61`` then takes one by one. Before segmenting,
OpenCC converts traditional characters (the /tw edition's 臺灣, 台灣) to simplified
(台湾), the text and the query alike, so that one query finds both editions.

Both sides use the same segmentation (:func:`words`, jieba's search mode without its
HMM guesser, which would split a name differently depending on its neighbours): the
query's words are looked up as FTS5 strings, each quoted, so no character a user types
(``"``, ``*``, ``-``, ``NEAR``, ``AND``) is ever FTS5 syntax.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when first used: loading it costs time
    import opencc

# Marks around a match in a snippet: private-use characters, removed from the text first,
# that the browser's cell renderer turns into <mark> after escaping everything else.
MARK_START = "\ue000"
MARK_END = "\ue001"
# A query that is valid FTS5 and matches nothing (a query with no word in it).
MATCH_NOTHING = '""'
# Query words closer than this many words apart (per word of the term) match a term.
NEAR_SLACK = 2
_PHRASES = re.compile(r'"([^"]*)"?')
# A letter or a digit of any script: ``\w`` is exactly ``str.isalnum()`` plus "_" (the test
# checks every code point), so this finds what ``any(c.isalnum() for c in token)`` did,
# in one call instead of a generator (about 180 tokens an article).
_WORD_CHAR = re.compile(r"[^\W_]")


@functools.cache
def _converter() -> opencc.OpenCC:
    """OpenCC's Taiwan-standard-to-simplified conversion (built once: it loads tables)."""
    import opencc

    return opencc.OpenCC("tw2s")


@functools.cache
def _segmenter() -> ModuleType:
    """rjieba, imported when first used: its import builds the dictionary (about 0.2 s),
    and every ``scrapy`` command imports this module (``scrapy browse``'s)."""
    import rjieba

    return rjieba


def simplified(text: str) -> str:
    """``text`` in simplified characters, compatibility forms folded (NFKC: fullwidth
    letters and digits become ASCII), and the snippet marks removed."""
    text = unicodedata.normalize("NFKC", text).replace(MARK_START, "").replace(MARK_END, "")
    return _converter().convert(text)


def _is_word(token: str) -> bool:
    """Whether ``token`` holds a letter or a digit (else it is punctuation or space)."""
    return _WORD_CHAR.search(token) is not None


def words(text: str) -> list[str]:
    """The words of ``text`` for the index: simplified, segmented, lower case, no
    punctuation or spaces. A long word also gives the shorter words in it (search mode:
    中华人民共和国 gives 中华, 人民, 共和国 too), so a two-character query finds it."""
    return [
        token.lower()
        for token in _segmenter().cut_for_search(simplified(text), hmm=False)
        if _is_word(token)
    ]


def index_text(text: str | None) -> str:
    """What the FTS5 table holds for ``text``: its words, separated by spaces."""
    return " ".join(words(text)) if text else ""


def _quoted(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _query_words(term: str) -> list[str]:
    """The words of one query term, as the text was cut (precise mode, then unique)."""
    found = [t.lower() for t in _segmenter().cut(simplified(term), hmm=False) if _is_word(t)]
    return list(dict.fromkeys(found))


@functools.lru_cache(maxsize=64)
def _term_words(query: str) -> tuple[str, ...]:
    """Every word of the query, longest first (the snippet of each result looks them up)."""
    found = {word for term in terms(query) for word in term}
    return tuple(sorted(found, key=len, reverse=True))


def terms(query: str) -> list[list[str]]:
    """The query's terms, each a list of words: a quoted part is one term, the rest is
    split on white space. Every other character is text, not syntax."""
    groups: list[str] = []
    position = 0
    for found in _PHRASES.finditer(query):
        groups.extend(query[position : found.start()].split())
        groups.append(found.group(1))
        position = found.end()
    groups.extend(query[position:].split())
    return [found for found in (_query_words(group) for group in groups) if found]


def match_query(query: str | None) -> str:
    """The FTS5 MATCH expression of a user's query: every term must be there (AND);
    a term of several words (国安法 is one, 香港国安法 two) matches those words close
    together (NEAR), in the index's words. Never raises, always valid FTS5."""
    if not query:
        return MATCH_NOTHING
    parts = []
    for found in terms(str(query)):
        if len(found) == 1:
            parts.append(_quoted(found[0]))
        else:
            near = " ".join(_quoted(word) for word in found)
            parts.append(f"NEAR({near}, {NEAR_SLACK * len(found)})")
    return " AND ".join(parts) or MATCH_NOTHING


def _char_simplified(text: str) -> str:
    """``text`` simplified one character at a time: the same length as ``text``, so a
    position found in it is the position in ``text``."""
    converter = _converter()
    whole = converter.convert(text)
    if len(whole) == len(text):  # nearly always: OpenCC maps characters one to one
        return whole
    return "".join(
        (converted if len(converted := converter.convert(char)) == 1 else char) for char in text
    )


def snippet(text: str | None, query: str | None, width: int = 80) -> str:
    """A passage of ``text`` (as written, in its own script) around the query's first
    match, every match in it between :data:`MARK_START` and :data:`MARK_END`; the
    start of the text when nothing matches."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).replace(MARK_START, "").replace(MARK_END, "")
    found = _term_words(query or "")
    folded = "".join(
        lower if len(lower := char.lower()) == 1 else char for char in _char_simplified(text)
    )
    spans: list[tuple[int, int]] = []
    for word in found:
        start = folded.find(word)
        while start != -1:
            end = start + len(word)
            if not any(s < end and start < e for s, e in spans):
                spans.append((start, end))
            start = folded.find(word, end)
    spans.sort()
    begin = max(0, spans[0][0] - width // 4) if spans else 0
    stop = min(len(text), begin + width)
    out = ["…" if begin else ""]
    position = begin
    for start, end in spans:
        if start < begin or end > stop:
            continue
        out += [text[position:start], MARK_START, text[start:end], MARK_END]
        position = end
    out += [text[position:stop], "…" if stop < len(text) else ""]
    return "".join(out)
