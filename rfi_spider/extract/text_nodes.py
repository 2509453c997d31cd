"""The text of an element, not of the scripts and styles in or around it.

What ``selectors.TEXT`` (``.//text()[not(ancestor::script or ancestor::style)]``) gives,
joined or tested the same: that XPath walks every text node's ancestors up to the root,
twice, and costs an XPath context a call, a few µs each, for the title, the dates, the
chapo, the tags, the bylines and the body's tests of its paragraphs (issue 26). When
neither the element, its ancestors nor its subtree is a script or a style, which is
nearly always, every text node counts: lxml's ``itertext`` gives them, in document
order, adjacent ones joined. Otherwise the XPath decides.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml.etree import _Element

from rfi_spider.extract import selectors as sel


def visible_texts(element: _Element) -> Iterable[str]:
    """The element's text outside scripts and styles, in document order (its tail not
    included); adjacent text nodes may come joined."""
    tag = element.tag
    if (
        isinstance(tag, str)
        and tag not in sel.HIDDEN_TEXT_TAGS
        and next(element.iterancestors(*sel.HIDDEN_TEXT_TAGS), None) is None
        and next(element.iterdescendants(*sel.HIDDEN_TEXT_TAGS), None) is None
    ):
        return element.itertext()
    return sel.TEXT(element)  # type: ignore[no-any-return]
