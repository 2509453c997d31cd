"""What changed between two versions of an article: title, summary and paragraphs, diffed.

``scrapy versions``, ``scrapy qa`` (its "Edited articles" section and web page) and
``scrapy feed --changes`` all diff through :func:`diff_items` and render with the
functions below, so the three show the same change the same way.

Chinese has no spaces between words, so a diff of words split on spaces would mark whole
sentences. The text is cut into tokens instead: each CJK character (or any other
character that is not a letter or digit) is one token, a run of Latin letters and digits
(a word, a number) is one, a run of white space is one. :class:`difflib.SequenceMatcher`
aligns the tokens (``autojunk`` off: in Chinese, 的 and 。 are frequent but not noise), then
an equality at most half as long as the edits on both of its sides is folded into
them, as diff-match-patch's semantic clean-up does (it folds up to their full length),
so that a rewritten phrase shows as one deletion and one insertion rather than a comb
of single characters that happen to match.
A segmenter (jieba) was the other choice: it would cost a dependency, a dictionary of
tens of MB loaded on every run, and marks that follow its guesses of word boundaries
(names and new terms in the news are what it cuts worst); character runs mark exactly
the characters the site changed.

Time and memory are bounded: a common prefix and suffix are taken off first (an edit is
usually local), and a middle of more than :data:`MAX_CELLS` token pairs is shown as one
deletion and one insertion, not aligned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from html import escape
from typing import Any, Literal

Kind = Literal["=", "-", "+"]
# The fields diffed, in the order shown.
TEXT_FIELDS = ("title", "summary")
# Above this many token pairs (old tokens x new tokens, after the common prefix and
# suffix), a text is not aligned: the middle shows as one deletion and one insertion.
# difflib's cost grows faster than the pairs on repetitive text (1 000 x 1 000 tokens of
# a repeated phrase: 10 s); 500 x 500 is a long paragraph, and at most about a second.
MAX_CELLS = 250_000
# Paragraph blocks of more pairs than this are not searched for similar paragraphs.
MAX_PAIRINGS = 400
# Two paragraphs at least this similar (difflib's ratio) are one paragraph edited;
# below it, one removed and another added.
SIMILAR = 0.5

_TOKEN = re.compile(r"[^\W_]+|\s+|.", re.DOTALL)
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff]")


def tokens(text: str) -> list[str]:
    """``text`` cut into the units the diff aligns (CJK one character a token; see above)."""
    out: list[str] = []
    for match in _TOKEN.finditer(text):
        run = match.group()
        if len(run) > 1 and _CJK.search(run):
            out.extend(_split_cjk(run))
        else:
            out.append(run)
    return out


def _split_cjk(run: str) -> list[str]:
    """A letter run with CJK in it: each CJK character alone, Latin runs kept whole."""
    return [part for part in re.split(f"({_CJK.pattern})", run) if part]


@dataclass(frozen=True)
class Span:
    """A piece of text the same in both versions (``=``), removed (``-``) or added (``+``)."""

    kind: Kind
    text: str


def diff_text(old: str, new: str) -> list[Span]:
    """The spans that turn ``old`` into ``new``; in each change, the deletion comes first."""
    if old == new:
        return [Span("=", old)] if old else []
    a, b = tokens(old), tokens(new)
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    middle_a, middle_b = a[start : len(a) - end], b[start : len(b) - end]
    spans: list[tuple[Kind, str]] = [("=", "".join(a[:start]))]
    if len(middle_a) * len(middle_b) > MAX_CELLS:
        spans += [("-", "".join(middle_a)), ("+", "".join(middle_b))]
    else:
        matcher = SequenceMatcher(None, middle_a, middle_b, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                spans.append(("=", "".join(middle_a[i1:i2])))
                continue
            spans.append(("-", "".join(middle_a[i1:i2])))
            spans.append(("+", "".join(middle_b[j1:j2])))
    spans.append(("=", "".join(a[len(a) - end :])))
    return _fold_short_equalities(_merged(spans))


def _merged(spans: Iterable[tuple[Kind, str]]) -> list[tuple[Kind, str]]:
    """Empty spans dropped; within each change, deletions then insertions, each one span."""
    out: list[tuple[Kind, str]] = []
    deleted, inserted = [], []
    for kind, text in spans:
        if not text:
            continue
        if kind == "-":
            deleted.append(text)
        elif kind == "+":
            inserted.append(text)
        else:
            _flush(out, deleted, inserted)
            if out and out[-1][0] == "=":
                out[-1] = ("=", out[-1][1] + text)
            else:
                out.append(("=", text))
    _flush(out, deleted, inserted)
    return out


def _flush(out: list[tuple[Kind, str]], deleted: list[str], inserted: list[str]) -> None:
    if deleted:
        out.append(("-", "".join(deleted)))
    if inserted:
        out.append(("+", "".join(inserted)))
    deleted.clear()
    inserted.clear()


def _fold_short_equalities(spans: list[tuple[Kind, str]]) -> list[Span]:
    """Each equality between two changes that is at most half as long as the larger edit
    on either side becomes part of both (deleted and inserted again), until none is left:
    a 的 matched by chance inside a rewritten phrase, not a two-character word (会见)
    between two names that were replaced."""
    changed = True
    while changed:
        changed = False
        groups = _groups(spans)
        for index in range(1, len(groups) - 1):
            kind, text = groups[index]
            if kind != "=" or groups[index - 1][0] == "=" or groups[index + 1][0] == "=":
                continue
            before, after = groups[index - 1][1], groups[index + 1][1]
            if 2 * len(text) <= min(max(map(len, before)), max(map(len, after))):
                deleted = before[0] + text + after[0]
                inserted = before[1] + text + after[1]
                groups[index - 1 : index + 2] = [("~", (deleted, inserted))]
                spans = _ungroup(groups)
                changed = True
                break
    return [Span(kind, text) for kind, text in _merged(spans)]


def _groups(spans: list[tuple[Kind, str]]) -> list[tuple[str, Any]]:
    """Spans as ``("=", text)`` and ``("~", (deleted, inserted))`` groups."""
    groups: list[tuple[str, Any]] = []
    for kind, text in spans:
        if kind == "=":
            groups.append(("=", text))
        elif groups and groups[-1][0] == "~":
            deleted, inserted = groups[-1][1]
            groups[-1] = (
                "~",
                (deleted + text, inserted) if kind == "-" else (deleted, inserted + text),
            )
        else:
            groups.append(("~", (text, "") if kind == "-" else ("", text)))
    return groups


def _ungroup(groups: list[tuple[str, Any]]) -> list[tuple[Kind, str]]:
    spans: list[tuple[Kind, str]] = []
    for kind, value in groups:
        if kind == "=":
            spans.append(("=", value))
        else:
            spans += [("-", value[0]), ("+", value[1])]
    return spans


# --- paragraphs ------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One paragraph in the diff: ``=`` unchanged, ``~`` edited, ``-`` removed, ``+`` added.

    ``old`` and ``new`` are its numbers (from 1) in each version; None where it is not.
    """

    kind: Literal["=", "~", "-", "+"]
    old: int | None
    new: int | None
    spans: list[Span]


