"""The page view's hand-written walks (issue 26) find what the XPath searches they
replaced found: the head's meta tags (``/html/head/meta[@property and @content]``, then
``[@name and @content]``) and the article's root (the nearest ancestor of the title's h1,
below ``<body>``, that holds an element of class ``t-content__body``, the class split as
``normalize-space`` splits it). Markup drawn at random, parsed as the crawl parses it.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml.etree import XPath

from rfi_spider.extract import page as page_module
from rfi_spider.extract import selectors as sel
from rfi_spider.extract.page import ArticlePage, body_holder, head_meta, parse_html

META_PROPERTY = XPath("/html/head/meta[@property and @content]")
META_NAME = XPath("/html/head/meta[@name and @content]")
HOLDS_BODY = XPath(
    "boolean(descendant::*[contains(@class, 't-content__body')]"
    "[contains(concat(' ', normalize-space(@class), ' '), ' t-content__body ')])"
)
DETERMINISTIC = settings(max_examples=400, deadline=None, derandomize=True, database=None)


def meta_by_xpath(root: object) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in META_PROPERTY(root):
        found.setdefault(node.get("property").strip().lower(), node.get("content"))
    for node in META_NAME(root):
        found.setdefault(node.get("name").strip().lower(), node.get("content"))
    return found


def holder_by_xpath(title: object) -> object:
    for ancestor in title.iterancestors():  # type: ignore[attr-defined]
        if ancestor.tag in ("body", "html"):
            break
        if HOLDS_BODY(ancestor):
            return ancestor
    return None


_KEYS = st.sampled_from(["og:title", " OG:Title ", "og:url", "description", "", "x"])
_ATTRS = st.fixed_dictionaries(
    {},
    optional={"property": _KEYS, "name": _KEYS, "content": st.sampled_from(["a", "b", ""])},
)


def _meta(attrs: dict[str, str]) -> str:
    return "<meta " + " ".join(f'{k}="{v}"' for k, v in attrs.items()) + ">"


@DETERMINISTIC
@given(st.lists(_ATTRS, max_size=6), st.lists(_ATTRS, max_size=2), st.booleans())
def test_head_meta_is_the_xpath_searches(
    head: list[dict[str, str]], body: list[dict[str, str]], with_title: bool
) -> None:
    """Metas with and without each attribute, keys in any case and spacing, repeated;
    metas in the body (not read) and a <title> among them."""
    metas = "".join(map(_meta, head))
    title = "<title>t</title>" if with_title else ""
    html = f"<html><head>{title}{metas}</head><body>{''.join(map(_meta, body))}<p>x</p>"
    root = parse_html(html.encode(), "utf-8")
    assert root is not None
    expected = meta_by_xpath(root)
    assert list(head_meta(root).items()) == list(expected.items())
    wanted = {key: value for key, value in expected.items() if key in sel.META_KEYS}
    assert list(head_meta(root, sel.META_KEYS).items()) == list(wanted.items())
    assert ArticlePage(root, "https://www.rfi.fr/cn/x").meta == wanted


# Class attributes: the body's class alone, among others, split by every kind of white
# space (XML's and others: form feed, no-break space), inside a longer name, or another.
_CLASSES = st.sampled_from(
    [
        "t-content__body",
        "t-content__body u-clearfix",
        "x\tt-content__body\n",
        "x\x0ct-content__body",
        "t-content__body\xa0x",
        "t-content__bodyx",
        "t-content__chapo",
        "",
        None,
    ]
)
_TAGS = st.sampled_from(["div", "article", "header", "section", "p", "span"])


@st.composite
def _tree(draw: st.DrawFn, depth: int = 0) -> str:
    tag, classes = draw(_TAGS), draw(_CLASSES)
    attrs = "" if classes is None else f' class="{classes}"'
    children = draw(st.lists(st.just(None), max_size=3 if depth < 3 else 0))
    inner = "".join(draw(_tree(depth + 1)) for _ in children)
    if draw(st.booleans()) and depth < 4:
        inner += "<h1>T</h1>"
    return f"<{tag}{attrs}>{inner}</{tag}>"


@DETERMINISTIC
@given(_tree(), _CLASSES)
def test_body_holder_is_the_xpath_search(markup: str, body_class: str | None) -> None:
    """Every h1 of the page, wherever it sits: the same ancestor, or None."""
    attrs = "" if body_class is None else f' class="{body_class}"'
    html = f"<html><body{attrs}><main>{markup}</main></body></html>"
    root = parse_html(html.encode(), "utf-8")
    assert root is not None
    for title in root.iter("h1"):
        assert body_holder(title) is holder_by_xpath(title)


def test_body_holder_is_the_nearest_ancestor_holding_the_body() -> None:
    root = parse_html(
        b'<html><body><div class="t-content__body"></div><article><header><h1>T</h1>'
        b'</header><div class="x t-content__body">b</div></article></body></html>',
        "utf-8",
    )
    assert root is not None
    title = root.find(".//h1")
    assert body_holder(title) is root.find(".//article")


CLASSED = XPath("descendant-or-self::*[@class]")


def parts_by_xpath(scope: object) -> dict[str, list[object]]:
    """The parts as found before: every element with a class attribute, by XPath, its
    class names looked up one by one."""
    found: dict[str, list[object]] = {role: [] for role in sel.PART_CLASSES}
    for element in CLASSED(scope):
        names = element.get("class").split()
        roles = {
            role for role, classes in sel.PART_CLASSES.items() if not classes.isdisjoint(names)
        }
        for role in roles:
            found[role].append(element)
    return found


_PART_CLASSES = st.sampled_from(
    [
        "t-content__chapo",
        "t-content__body t-content__chapo",
        "m-tags-list__tag\xa0x",
        " t-content__title  a-page-title ",
        "m-from-author__name\x0cm-tags-list__tag",
        "t-content__bodyx",
        "",
        None,
    ]
)


@DETERMINISTIC
@given(st.lists(st.tuples(_TAGS, _PART_CLASSES), max_size=8))
def test_parts_are_the_xpath_walk(elements: list[tuple[str, str | None]]) -> None:
    attrs = ["" if c is None else ' class="' + c + '"' for _, c in elements]
    inner = "".join(f"<{tag}{a}>x</{tag}>" for (tag, _), a in zip(elements, attrs, strict=True))
    html = f'<html><body><article class="t-content">{inner}</article></body></html>'
    root = parse_html(html.encode(), "utf-8")
    assert root is not None
    page = ArticlePage(root, "https://www.rfi.fr/cn/x")
    assert page.parts == parts_by_xpath(page.scope)


def test_the_view_reads_only_meta_keys_it_asks_for() -> None:
    """``page.meta`` holds ``selectors.META_KEYS`` only: a key read but not listed would
    always be missing."""
    source = Path(page_module.__file__).read_text(encoding="utf-8")
    read = set(re.findall(r"self\.meta\.get\(\"([^\"]+)\"\)", source))
    assert read and read <= sel.META_KEYS
