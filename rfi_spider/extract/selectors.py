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
# Head-only paths: a whole-document search costs a walk of 200 KB of menus and scripts.
CANONICAL = XPath("/html/head/link[@rel='canonical']/@href")
# The meta tags: ``/html/head/meta`` with ``content`` and ``property`` or ``name``, read
# from the head's children (page.py: one pass, no XPath string value per attribute).
META_TAG = "meta"
# The meta tags' keys the page view reads (page.py); the others' content is not read.
META_KEYS = frozenset(
    {"og:url", "og:title", "og:image", "article:published_time", "article:modified_time"}
)
# JSON-LD may sit anywhere in the page: scripts of this type, on the same walk as ARTICLE.
JSON_LD_TYPE = "application/ld+json"
# The text of an element, not of the scripts and styles inside it.
TEXT = XPath(".//text()[not(ancestor::script or ancestor::style)]")

# --- article page ----------------------------------------------------------
# The article element, found on the walk that also collects the JSON-LD scripts: its
# tag and class. (A whole-page search costs as much as all the others together.)
ARTICLE_TAG = "article"
ARTICLE_CLASS = "t-content"
# Inside the article: its parts, by the classes that mark them, found in ONE walk of the
# article's subtree (a CSS search per part costs a walk each; an XPath ``contains(@class,
# ...)`` test builds the attribute's string, element by element): page.py reads each
# element's class attribute once and looks its roles up. page.py picks inside them:
# the title's h1, each date's <time> (publication, then update), the main media's first
# <img> (figure.m-figure picture img), the bylines inside the author block.
PART_CLASSES: dict[str, frozenset[str]] = {
    "title": frozenset({"t-content__title", "a-page-title"}),  # on the h1
    "chapo": frozenset({"t-content__chapo"}),
    "dates": frozenset({"m-pub-dates__date"}),
    "main_media": frozenset({"t-content__main-media"}),
    "author_block": frozenset({"t-content__authors-tts"}),
    "author": frozenset({"m-from-author__name"}),
    "body": frozenset({"t-content__body"}),  # BODY_CLASS
    "tag": frozenset({"m-tags-list__tag"}),
}
# The article root (issue 13): the wrapper varies (``article.t-content``,
# ``div.t-content--article > article.t-content__article-wrapper``, a bare ``<article>`` in
# ``div.t-content``), so the root is found from its content instead: the nearest ancestor of
# the title's h1 that also holds the body (page.py). The h1 is found on the landmarks walk.
TITLE_TAG = "h1"
# Does an element hold the body? Asked of the h1's few ancestors, nearest first: a descendant
# with this class, the class attribute split on XML white space (XPath's normalize-space).
BODY_CLASS = "t-content__body"

# --- lazy-loaded pictures (images.py) ---------------------------------------
# Where an <img> keeps its addresses: the real ones in srcset and the lazy loaders'
# attributes; ``src`` last (often a data: URL or a 1-pixel gif while the page loads).
IMAGE_SRCSET_ATTRS = ("srcset", "data-srcset", "data-lazy-srcset")
IMAGE_SRC_ATTRS = ("data-src", "data-lazy-src", "data-original", "src")
# The <source> elements of the image's <picture>. libxml2 does not know <source> is void:
# it nests the next <source> and the <img> inside it, so they are the image's ancestors.
PICTURE_SOURCES = XPath("ancestor::picture[1]//source | ancestor::source")
# A width written in the media server's path: s.rfi.fr/media/display/<uuid>/w:1280/...
IMAGE_PATH_WIDTH = r"/w:(\d+)/"
# File names of placeholders (blank.gif, pixel.png, spacer.gif, 1x1.gif, lazy-placeholder...).
IMAGE_PLACEHOLDER_NAME = (
    r"(?:^|[/_.-])(?:blank|spacer|pixel|transparent|placeholder|1x1|empty)[^/]*\.(?:gif|png|svg)$"
)

# The same parts in an RSSHub mirror entry (its HTML is the page's chapo and main media).
CHAPO = css(".t-content__chapo")
MAIN_MEDIA_IMAGE = css(".t-content__main-media img")
# Looked for in the article first, then (rarely needed) in the whole page; the cheap
# contains() test keeps the exact class test off the hundreds of menu links.
BREADCRUMB = XPath(
    "descendant-or-self::a[contains(@class, 'm-breadcrumb')]"
    "[contains(concat(' ', normalize-space(@class), ' '), ' m-breadcrumb__list__item__link ')]"
    " | descendant-or-self::*[contains(@class, 'm-breadcrumb')]"
    "[contains(concat(' ', normalize-space(@class), ' '), ' m-breadcrumb ')]//a"
)

