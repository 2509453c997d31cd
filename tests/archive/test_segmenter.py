"""rjieba (jieba-rs) segments as jieba 0.42.1 does, the reference it replaced (issue 26).

The archive's full-text index and its queries are both cut by rjieba; a database built by
an older release, with jieba, holds jieba's words. So the two must give the same words,
in search mode (the index) and precise mode (the query), without the HMM guesser: on the
project's own Chinese (fixtures, demo and real pages, the seed), and on random mixes of
ideographs, Latin letters, digits, fullwidth forms, punctuation and white space.
"""

from __future__ import annotations

import functools
import json
import logging
import warnings
from pathlib import Path
from types import ModuleType

from hypothesis import example, given, settings
from hypothesis import strategies as st
from lxml import html

from rfi_spider.archive import database_words
from rfi_spider.archive.database_words import simplified

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"


@functools.cache
def reference() -> ModuleType:
    with warnings.catch_warnings():  # jieba imports pkg_resources, deprecated
        warnings.simplefilter("ignore")
        import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def same_words(text: str) -> None:
    jieba = reference()
    rjieba = database_words._segmenter()
    assert rjieba.cut_for_search(text, hmm=False) == list(jieba.cut_for_search(text, HMM=False))
    assert rjieba.cut(text, hmm=False) == list(jieba.cut(text, HMM=False))


def project_texts() -> list[str]:
    """Every text of the fixtures, the demo site, the real pages and the seed."""
    texts: list[str] = []
    pages = [*ROOT.glob("tests/fixtures/**/*.html"), *ROOT.glob("rfi_spider/demo/**/*.html")]
    pages += [*SHARED.glob("realpages/**/*.html")]
    for path in pages:
        texts.append(html.fromstring(path.read_bytes()).text_content())
    for path in ROOT.glob("tests/fixtures/**/*.json"):
        texts.append(json.dumps(json.loads(path.read_text("utf-8")), ensure_ascii=False))
    texts += [path.read_text("utf-8") for path in SHARED.glob("seed/*.txt")]
    return texts


def test_the_projects_chinese_is_cut_as_jieba_cuts_it() -> None:
    texts = project_texts()
    assert len(texts) > 60  # the fixtures were found
    chinese = "".join(texts)
    assert sum("\u4e00" <= char <= "\u9fff" for char in chinese) > 20_000
    for text in texts:
        same_words(text)
        same_words(simplified(text))


ALPHABET = st.sampled_from(
    list("台湾臺灣香港国安法人权中华人民共和国巴黎奥运会圣火的了是在不有和总统赖清德表示")
    + list("abcXYZ019 \n\t.,;:!?-_+#&%@'\"()[]/\\")
    + list("，。！？、「」《》（）：；—…　ＡＢＣ１２３ａｂｃ")
    + ["\u00e9", "\u0301", "\ud55c", "\u3042", "\U0001f600", "\u200b"]
)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.lists(ALPHABET, max_size=120).map("".join))
@example("中华人民共和国")
@example("香港国安法实施以来，人权组织多次批评。")
@example("C++ 和 C# 的 3.14% 与 a-b_c")
def test_random_text_is_cut_as_jieba_cuts_it(text: str) -> None:
    same_words(text)
