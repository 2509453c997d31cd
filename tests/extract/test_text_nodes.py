"""``visible_texts`` gives the text ``selectors.TEXT`` gives, for every element of pages
drawn at random: scripts and styles in, around and as the element, comments, processing
instructions, entities, tails, empty elements."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from rfi_spider.extract import selectors as sel
from rfi_spider.extract.body_filters import has_some_text
from rfi_spider.extract.page import parse_html
from rfi_spider.extract.text_nodes import visible_texts

_TEXTS = st.sampled_from(["", "a", " ", "中文", "&amp;", "\u200b", "<!-- c -->", "<?pi x?>"])
_TAGS = st.sampled_from(["p", "span", "b", "div", "script", "style", "br", "h1", "a"])


@st.composite
def _markup(draw: st.DrawFn, depth: int = 0) -> str:
    pieces = [draw(_TEXTS)]
    for _ in range(draw(st.integers(0, 3 if depth < 3 else 0))):
        tag = draw(_TAGS)
        pieces.append(f"<{tag}>{draw(_markup(depth + 1))}</{tag}>{draw(_TEXTS)}")
    return "".join(pieces)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(_markup(), _markup())
def test_visible_texts_are_the_xpath_ones(head: str, body: str) -> None:
    root = parse_html(f"<html><head>{head}</head><body>{body}</body></html>".encode(), "utf-8")
    assert root is not None
    for element in root.iter():
        expected = list(sel.TEXT(element))
        found = list(visible_texts(element))
        assert "".join(found) == "".join(expected)
        assert any(map(has_some_text, found)) == any(map(has_some_text, expected))


def test_text_inside_a_script_is_not_text() -> None:
    root = parse_html(
        b"<html><body><p>a<script>s</script>b<style>x</style></p></body></html>", "utf-8"
    )
    assert root is not None
    assert "".join(visible_texts(root.find(".//p"))) == "ab"
    assert list(visible_texts(root.find(".//script"))) == []


def test_an_element_inside_a_script_has_no_text() -> None:
    """The parser never nests an element in a script or style, but a tree built otherwise
    can: the XPath's rule (no script or style ancestor) holds there too."""
    root = etree.Element("html")
    style = etree.SubElement(etree.SubElement(root, "body"), "style")
    inner = etree.SubElement(style, "p")
    inner.text = "not text"
    assert list(sel.TEXT(inner)) == []
    assert list(visible_texts(inner)) == []
