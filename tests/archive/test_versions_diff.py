"""The diff of two versions of an article: Chinese by character runs, English by words,
paragraphs aligned, the marks exact, the HTML escaped, the cost bounded."""

from __future__ import annotations

import time

import pytest

from rfi_spider.archive import versions_diff
from rfi_spider.archive.versions_diff import Span


def marked(old: str, new: str) -> str:
    return versions_diff.marked_text(versions_diff.diff_text(old, new))


@pytest.mark.parametrize(
    ("old", "new", "want"),
    [
        # a phrase replaced, a word between kept: no comb of characters matched by chance
        (
            "瑞典正式加入北约",
            "瑞典正式成为北约第32个成员国",
            "瑞典正式[-加入-]{+成为+}北约{+第32个成员国+}",
        ),
        ("习近平会见拜登", "李强会见布林肯", "[-习近平-]{+李强+}会见[-拜登-]{+布林肯+}"),
        # 的 alone between two rewritten phrases is folded into them
        ("他说的话是真的吗", "她写的文章是假的吗", "[-他说的话-]{+她写的文章+}是[-真-]{+假+}的吗"),
        (
            "中国的经济增长放缓",
            "中国的经济增长加速，专家称",
            "中国的经济增长[-放缓-]{+加速，专家称+}",
        ),
        # English and numbers: whole words, the spaces kept
        ("Hello world 2024", "Hello brave world 2025", "Hello {+brave +}world [-2024-]{+2025+}"),
        ("", "新标题", "{+新标题+}"),
        ("旧标题", "", "[-旧标题-]"),
        ("不变", "不变", "不变"),
    ],
)
def test_text_diff_marks_exactly_what_changed(old: str, new: str, want: str) -> None:
    assert marked(old, new) == want


def test_a_word_split_on_spaces_would_mark_the_whole_sentence_this_does_not() -> None:
    spans = versions_diff.diff_text("北京时间周三晚间发生地震", "北京时间周四早上发生强烈地震")
    assert versions_diff.marked_text(spans) == "北京时间周[-三晚间-]{+四早上+}发生{+强烈+}地震"
    # every character of both versions is in the spans, in order
    assert "".join(s.text for s in spans if s.kind != "+") == "北京时间周三晚间发生地震"
    assert "".join(s.text for s in spans if s.kind != "-") == "北京时间周四早上发生强烈地震"


def test_paragraphs_added_removed_and_edited() -> None:
    rows = versions_diff.diff_paragraphs(
        ["一。", "第二段说的是晚间。", "三。"], ["一。", "第二段说的是早上。", "另一句话"]
    )
    assert [(r.kind, r.old, r.new, versions_diff.marked_text(r.spans)) for r in rows] == [
        ("=", 1, 1, "一。"),
        ("~", 2, 2, "第二段说的是[-晚间-]{+早上+}。"),
        ("-", 3, None, "[-三。-]"),
        ("+", None, 3, "{+另一句话+}"),
    ]
    rows = versions_diff.diff_paragraphs(
        ["开头。", "将被删除的段落。", "结尾。"], ["开头。", "结尾。"]
    )
    assert [(r.kind, r.old, r.new) for r in rows] == [("=", 1, 1), ("-", 2, None), ("=", 3, 2)]


def test_item_diff_of_fields_of_other_types_reads_them_as_empty() -> None:
    changes = versions_diff.diff_items(
        {"title": ["not", "text"], "summary": None, "paragraphs": "nor a list"},
        {"title": "标题", "summary": None, "paragraphs": ["段", 3]},
    )
    assert {k: versions_diff.marked_text(v) for k, v in changes.fields.items()} == {
        "title": "{+标题+}"
    }
    assert [versions_diff.marked_text(r.spans) for r in changes.changed_rows] == ["{+段+}"]
    assert versions_diff.diff_items({"title": "a"}, {"title": "a"}).empty


def test_text_marks_make_controls_visible_before_marking_and_colour_only_when_asked() -> None:
    spans = [Span("=", "a\x1b[2J"), Span("-", "b"), Span("+", "c\u202e")]
    visible = lambda text: text.encode("unicode_escape").decode()  # noqa: E731
    assert versions_diff.marked_text(spans, visible) == "a\\x1b[2J[-b-]{+c\\u202e+}"
    coloured = versions_diff.marked_text(spans, visible, colour=True)
    assert coloured == "a\\x1b[2J\x1b[31m[-b-]\x1b[0m\x1b[32m{+c\\u202e+}\x1b[0m"


def test_html_sides_escape_every_piece_and_mark_with_del_and_ins() -> None:
    spans = versions_diff.diff_text(
        '<script>alert("x")</script> & 旧', '<script>alert("y")</script> & 新'
    )
    old = versions_diff.marked_html(spans, "old", str)
    new = versions_diff.marked_html(spans, "new", str)
    both = versions_diff.marked_html(spans, "both", str)
    assert "<script" not in old + new + both
    assert old == "&lt;script&gt;alert(&quot;<del>x</del>&quot;)&lt;/script&gt; &amp; <del>旧</del>"
    assert new == "&lt;script&gt;alert(&quot;<ins>y</ins>&quot;)&lt;/script&gt; &amp; <ins>新</ins>"
    assert "<del>x</del><ins>y</ins>" in both


def test_a_huge_rewrite_is_not_aligned_but_shown_whole_in_bounded_time() -> None:
    # a repeated phrase is difflib's worst case: 3 000 x 3 000 tokens aligned take minutes
    old, new = "甲乙丙" * 1000, "丙乙甲" * 1000
    started = time.process_time()
    spans = versions_diff.diff_text("同" + old + "尾", "同" + new + "尾")
    assert time.process_time() - started < 5
    assert [(s.kind, len(s.text)) for s in spans] == [("=", 1), ("-", 3000), ("+", 3000), ("=", 1)]