# Parts of the body that are not the article (classes and tags, the spec's list), and the
# platform's read-more teaser (``p.a-read-more``: ``__label`` + ``__link``).
BODY_SKIP_CLASSES = frozenset({"o-self-promo", "m-interstitial", "m-block-ad", "a-read-more"})
BODY_SKIP_TAGS = frozenset(
    {"figure", "figcaption", "script", "style", "noscript", "iframe", "aside", "form", "svg"}
    # Not text either, and never wanted in body_html.
    | {"template", "object", "embed", "button", "input", "select", "textarea", "canvas"}
    | {"video", "audio", "picture", "img", "head", "title", "meta", "link", "math"}
)
# Elements that each make one entry of ``paragraphs``.
TEXT_BLOCKS = frozenset({"p", "h2", "h3", "h4", "li", "blockquote"})
# Blocks that give way to their inner ``p`` (the spec's "blockquote without inner p").
TEXT_BLOCK_CONTAINERS = frozenset({"blockquote", "li"})
# --- body: embeds, the captions typed under them, teasers, the lead ------------
# An embed: one of these tags, or a class of the platform's embeds (m-em-image, m-em-flash,
# m-em-video, ...; not m-em-quote, which is text), or a p/div holding nothing but one.
EMBED_TAGS = frozenset({"figure", "iframe", "video", "audio", "picture", "img", "object", "embed"})
EMBED_CLASS_PREFIX = "m-em-"
EMBED_TEXT_CLASSES = frozenset({"m-em-quote"})
EMBED_CLASSES = frozenset({"twitter-tweet", "instagram-media", "tiktok-embed"})
# An editor-typed caption after an embed (issues 13, 27): all its text in small print
# (<small>, font-size smaller/small/x-small/xx-small), or all in italics (<em>, <i>,
# font-style italic) and centred (p.rtecenter, text-align center, align=center, <center>).
# "After" is in document order: empty paragraphs, line breaks and the empty siblings the
# parser leaves of a <p> nested in a <p> may come between; other captions too (a run of
# embeds, a caption each). The caption may be a block or an inline wrapper of these tags;
# never a subhead, a list or a quote.
CAPTION_TAGS = frozenset(
    {"p", "div", "span", "em", "i", "small", "center", "font", "strong", "b", "u", "sub", "sup"}
)
CAPTION_SMALL_TAGS = frozenset({"small"})
CAPTION_ITALIC_TAGS = frozenset({"em", "i"})
CAPTION_SMALL_STYLE = r"font-size\s*:\s*(?:smaller|small|x-small|xx-small)\b"
CAPTION_ITALIC_STYLE = r"font-style\s*:\s*italic\b"
CAPTION_CENTRED_TAGS = frozenset({"center"})
CAPTION_CENTRED_CLASSES = frozenset({"rtecenter", "text-center", "text-align-center"})
CAPTION_CENTRED_STYLE = r"text-align\s*:\s*center\b"
# Bold: what makes a paragraph a teaser (when it is only a link) or the lead (when it opens
# the body of an article without a chapo).
BOLD_TAGS = frozenset({"strong", "b"})
# A teaser of another article (issues 13, 27): a paragraph whose text is one link (one
# address, maybe split over adjacent <a>s) and, before it, a label; after it, at most
# closing punctuation. The label is either a "read more" phrase (below), or any short
# label ending in a colon, ASCII or fullwidth (">> READ ON THE OBSERVERS:", "延伸阅读：《"),
# the wording varying by site and language; or none at all when the paragraph is bold.
# Bold or not, the link inside the bold or after it: the text decides.
TEASER_LABEL = (
    r"^[\s>»›》→:：|-]*(?:read on|read more|read also|see also|lire aussi|à lire aussi"
    r"|a lire aussi|lire la suite|leer también|延伸阅读|延伸閱讀|阅读更多|閱讀更多"
    r"|相关报道|相關報導|相关报导|相關報道|相关阅读|相關閱讀|相关新闻|相關新聞|更多报道|更多報導)?"
    r"[\s>»›》→:：|-]*$"
)
# The short label: markers, then words of at most TEASER_LABEL_MAX columns (a Chinese
# character is two) and no clause punctuation (a sentence is no label), then a colon.
TEASER_LABEL_MAX = 40
TEASER_COLON_LABEL = r"^[\s>»›→|*•-]*(?P<words>[^:：，。；！？,;!?]+?)\s*[:：]$"
# Quotes and brackets that open before the link ("《" after the label) and close after it.
TEASER_OPENING = "《〈「『“‘\"'(（[【«‹"
TEASER_CLOSING = "》〉」』”’\"')）]】»›.。!！"

# What body_html keeps; every other element is unwrapped.
BODY_HTML_TAGS = frozenset(
    {"p", "h2", "h3", "h4", "blockquote", "ul", "ol", "li", "strong", "b", "em", "i", "a", "br"}
)

# --- listing pages ---------------------------------------------------------
# Every link of a listing, minus the sponsored and highlighted asides: every <a href>
# that is not inside an <aside data-org-type="..."> of these kinds. Read while the page
# is parsed, without a tree (listing.py): a 1 MB section page costs 1 MB, not 6.
LISTING_LINK_TAG = "a"
LISTING_ASIDE_TAG = "aside"
LISTING_ASIDE_KIND = "data-org-type"
LISTING_SKIPPED_ASIDES = frozenset({"aside-content--sponsors", "aside-content--highlighted"})
# The same asides marked by class only, with no data-org-type (issue 13).
LISTING_SKIPPED_ASIDE_CLASSES = frozenset(
    {"o-aside-content--sponsors", "o-aside-content--highlighted"}
)

