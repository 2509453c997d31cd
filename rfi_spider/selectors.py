"""Every selector of the project, compiled once at import.

When the live site changes its markup, this is the one file to edit. Each
field has several paths (JSON-LD, meta tags, CSS) so that one change degrades
one path, not the crawl; the order of fallbacks lives in ``page.py``.
"""

from __future__ import annotations

from cssselect import HTMLTranslator
from lxml.etree import XPath

_TRANSLATOR = HTMLTranslator()


def css(expression: str) -> XPath:
    """Compile a CSS selector to an lxml XPath evaluator (relative to the node given)."""
    return XPath(_TRANSLATOR.css_to_xpath(expression, prefix="descendant-or-self::"))


# --- document head ---------------------------------------------------------
CANONICAL = XPath("//link[@rel='canonical']/@href")
META_PROPERTY = XPath("//meta[@property and @content]")
META_NAME = XPath("//meta[@name and @content]")
JSON_LD = XPath("//script[@type='application/ld+json']/text()")

# --- article page ----------------------------------------------------------
ARTICLE = css("article.t-content")
TITLE = css("h1.t-content__title, h1.a-page-title")
CHAPO = css("p.t-content__chapo, .t-content__chapo")
PUBLICATION_TIMES = css(".t-content__dates .m-pub-dates__date time, .m-pub-dates__date time")
MAIN_MEDIA_IMAGE = css(
    ".t-content__main-media figure.m-figure picture img, .t-content__main-media img"
)
AUTHORS = css(".t-content__authors-tts .m-from-author__name")
BODY = css("div.t-content__body, .t-content__body")
TAGS = css(".m-tags-list__tag")
BREADCRUMB = css(".m-breadcrumb__list__item__link, .m-breadcrumb a")

# Parts of the body that are not the article (classes and tags, the spec's list).
BODY_SKIP_CLASSES = frozenset({"o-self-promo", "m-interstitial", "m-block-ad"})
BODY_SKIP_TAGS = frozenset(
    {"figure", "script", "style", "noscript", "iframe", "aside", "form", "svg"}
    # Not text either, and never wanted in body_html.
    | {"template", "object", "embed", "button", "input", "select", "textarea", "canvas"}
    | {"video", "audio", "picture", "img", "head", "title", "meta", "link", "math"}
)
# Elements that each make one entry of ``paragraphs``.
TEXT_BLOCKS = frozenset({"p", "h2", "h3", "h4", "li", "blockquote"})
# Blocks that give way to their inner ``p`` (the spec's "blockquote without inner p").
TEXT_BLOCK_CONTAINERS = frozenset({"blockquote", "li"})
# What body_html keeps; every other element is unwrapped.
BODY_HTML_TAGS = frozenset(
    {"p", "h2", "h3", "h4", "blockquote", "ul", "ol", "li", "strong", "b", "em", "i", "a", "br"}
)

# --- listing pages ---------------------------------------------------------
# Every link of a listing, minus the sponsored and highlighted asides.
LISTING_LINKS = XPath(
    "//a[@href][not(ancestor::aside[@data-org-type='aside-content--sponsors'"
    " or @data-org-type='aside-content--highlighted'])]/@href"
)

# --- feeds (RSS 2.0 and Atom) ---------------------------------------------
FEED_LINKS = XPath(
    "//*[local-name()='item']/*[local-name()='link']/text()"
    " | //*[local-name()='entry']/*[local-name()='link'][not(@rel) or @rel='alternate']/@href"
)

# --- blocked pages (the browser fallback) -----------------------------------
# Markup that only a real page of the site has, as CSS for the browser to wait for.
ARTICLE_MARKUP_CSS = "article.t-content"
LISTING_MARKUP_CSS = ".m-item-list-article, a[data-article-item-link]"
# Any page in the site's own layout (its error pages too): not a challenge.
SITE_LAYOUT_CSS = "main.o-layout"
SITE_MARKUP = css(f"{ARTICLE_MARKUP_CSS}, {LISTING_MARKUP_CSS}, {SITE_LAYOUT_CSS}")
# What the browser waits for, by request kind (``rfi_kind``), before the page is read.
BROWSER_WAIT_FOR = {
    "article": f"{ARTICLE_MARKUP_CSS}, {SITE_LAYOUT_CSS}",
    "listing": f"{LISTING_MARKUP_CSS}, {SITE_LAYOUT_CSS}",
}
# A challenge page: no site markup, and one of these in its title (lower-cased) ...
PAGE_TITLE = XPath("string(//title)")
CHALLENGE_TITLES = (
    "just a moment",  # Cloudflare
    "attention required",  # Cloudflare
    "checking your browser",
    "verifying you are human",
    "please wait",
    "one more step",
    "access denied",  # Akamai
    "pardon our interruption",  # Imperva / Distil
    "ddos-guard",
    "security check",
)
# ... or one of these in a script, iframe or form (source URL or inline code, lower-cased).
CHALLENGE_RESOURCES = XPath("//script/@src | //script/text() | //iframe/@src | //form/@action")
CHALLENGE_MARKERS = (
    "/cdn-cgi/challenge-platform/",  # Cloudflare
    "challenges.cloudflare.com",
    "captcha-delivery.com",  # DataDome
    "_incapsula_resource",  # Imperva
    "/_sec/cp_challenge",  # Akamai
    "px-captcha",  # PerimeterX / HUMAN
    "hcaptcha.com",
    "ddos-guard",
)
