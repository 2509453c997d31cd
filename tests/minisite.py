"""Small loopback sites built by a test: article pages at chosen URLs and dates, listings.

An article page is the sample site's article a1 (a real page of the site's
template) moved to another canonical URL and, if asked, another publication time.
Pass the site paths as text (``/cn/国际/20240307-…``): :func:`url` and :func:`key`
percent-encode them the way the site's links and :class:`LocalSite`'s
request log do.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from importlib import resources

from rfi_spider.dates import PARIS
from rfi_spider.demo.localsite import LocalSite, route_key

SITE = "https://www.rfi.fr"
ROBOTS_ALLOW_ALL = "User-agent: *\nAllow: /\n"

_SAMPLE = resources.files("rfi_spider.demo.sample_site")
_ROUTES: dict[str, str] = json.loads(_SAMPLE.joinpath("routes.json").read_text(encoding="utf-8"))
(_A1_PATH,) = [path for path, name in _ROUTES.items() if name.startswith("article_a1_")]
_A1_HTML = _SAMPLE.joinpath(_ROUTES[_A1_PATH]).read_text(encoding="utf-8")
_A1_PUBLISHED = "2024-03-07T17:02:00+00:00"  # in the JSON-LD, a meta tag and the time element
_A1_DATE_TEXT = "07/03/2024 - 18:02"
assert _A1_HTML.count(_A1_PUBLISHED) == 3 and _A1_DATE_TEXT in _A1_HTML, "sample a1 changed"


def key(path: str) -> str:
    """A site path as the loopback site logs and looks it up (percent-encoded)."""
    return route_key(path)


def url(path: str) -> str:
    """The canonical URL of a site path."""
    return SITE + key(path)


def article_page(canonical: str, published: datetime | None = None) -> str:
    """Sample article a1 as the article ``canonical``, published at ``published`` (aware)."""
    html = _A1_HTML.replace(_A1_PATH, canonical.removeprefix(SITE))
    if published is not None:
        iso = published.astimezone(UTC).isoformat()
        paris = published.astimezone(PARIS).strftime("%d/%m/%Y - %H:%M")
        html = html.replace(_A1_PUBLISHED, iso).replace(_A1_DATE_TEXT, paris)
    return html


def listing_page(*paths: str) -> str:
    """A listing whose teasers link to ``paths`` (site paths, percent-encoded as on the site)."""
    teasers = "".join(
        f'<div class="m-item-list-article"><a href="{escape(key(path))}" data-article-item-link>'
        f'<p class="article__title">{escape(path)}</p></a></div>'
        for path in paths
    )
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>RFI</title>'
        f"</head><body><main>{teasers}</main></body></html>"
    )


def requested(site: LocalSite) -> list[str]:
    """The paths the site was asked for, in order (percent-encoded)."""
    return [path for _, path, _ in site.requests]


def urlset(*paths: str, lastmod: str | None = None) -> str:
    """A sitemap URL set listing ``paths`` (site paths, as https://www.rfi.fr URLs)."""
    stamp = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
    entries = "".join(f"<url><loc>{escape(url(path))}</loc>{stamp}</url>" for path in paths)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    )


def sitemap_index(*paths: str) -> str:
    """A sitemap index whose children are ``paths`` (site paths of maps)."""
    children = "".join(f"<sitemap><loc>{SITE}{escape(path)}</loc></sitemap>" for path in paths)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{children}</sitemapindex>'
    )
