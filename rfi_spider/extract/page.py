"""One parsed article page, read once: the lxml tree, its meta tags and its JSON-LD.

Each field of the item is a small method over this view that returns its
candidates in the spec's order of fallbacks; the loader cleans them and keeps
the first that survives. Nothing here parses the page a second time.
:class:`ArticleView` is what the loader reads: a feed mirror's entry offers
the same methods (``entrypage.py``), so both go through one extraction path.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from functools import cached_property, lru_cache
from typing import Any, Protocol

from lxml import etree
from lxml.etree import _Element as HtmlElement
from scrapy.http import TextResponse

from rfi_spider.extract import jsonld
from rfi_spider.extract import selectors as sel
from rfi_spider.extract.body import Body, extract_body
from rfi_spider.extract.body_html import absolute_http_url
from rfi_spider.extract.images import lead_image_urls
from rfi_spider.extract.processors import clean_text, decode_entities

logger = logging.getLogger(__name__)

# Each part class's roles: a dict look-up a class, not a set test a role.
_ROLES: dict[str, tuple[str, ...]] = {}
for _role, _names in sel.PART_CLASSES.items():
    for _name in _names:
        _ROLES[_name] = (*_ROLES.get(_name, ()), _role)


@lru_cache(maxsize=4096)
def roles_of_classes(classes: str) -> tuple[str, ...]:
    """The part roles a class attribute gives, each once (an element of two roles is in
    both lists). Cached: the site's templates repeat the same attributes on every page."""
    return tuple(dict.fromkeys(role for name in classes.split() for role in _ROLES.get(name, ())))


_PARSERS: dict[str, etree.HTMLParser] = {}


def parse_html(body: bytes, encoding: str) -> HtmlElement | None:
    """Parse a page once, straight from its bytes; None for a page with no markup.

    A plain ``lxml.etree.HTMLParser`` (comments dropped, libxml2's size limits
    kept) on the response's bytes: no text decode and re-encode, no
    ``lxml.html`` element classes. One parser per encoding, reused.
    """
    parser = _PARSERS.get(encoding)
    if parser is None:
        try:
            parser = etree.HTMLParser(encoding=encoding, remove_comments=True)
        except LookupError:  # an encoding lxml does not know
            parser = etree.HTMLParser(encoding="utf-8", remove_comments=True)
        _PARSERS[encoding] = parser
    try:
        return etree.fromstring(body, parser)
    except etree.XMLSyntaxError:  # an empty document
        return None


def head_meta(root: HtmlElement, keys: frozenset[str] | None = None) -> dict[str, str]:
    """The ``/html/head/meta`` tags with ``content``: those with ``property`` first, then
    those with ``name``, each key (stripped, lower-case) the first time it comes.

    One pass over the head's children, not two XPath searches: an XPath test of an
    attribute builds its string value, element by element (issue 26). With ``keys``, only
    those: the ``content`` of the others is not read (a head holds about twenty meta tags,
    the page view reads five; each attribute read is a string decoded).
    """
    document = root.getroottree().getroot()
    by_property: list[tuple[str, str]] = []
    by_name: list[tuple[str, str]] = []
    if document.tag == "html":
        for head in document.iterchildren("head"):
            for node in head.iterchildren(sel.META_TAG):
                prop = _meta_key(node.get("property"), keys)
                name = _meta_key(node.get("name"), keys)
                if prop is None and name is None:
                    continue
                content = node.get("content")
                if content is None:
                    continue
                if prop is not None:
                    by_property.append((prop, content))
                if name is not None:
                    by_name.append((name, content))
    found: dict[str, str] = {}
    for key, content in (*by_property, *by_name):
        found.setdefault(key, content)
    return found


def _meta_key(key: str | None, keys: frozenset[str] | None) -> str | None:
    """A meta tag's key, stripped and in lower case; None when it has none or is not wanted."""
    if key is None:
        return None
    key = key.strip().lower()
    return key if keys is None or key in keys else None


# A class attribute that names the body, split as XPath's ``normalize-space`` splits it.
_BODY_CLASS = re.compile(rf"(?:^|[ \t\r\n]){re.escape(sel.BODY_CLASS)}(?:[ \t\r\n]|\Z)")


def _is_body(element: HtmlElement) -> bool:
    classes = element.get("class")
    return classes is not None and sel.BODY_CLASS in classes and bool(_BODY_CLASS.search(classes))


def body_holder(title: HtmlElement) -> HtmlElement | None:
    """The nearest ancestor of ``title``, below ``<body>``, that holds a body element.

    Each ancestor's subtree holds the previous one's, so only what is new is searched
    (the previous ancestor itself and its siblings' subtrees), in document order, up to
    the first body element: the header before it, not the whole article (issue 26).
    """
    searched = None
    for ancestor in title.iterancestors():
        if ancestor.tag in ("body", "html"):
            return None
        if searched is not None and _is_body(searched):
            return ancestor
        for child in ancestor.iterchildren(etree.Element):
            if child is not searched and any(map(_is_body, child.iter(etree.Element))):
                return ancestor
        searched = ancestor
    return None