def _similar(a: str, b: str) -> bool:
    if len(a) * len(b) > MAX_CELLS:
        return False
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return (
        matcher.real_quick_ratio() >= SIMILAR
        and matcher.quick_ratio() >= SIMILAR
        and (matcher.ratio() >= SIMILAR)
    )


def diff_paragraphs(old: Sequence[str], new: Sequence[str]) -> list[Row]:
    """Each paragraph of both versions once, in order: unchanged, edited, removed, added.

    Paragraphs are aligned as whole strings; in a block that changed, a removed paragraph
    and an added one that are at least :data:`SIMILAR` alike are one paragraph edited,
    diffed within.
    """
    rows: list[Row] = []
    matcher = SequenceMatcher(None, list(old), list(new), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [
                Row("=", i + 1, j + 1, [Span("=", old[i])])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
            continue
        j = j1
        search = (i2 - i1) * (j2 - j1) <= MAX_PAIRINGS
        for i in range(i1, i2):
            match = (
                next((k for k in range(j, j2) if _similar(old[i], new[k])), None)
                if search
                else None
            )
            if match is None:
                rows.append(Row("-", i + 1, None, [Span("-", old[i])]))
                continue
            rows += [Row("+", None, k + 1, [Span("+", new[k])]) for k in range(j, match)]
            rows.append(Row("~", i + 1, match + 1, diff_text(old[i], new[match])))
            j = match + 1
        rows += [Row("+", None, k + 1, [Span("+", new[k])]) for k in range(j, j2)]
    return rows


# --- items -----------------------------------------------------------------------
@dataclass
class ItemDiff:
    """What changed from one version to the next: the text fields that changed (name ->
    spans) and the paragraphs (every row, unchanged ones included, for context)."""

    fields: dict[str, list[Span]] = field(default_factory=dict)
    paragraphs: list[Row] = field(default_factory=list)

    @property
    def changed_rows(self) -> list[Row]:
        return [row for row in self.paragraphs if row.kind != "="]

    @property
    def empty(self) -> bool:
        return not self.fields and not self.changed_rows


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _paragraphs(value: Any) -> list[str]:
    return [p for p in value if isinstance(p, str)] if isinstance(value, list) else []


def diff_items(old: Mapping[str, Any], new: Mapping[str, Any]) -> ItemDiff:
    """The diff of two versions of an item (dicts of ``docs/item-spec.md``'s fields):
    title and summary as text, paragraphs one by one. A field of another type than the
    spec's reads as empty (a hostile line is shown, never a crash)."""
    result = ItemDiff()
    for name in TEXT_FIELDS:
        before, after = _text(old.get(name)), _text(new.get(name))
        if before != after:
            result.fields[name] = diff_text(before, after)
    result.paragraphs = diff_paragraphs(
        _paragraphs(old.get("paragraphs")), _paragraphs(new.get("paragraphs"))
    )
    return result


# --- rendering -------------------------------------------------------------------
# ANSI colours of a terminal: deletions red, insertions green.
_COLOURS = {"-": ("\x1b[31m", "\x1b[0m"), "+": ("\x1b[32m", "\x1b[0m")}
MARKS = {"-": ("[-", "-]"), "+": ("{+", "+}")}


def marked_text(spans: Iterable[Span], visible: Any = str, colour: bool = False) -> str:
    """The spans as text: ``[-deleted-]{+inserted+}``, the markers always there (and, with
    ``colour``, deletions red and insertions green). ``visible`` makes each piece safe to
    print (``qa.visible``: control characters as escapes) before any mark is added."""
    out = []
    for span in spans:
        text = visible(span.text)
        if span.kind == "=":
            out.append(text)
            continue
        start, end = MARKS[span.kind]
        marked = f"{start}{text}{end}"
        if colour:
            on, off = _COLOURS[span.kind]
            marked = f"{on}{marked}{off}"
        out.append(marked)
    return "".join(out)


def marked_html(spans: Iterable[Span], side: Literal["old", "new", "both"], safe: Any) -> str:
    """The spans as HTML: ``old`` shows what was there (deletions in ``<del>``), ``new`` what
    is there now (insertions in ``<ins>``), ``both`` every span in one text. ``safe`` turns a
    piece of text into characters fit for the page (control characters made visible or
    removed); every piece is then escaped, quotes too."""
    out = []
    for span in spans:
        if (span.kind == "-" and side == "new") or (span.kind == "+" and side == "old"):
            continue
        text = escape(safe(span.text), quote=True)
        if span.kind == "=":
            out.append(text)
        else:
            tag = "del" if span.kind == "-" else "ins"
            out.append(f"<{tag}>{text}</{tag}>")
    return "".join(out)
