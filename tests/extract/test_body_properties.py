"""Properties of the body walk (issue 27), with Hypothesis: markup is drawn at random.

- Whatever nesting of empty paragraphs, spans and emphasis wraps a caption typed under an
  embed (small print, or centred italics), the caption reaches neither ``paragraphs`` nor
  ``body_html``; the paragraphs around it stay.
- Whatever wraps ordinary paragraphs (blocks, spans, emphasis, bold, empty paragraphs
  between, embeds before them), each one's text is kept once, in order, in both.

Pages are parsed as the crawl parses them (``parse_html``: libxml2, which repairs a ``<p>``
nested in a ``<p>`` into siblings). Fast and deterministic for CI: a fixed number of
examples, derandomised, no example database, no deadline.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rfi_spider.extract.body import extract_body
from rfi_spider.extract.page import parse_html

BASE = "https://www.rfi.fr/cn/国际/20240307-x"
DETERMINISTIC = settings(max_examples=150, deadline=None, derandomize=True, database=None)

EMBEDS = [
    '<div class="m-em-image"><figure class="m-figure"><img src="a.jpg"></figure></div>',
    '<div class="m-em-flash"><iframe src="https://v.example/e"></iframe></div>',
    '<figure class="m-figure"><img src="b.jpg"><figcaption class="a-figcaption"></figcaption>'
    "</figure>",
    '<p><img src="c.jpg"></p>',
    '<div class="twitter-tweet-wrapper"><iframe src="https://t.example/1"></iframe></div>',
]
# What editors leave between an embed and its caption, or between paragraphs.
EMPTIES = [
    "<p></p>",
    "<p>&nbsp;</p>",
    "<p><br></p>",
    "<br>",
    "<p>\u200b</p>",
    "<span> </span>",
    '<p class="rtecenter">&nbsp;</p>',
    "<div>\n</div>",
]
BLOCKS = ["p", "p", "div"]  # wrappers of a paragraph's block (two p: a p nested in a p)
INLINES = ["span", '<span style="color:#333">', "em", "i", "strong", "b", "u"]
SMALL = ["small", '<span style="font-size:smaller">', '<span style="font-size: small;">']
ITALIC = ["em", "i", '<span style="font-style:italic">']
CENTRED = ['<p class="rtecenter">', '<p style="text-align: center;">', '<div align="center">']
# Text: no white space, markup characters or the markers that number the paragraphs.
TEXT = st.text(alphabet="中文字幕说明图片视频巴黎北京abcXYZ0189，。“”", min_size=1, max_size=12)


def wrap(text: str, wrappers: list[str]) -> str:
    """``text`` inside ``wrappers``, outermost first (a tag name, or an opening tag)."""
    opened = [w if w.startswith("<") else f"<{w}>" for w in wrappers]
    names = [o[1:].split(">")[0].split()[0] for o in opened]
    return "".join(opened) + text + "".join(f"</{n}>" for n in reversed(names))


def walk(body: str):
    page = f'<html><body><div class="t-content__body">{body}</div></body></html>'
    root = parse_html(page.encode(), "utf-8")
    element = root.xpath("//div[@class='t-content__body']")[0]
    return extract_body(element, BASE)


@st.composite
def captions(draw: st.DrawFn) -> str:
    """A caption's markup: blocks, then inline wrappers, with its marker somewhere among
    them: small print, or italics inside a centred block."""
    text = "图说" + draw(TEXT)
    blocks = draw(st.lists(st.sampled_from(BLOCKS), max_size=2))
    inlines = draw(st.lists(st.sampled_from(INLINES), max_size=3))
    if draw(st.booleans()):
        inlines.insert(draw(st.integers(0, len(inlines))), draw(st.sampled_from(SMALL)))
    else:
        blocks.insert(0, draw(st.sampled_from(CENTRED)))
        inlines.insert(draw(st.integers(0, len(inlines))), draw(st.sampled_from(ITALIC)))
    return wrap(text, blocks + inlines)


@given(
    embeds=st.lists(st.sampled_from(EMBEDS), min_size=1, max_size=2),
    runs=st.lists(
        st.tuples(st.lists(st.sampled_from(EMPTIES), max_size=3), captions()),
        min_size=1,
        max_size=2,
    ),
    after=st.lists(st.sampled_from(EMPTIES), max_size=2),
)
@DETERMINISTIC
def test_a_caption_under_an_embed_is_dropped_whatever_wraps_it(
    embeds: list[str], runs: list[tuple[list[str], str]], after: list[str]
) -> None:
    caption_markup = "".join("".join(empties) + caption for empties, caption in runs)
    body = "<p>〔前〕</p>" + "".join(embeds) + caption_markup + "".join(after) + "<p>〔后〕</p>"
    result = walk(body)
    assert result.paragraphs == ["〔前〕", "〔后〕"], body
    assert result.html.replace("<br>", "") == "<p>〔前〕</p><p>〔后〕</p>", body  # a bare br


@st.composite
def paragraphs(draw: st.DrawFn, index: int) -> tuple[str, str]:
    """An ordinary paragraph (its text, numbered; its markup): blocks, the innermost a
    ``p`` (text in a bare div is no paragraph, by the spec), any inline wrappers but small
    print; centred or italic, not both (that is a caption's mark under an embed)."""
    text = f"〔{index}〕" + draw(TEXT)
    blocks = [*draw(st.lists(st.sampled_from(BLOCKS), max_size=2)), "p"]  # text in a p
    inlines = draw(st.lists(st.sampled_from(INLINES), max_size=3))
    if draw(st.booleans()):
        blocks.insert(0, draw(st.sampled_from(CENTRED)))
        inlines = [i for i in inlines if i not in ("em", "i")]
    before = draw(st.lists(st.sampled_from(EMPTIES + EMBEDS), max_size=3))
    return text, "".join(before) + wrap(text, blocks + inlines)


@given(st.integers(1, 5).flatmap(lambda n: st.tuples(*(paragraphs(i) for i in range(n)))))
@DETERMINISTIC
def test_an_ordinary_paragraph_is_kept_once_and_in_order(drawn: tuple[tuple[str, str]]) -> None:
    texts = [text for text, _ in drawn]
    body = "".join(markup for _, markup in drawn)
    result = walk(body)
    assert result.paragraphs == texts, body
    for text in texts:
        assert result.html.count(text) == 1, body
    positions = [result.html.index(text) for text in texts]
    assert positions == sorted(positions), body