def first(nodes: list[Any]) -> Any:
    """The first node, or None."""
    return nodes[0] if nodes else None


def text_of(element: HtmlElement | None) -> str | None:
    """All text of an element (not of its scripts and styles); None for no element."""
    if element is None:
        return None
    return "".join(sel.TEXT(element))


def _usable_src(value: str | None) -> bool:
    """An image address worth resolving (not empty, not an inline data: placeholder)."""
    return bool(value) and not value.startswith("data:")  # type: ignore[union-attr]


class ArticleView(Protocol):
    """The candidates of each field, in the spec's order; ``url`` is the article's site URL."""

    url: str

    @property
    def body(self) -> Body: ...
    def canonical_urls(self) -> list[str]: ...
    def titles(self) -> list[str | None]: ...
    def published(self) -> list[str | None]: ...
    def modified(self) -> list[str | None]: ...
    def date_texts(self) -> list[str | None]: ...
    def lead_images(self) -> list[str | None]: ...

    def summaries(self) -> list[str | None]: ...
    def sections(self) -> list[str | None]: ...
    def page_tags(self) -> list[str | None]: ...
    def ld_keywords(self) -> str | list[str] | None: ...
    def page_authors(self) -> list[str | None]: ...
    def ld_authors(self) -> list[str]: ...
    def audio_urls(self) -> Iterable[str]: ...