# --- feeds (RSS 2.0 and Atom) ---------------------------------------------
FEED_LINKS = XPath(
    "//*[local-name()='item']/*[local-name()='link']/text()"
    " | //*[local-name()='entry']/*[local-name()='link'][not(@rel) or @rel='alternate']/@href"
)

# --- feed mirrors: the feed (RSS 2.0 and Atom) ------------------------------
FEED_NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
}
ATOM_FEED_TAG = "{http://www.w3.org/2005/Atom}feed"
RSS_ITEMS = XPath("/rss/channel/item")
RSS_TITLE = XPath("string(title)")
RSS_LINK = XPath("string(link)")
RSS_GUID_LINK = XPath("string(guid[not(@isPermaLink='false')])")
RSS_CONTENT = XPath("string(content:encoded)", namespaces=FEED_NS)
RSS_DESCRIPTION = XPath("string(description)")
RSS_DATE = XPath("string(pubDate)")
RSS_DC_DATE = XPath("string(dc:date)", namespaces=FEED_NS)
RSS_AUTHORS = XPath("author/text() | dc:creator/text()", namespaces=FEED_NS)
RSS_CATEGORIES = XPath("category/text()")
RSS_AUDIO = XPath("enclosure[starts-with(@type, 'audio/')]/@url")
ATOM_ENTRIES = XPath("/atom:feed/atom:entry", namespaces=FEED_NS)
ATOM_TITLE = XPath("atom:title", namespaces=FEED_NS)
ATOM_LINK = XPath("atom:link[not(@rel) or @rel='alternate']/@href", namespaces=FEED_NS)
ATOM_CONTENT = XPath("atom:content", namespaces=FEED_NS)
ATOM_SUMMARY = XPath("atom:summary", namespaces=FEED_NS)
ATOM_PUBLISHED = XPath("string(atom:published)", namespaces=FEED_NS)
ATOM_UPDATED = XPath("string(atom:updated)", namespaces=FEED_NS)
ATOM_AUTHORS = XPath("atom:author/atom:name/text()", namespaces=FEED_NS)
ATOM_CATEGORIES = XPath("atom:category/@term", namespaces=FEED_NS)
ATOM_AUDIO = XPath(
    "atom:link[@rel='enclosure'][starts-with(@type, 'audio/')]/@href", namespaces=FEED_NS
)

# --- feed mirrors: an entry's HTML (parsed as <html><body>{html}</body></html>) -------
# feedx (and the seed-style file): <div>DATE</div><img src=LEAD><p><strong>CHAPO</strong></p>
# <div>BODY</div>, then a share block <div><div>分享 :</div>…</div> and <br><hr><div>footer</div>.
ENTRY_DATE_DIVS = XPath("/html/body/div[not(*)]")
ENTRY_LEAD_IMAGE = XPath("/html/body/img")
_ENTRY_CHAPO = (
    "/html/body/p[count(*)=1][strong][not(text()[normalize-space()])][following-sibling::div][1]"
)
ENTRY_CHAPO = XPath(_ENTRY_CHAPO)
ENTRY_BODY_DIV = XPath(
    "/html/body/div[not(preceding-sibling::hr)][.//p or .//h2 or .//h3 or .//h4 or .//li][1]"
)
# Text blocks outside any div: RSSHub's shape (the body's inner HTML), not feedx's.
ENTRY_LOOSE_BLOCKS = XPath(
    "/html/body/*[self::p or self::h2 or self::h3 or self::h4 or self::ul or self::ol"
    " or self::blockquote]"
)
# RSSHub: chapo outerHTML + main media outerHTML + body inner HTML (classes kept).
ENTRY_RSSHUB_PARTS = css("body > .t-content__chapo, body > .t-content__main-media")
# What is not body when the body has no wrapper of its own: the parts above, and feedx's
# date div, lead image, chapo, empty promo divs, share block and footer rule.
ENTRY_NOT_BODY = XPath(
    "/html/body/div[not(*)] | /html/body/img"
    f" | {_ENTRY_CHAPO}"
    " | /html/body/div[div[starts-with(normalize-space(.), '分享')]]"
)
ENTRY_FOOTER_RULE = XPath("/html/body/hr[1]")

# --- blocked pages (the browser fallback) -----------------------------------
# Markup that only a real page of the site has, as CSS for the browser to wait for.
ARTICLE_MARKUP_CSS = "article.t-content"
LISTING_MARKUP_CSS = ".m-item-list-article, a[data-article-item-link]"
# Any page in the site's own layout (its error pages too): not a challenge.
SITE_LAYOUT_CSS = "main.o-layout"
# The class names of that markup as bytes, looked for without parsing the page: a page
# with none of them is not the site's.
SITE_MARKUP_BYTES = (b"t-content", b"m-item-list-article", b"data-article-item-link", b"o-layout")
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