class ArticlePage:
    """A read-only view of an article page; ``url`` is the site URL it was fetched as."""

    def __init__(self, root: HtmlElement, url: str) -> None:
        self.root = root
        self.url = url
        self.json_ld_errors = 0

    @classmethod
    def from_response(cls, response: TextResponse, url: str) -> ArticlePage | None:
        """The page of a response (parsed once, from its bytes); None when it is empty."""
        return cls.from_bytes(response.body, response.encoding, url)

    @classmethod
    def from_bytes(cls, body: bytes, encoding: str, url: str) -> ArticlePage | None:
        """The page of an HTML document's bytes; None when it is empty."""
        root = parse_html(body, encoding)
        return None if root is None else cls(root, url)

    # --- shared views -------------------------------------------------------
    @cached_property
    def meta(self) -> dict[str, str]:
        """``property`` and ``name`` meta tags the view reads (``selectors.META_KEYS``);
        the first of each key wins."""
        return head_meta(self.root, sel.META_KEYS)

    @cached_property
    def _landmarks(self) -> tuple[HtmlElement | None, HtmlElement | None, list[str]]:
        """One walk of the page: the article element, the title's h1, the JSON-LD scripts."""
        article = title = None
        scripts = []
        title_classes = sel.PART_CLASSES["title"]
        for element in self.root.iter(sel.ARTICLE_TAG, sel.TITLE_TAG, "script"):
            tag = element.tag
            if tag == "script":
                if (element.get("type") or "").strip().lower() == sel.JSON_LD_TYPE and element.text:
                    scripts.append(element.text)
            elif tag == sel.TITLE_TAG:
                if title is None and not title_classes.isdisjoint(
                    (element.get("class") or "").split()
                ):
                    title = element
            elif article is None and sel.ARTICLE_CLASS in (element.get("class") or "").split():
                article = element
        return article, title, scripts

    @cached_property
    def json_ld(self) -> list[dict[str, Any]]:
        """Every JSON-LD object of the page, ``@graph`` members flattened.

        A script that does not parse, for whatever reason (bad syntax, nesting
        100,000 deep: ``RecursionError``), is ignored and counted in
        :attr:`json_ld_errors`; lone surrogates are removed from what does parse.
        """
        objects: list[dict[str, Any]] = []
        for text in self._landmarks[2]:
            try:
                objects.extend(jsonld.objects_of(text))
            except Exception:  # any failure: not usable JSON-LD
                self.json_ld_errors += 1
        return objects

    @cached_property
    def news_article(self) -> dict[str, Any]:
        """The JSON-LD NewsArticle (or Article) object, or an empty dict."""
        return jsonld.news_article_of(self.json_ld)

    def ld(self, key: str) -> list[str]:
        """Decoded strings of a NewsArticle key."""
        return [decode_entities(s) for s in jsonld.ld_strings(self.news_article.get(key))]

    @cached_property
    def article(self) -> HtmlElement | None:
        """The article root: the nearest ancestor of the title's h1 that holds the body.

        The wrapper's tag and classes vary (``article.t-content``, ``div.t-content--article``
        around ``article.t-content__article-wrapper``, a bare ``<article>``), so the root is
        found by what it holds. Without such an h1, the first ``article.t-content``.
        """
        fallback, title, _ = self._landmarks
        if title is None:
            return fallback
        holder = body_holder(title)
        if holder is not None:
            return holder
        if fallback is not None:
            return fallback
        # No body anywhere near the title: the h1's nearest article-like wrapper, if any.
        for ancestor in title.iterancestors(sel.ARTICLE_TAG):
            return ancestor
        return None

    @cached_property
    def scope(self) -> HtmlElement:
        """Where article markup is looked for: the article root, else the page."""
        return self.article if self.article is not None else self.root

    @cached_property
    def parts(self) -> dict[str, list[HtmlElement]]:
        """The article's parts by role (``selectors.PART_CLASSES``), in page order: one walk
        of the scope's elements (lxml's iterator: an XPath ``[@class]`` search costs four
        times as much), each class attribute's roles looked up by its whole string."""
        found: dict[str, list[HtmlElement]] = {role: [] for role in sel.PART_CLASSES}
        for element in self.scope.iter(etree.Element):
            classes = element.get("class")
            if classes is not None:
                for role in roles_of_classes(classes):
                    found[role].append(element)
        return found

    def inside(self, role: str, tag: str) -> list[HtmlElement]:
        """The ``tag`` elements inside the parts of a role, in page order, each once."""
        return list(dict.fromkeys(e for part in self.parts[role] for e in part.iter(tag)))

    @cached_property
    def body(self) -> Body:
        """The body; with no chapo, its opening bold paragraph is the lead (``summary``)."""
        has_chapo = bool(clean_text(text_of(first(self.parts["chapo"]))))
        return extract_body(first(self.parts["body"]), self.url, take_lead=not has_chapo)

    @cached_property
    def publication_times(self) -> list[HtmlElement]:
        return self.inside("dates", "time")

    # --- candidates per field, in the spec's order --------------------------
    def canonical_urls(self) -> list[str]:
        """The URL fetched (requested, or the site's redirect target): a page cannot
        name another article as itself (see :meth:`claimed_urls`)."""
        return [self.url]

    def claimed_urls(self) -> list[tuple[str, str]]:
        """What the page says its URL is: ``("canonical", href)``, ``("og:url", content)``."""
        claims = [("canonical", str(href)) for href in sel.CANONICAL(self.root)[:1]]
        og_url = self.meta.get("og:url")
        if og_url:
            claims.append(("og:url", og_url))
        return [(name, value.strip()) for name, value in claims if value and value.strip()]

    def titles(self) -> list[str | None]:
        return [
            text_of(first([e for e in self.parts["title"] if e.tag == "h1"])),
            *self.ld("headline"),
            self.meta.get("og:title"),
        ]

    def published(self) -> list[str | None]:
        times = self.publication_times
        return [
            *self.ld("datePublished"),
            self.meta.get("article:published_time"),
            times[0].get("datetime") if times else None,
        ]

    def modified(self) -> list[str | None]:
        times = self.publication_times
        return [
            *self.ld("dateModified"),
            self.meta.get("article:modified_time"),
            times[1].get("datetime") if len(times) > 1 else None,
        ]

    def date_texts(self) -> list[str | None]:
        times = self.publication_times
        return [text_of(times[0])] if times else []

    def lead_images(self) -> list[str | None]:
        """The main media's best picture; else og:image; else JSON-LD's (each only when
        needed)."""
        found = lead_image_urls([first(self.inside("main_media", "img"))], self.url)
        if found:
            return list(found)
        fallbacks = (lambda: [self.meta.get("og:image")], lambda: self.ld("image"))
        for fallback in fallbacks:  # JSON-LD is only read when og:image gave nothing
            resolved = (absolute_http_url(c, self.url) for c in fallback() if _usable_src(c))
            urls: list[str | None] = [url for url in resolved if url]  # not http(s): left out
            if urls:
                return urls
        return []

    def summaries(self) -> list[str | None]:
        return [text_of(first(self.parts["chapo"])), self.body.lead]

    def sections(self) -> list[str | None]:
        declared: list[str | None] = [s for s in self.ld("articleSection")[:1] if clean_text(s)]
        if declared:  # the breadcrumb is only a fallback: do not look for it
            return declared
        crumbs = sel.BREADCRUMB(self.scope) or sel.BREADCRUMB(self.root)
        return [text_of(crumbs[-1])] if crumbs else []

    def page_tags(self) -> list[str | None]:
        return [text_of(tag) for tag in self.parts["tag"]]

    def ld_keywords(self) -> str | list[str] | None:
        value = self.news_article.get("keywords")
        if isinstance(value, str):
            return decode_entities(value)
        if isinstance(value, list):
            return [decode_entities(v) for v in value if isinstance(v, str)]
        return None

    def page_authors(self) -> list[str | None]:
        blocks = set(self.parts["author_block"])
        return [
            text_of(name)
            for name in self.parts["author"]
            if not blocks.isdisjoint(name.iterancestors())
        ]

    def ld_authors(self) -> list[str]:
        return self.ld("author")

    def audio_urls(self) -> Iterator[str]:
        audio = self.news_article.get("audio")
        for item in audio if isinstance(audio, list) else [audio]:
            if isinstance(item, dict) and isinstance(item.get("contentUrl"), str):
                url = absolute_http_url(item["contentUrl"], self.url)
                if url:
                    yield url
