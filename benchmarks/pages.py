"""The benchmark's site: N article pages of live-site weight, made from the sample templates.

Each page ``i`` comes from one of the sample site's article templates
(``rfi_spider/demo/sample_site/article_*.html``, read with ``importlib.resources``)
with its own URL (``/cn/<section>/<YYYYMMDD>-<slug>-<i>``), canonical link,
title (``<title>（i）``) and dates (shifted ``i // templates`` days back, every
ISO timestamp and display date rewritten consistently in Paris time), so that
every page gives a distinct, valid item.

The padding is what makes a live page weigh about 200 KB: a mega menu of a
few hundred links in the header, a footer of a few hundred more, and a large
inline application-state script (``window.__INITIAL_STATE__``) before
``</body>``. It is built once (the same bytes on every page, deterministic, so
that the server process and the benchmark process make identical pages);
only a small per-page prefix of the state script differs.

Everything is generated on demand from the page number: 20,000 pages cost no
disk and no memory.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from importlib import resources
from urllib.parse import quote, unquote, urlsplit
from xml.sax.saxutils import escape as xml_escape

from rfi_spider.dates import PARIS

SITE_ROOT = "https://www.rfi.fr"
# The Content-Type the benchmark server sends with an HTML page (an article, a listing).
HTML_TYPE = "text/html; charset=utf-8"
SAMPLE_PACKAGE = "rfi_spider.demo.sample_site"

# Where the padding goes in a template (each template has all three).
_MENU_ANCHOR = '<ul class="m-main-nav__list">'
_FOOTER_ANCHOR = '<div class="o-footer__inner">'
_BODY_END = "</body>"

_CANONICAL = re.compile(r'<link rel="canonical" href="https://www\.rfi\.fr([^"]+)"')
_HEADLINE = re.compile(r'"headline": "([^"]+)"')
# ISO 8601 with minutes and an offset (image file stamps such as 2024-03-07T161847Z are not).
_ISO = re.compile(r"\b(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(Z|[+-]\d{2}:\d{2})")
# The page's display date, Paris time.
_DISPLAY = re.compile(r"\b(\d{2})/(\d{2})/(\d{4}) - (\d{2}):(\d{2})\b")
_CJK = re.compile(r"[\u4e00-\u9fff]{2,8}")


@dataclass(frozen=True)
class Template:
    """One sample article page and the strings that make it that article."""

    name: str
    html: str
    path: str  # percent-encoded canonical path
    section_path: str  # percent-encoded, with the trailing slash: the listing
    url_day: date
    slug: str  # decoded, after ``YYYYMMDD-``
    title: str

    @classmethod
    def parse(cls, name: str, html: str) -> Template:
        canonical = _CANONICAL.search(html)
        headline = _HEADLINE.search(html)
        if not canonical or not headline:
            raise ValueError(f"{name}: no canonical link or JSON-LD headline to rewrite")
        for anchor in (_MENU_ANCHOR, _FOOTER_ANCHOR, _BODY_END):
            if html.count(anchor) != 1:
                raise ValueError(f"{name}: the padding needs exactly one {anchor!r}")
        path = canonical.group(1)
        section_path, _, last = path.rpartition("/")
        stamp, _, slug = unquote(last).partition("-")
        day = date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:]))
        return cls(name, html, path, section_path + "/", day, slug, headline.group(1))

    @cached_property
    def segments(self) -> list[str | re.Match[str]]:
        return _date_segments(self.html)

    def shifted(self, days: int) -> str:
        """The template with every timestamp and display date moved ``days`` days earlier,
        rewritten in its own form (``Z``, ``+00:00``, Paris offset, Paris display time)."""
        if not days:
            return self.html
        delta = timedelta(days=-days)
        return "".join(
            segment
            if isinstance(segment, str)
            else (_shift_iso if segment.re is _ISO else _shift_display)(segment, delta)
            for segment in self.segments
        )

    @property
    def section(self) -> str:
        """The decoded section (or ``专栏检索/<column>``), as ``RFI_SECTIONS`` names it."""
        return unquote(self.section_path).removeprefix("/cn/").strip("/")


@dataclass(frozen=True)
class Article:
    """One generated page: where it is served, the item URL and title it must give."""

    index: int
    template: Template
    path: str
    title: str
    days: int  # how many days before the template's date

    @property
    def url(self) -> str:
        """The canonical URL the item must carry."""
        return SITE_ROOT + self.path


def load_templates() -> list[Template]:
    """The sample site's article templates (error pages and listings are not articles)."""
    folder = resources.files(SAMPLE_PACKAGE)
    names = sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.name.startswith("article_") and entry.name.endswith(".html")
    )
    return [Template.parse(n, folder.joinpath(n).read_text(encoding="utf-8")) for n in names]


def _shift_iso(match: re.Match[str], delta: timedelta) -> str:
    stamp, offset = match.group(1), match.group(2)
    moment = datetime.fromisoformat(stamp + ("+00:00" if offset == "Z" else offset)) + delta
    spec = "seconds" if stamp.count(":") == 2 else "minutes"
    if offset == "Z":
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec=spec) + "Z"
    if offset == "+00:00":
        return moment.astimezone(UTC).isoformat(timespec=spec)
    return moment.astimezone(PARIS).isoformat(timespec=spec)


def _shift_display(match: re.Match[str], delta: timedelta) -> str:
    day, month, year, hour, minute = (int(g) for g in match.groups())
    moment = datetime(year, month, day, hour, minute, tzinfo=PARIS).astimezone(UTC) + delta
    return moment.astimezone(PARIS).strftime("%d/%m/%Y - %H:%M")


def _date_segments(html: str) -> list[str | re.Match[str]]:
    """``html`` cut around its dates: literal text and the date matches, in order."""
    matches = sorted([*_ISO.finditer(html), *_DISPLAY.finditer(html)], key=lambda m: m.start())
    segments: list[str | re.Match[str]] = []
    position = 0
    for match in matches:
        segments += [html[position : match.start()], match]
        position = match.end()
    segments.append(html[position:])
    return segments


class Padding:
    """The live site's dead weight, made once: menu, footer and application state."""

    def __init__(self, seed: int, words: list[str], sections: list[str]) -> None:
        self.rng = random.Random(seed)
        self.words = words
        self.sections = sections

    def phrase(self, low: int, high: int) -> str:
        return "".join(self.rng.choice(self.words) for _ in range(self.rng.randint(low, high)))

    def tag_path(self) -> str:
        return "/cn/" + quote(f"关键词/{self.phrase(1, 2)}") + "/"

    @cached_property
    def menu(self) -> str:
        """About 35 KB of header mega menu: ~130 links, sections and their topics."""
        items = []
        for section in self.sections:
            links = "".join(
                f'<li class="m-main-nav__submenu__item"><a class="m-main-nav__submenu__link"'
                f' href="{self.tag_path()}" data-tracking="menu">{self.phrase(1, 3)}</a></li>'
                for _ in range(14)
            )
            items.append(
                '<li class="m-main-nav__item m-main-nav__item--has-submenu">'
                f'<a class="m-main-nav__link" href="/cn/{quote(section)}/">{section}</a>'
                f'<ul class="m-main-nav__submenu">{links}</ul></li>\n'
            )
        return "".join(items)

    @cached_property
    def footer(self) -> str:
        """About 35 KB of footer: ~140 links to programmes, podcasts, other languages."""
        blocks = []
        for title in ("节目", "播客", "专题", "多媒体", "其他语言", "合作伙伴", "服务", "关注我们"):
            links = "".join(
                f'<li class="o-footer__item"><a class="o-footer__link" href="{self.tag_path()}"'
                f' data-tracking="footer">{self.phrase(2, 4)}</a></li>'
                for _ in range(17)
            )
            blocks.append(
                f'<div class="o-footer__block"><p class="o-footer__title">{title}</p>'
                f'<ul class="o-footer__list">{links}</ul></div>\n'
            )
        return "".join(blocks)

    @cached_property
    def state(self) -> str:
        """About 115 KB of application state (JSON: teasers, labels, ad slots)."""
        teasers = []
        for n in range(100):
            teasers.append(
                {
                    "id": f"{self.rng.getrandbits(128):032x}",
                    "title": self.phrase(4, 9),
                    "url": "/cn/"
                    + quote(f"{self.rng.choice(self.sections)}/2023{n:04d}-{self.phrase(3, 6)}"),
                    "description": self.phrase(10, 20),
                    "image": {
                        "url": f"https://s.rfi.fr/media/display/{self.rng.getrandbits(64):016x}"
                        "/w:640/p:16x9/photo.jpg",
                        "width": 640,
                        "height": 360,
                    },
                    "section": self.rng.choice(self.sections),
                    "tags": [self.phrase(1, 2) for _ in range(3)],
                    "published": f"2023-{1 + n % 12:02d}-{1 + n % 28:02d}T08:00:00Z",
                }
            )
        state = {
            "env": "prod",
            "lang": "cn",
            "teasers": teasers,
            "i18n": {f"label_{n}": self.phrase(1, 4) for n in range(200)},
            "ads": {"network": "/21734143/rfi_cn", "slots": [f"slot-{n}" for n in range(40)]},
        }
        # The live site escapes "<" in inline state; JSON never holds "</script>" then.
        return json.dumps(state, ensure_ascii=False).replace("<", "\\u003c")


@dataclass(frozen=True)
class Page:
    """Bytes of one generated page (padded or not)."""

    body: bytes
    article: Article


class BenchSite:
    """The generated site: ``pages`` articles behind a home page, section listings and a feed.

    ``page(i)`` gives article ``i``; ``route(path)`` serves any path of the site.
    """

    def __init__(self, pages: int, seed: int = 8) -> None:
        self.count = pages
        self.templates = load_templates()
        words = sorted({w for t in self.templates for w in _CJK.findall(t.html)})
        sections = sorted({t.section for t in self.templates})
        self.padding = Padding(seed, words, sections)
        self._by_path: dict[str, int] | None = None
        self._listings: dict[str, bytes] = {}

    # --- articles --------------------------------------------------------
    def article(self, index: int) -> Article:
        template = self.templates[index % len(self.templates)]
        days = index // len(self.templates)
        day = template.url_day - timedelta(days=days)
        path = template.section_path + quote(f"{day:%Y%m%d}-{template.slug}-{index}")
        return Article(index, template, path, f"{template.title}（{index}）", days)

    def articles(self) -> list[Article]:
        return [self.article(i) for i in range(self.count)]

    def page(self, index: int, padded: bool = True) -> Page:
        """Article ``index`` as served: its own URL, title and dates, padded or not.

        The template (~15 KB) is rewritten, then joined with the padding's bytes:
        a few hundred microseconds a page, so the server is never the bottleneck.
        """
        article = self.article(index)
        template = article.template
        html = template.shifted(article.days)
        html = html.replace(template.path, article.path).replace(template.title, article.title)
        if not padded:
            return Page(html.encode("utf-8"), article)
        head, _, rest = html.partition(_MENU_ANCHOR)
        middle, _, rest = rest.partition(_FOOTER_ANCHOR)
        tail, _, end = rest.rpartition(_BODY_END)
        page_state = {"page": {"id": article.index, "url": article.url, "title": article.title}}
        parts = [
            (head + _MENU_ANCHOR).encode("utf-8"),
            self.padding_bytes["menu"],
            (middle + _FOOTER_ANCHOR).encode("utf-8"),
            self.padding_bytes["footer"],
            tail.encode("utf-8"),
            b"<script>window.__INITIAL_STATE__=",
            json.dumps(page_state, ensure_ascii=False)[:-1].encode("utf-8"),
            self.padding_bytes["state"],
            (_BODY_END + end).encode("utf-8"),
        ]
        return Page(b"".join(parts), article)

    @cached_property
    def padding_bytes(self) -> dict[str, bytes]:
        padding = self.padding
        return {
            "menu": padding.menu.encode("utf-8"),
            "footer": padding.footer.encode("utf-8"),
            "state": ("," + padding.state[1:] + "</script>\n").encode("utf-8"),
        }

    # --- listings, feed, robots -----------------------------------------
    @property
    def sections(self) -> list[str]:
        """The section names to pass as ``RFI_SECTIONS``."""
        return sorted({t.section for t in self.templates})

    def listing(self, section_path: str | None) -> str:
        """A section listing (every article of the section), or the home page (sections
        and the 30 newest articles) when ``section_path`` is None."""
        if section_path is None:
            title = "首页"
            sections = sorted({t.section_path for t in self.templates})
            extra = "".join(f'<li><a href="{p}">{unquote(p)}</a></li>' for p in sections)
            articles = [self.article(i) for i in range(min(30, self.count))]
        else:
            title = unquote(section_path)
            extra = ""
            articles = [
                a
                for a in (self.article(i) for i in range(self.count))
                if a.template.section_path == section_path
            ]
        teasers = "".join(
            '<div class="m-item-list-article"><a data-article-item-link'
            f' href="{a.path}"><p class="article__title">{a.title}</p></a></div>\n'
            for a in articles
        )
        return (
            '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>{title} - RFI</title></head>\n<body>"
            f'<header class="o-header"><nav><ul class="m-main-nav__list">{extra}'
            f"{self.padding.menu}</ul></nav></header>\n"
            f'<main id="main">{teasers}</main>\n'
            f'<footer class="o-footer"><div class="o-footer__inner">{self.padding.footer}'
            "</div></footer>\n</body></html>\n"
        )

    def feed(self) -> str:
        """``/cn/rss``: the 50 newest articles (all also on listings: found twice)."""
        items = "".join(
            f"<item><title>{xml_escape(a.title)}</title><link>{a.url}</link>"
            f"<guid>{a.url}</guid></item>\n"
            for a in (self.article(i) for i in range(min(50, self.count)))
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<title>RFI - 中文</title><link>{SITE_ROOT}/cn/</link>\n{items}</channel></rss>\n"
        )

    def is_article_path(self, path: str) -> bool:
        """Whether a request path is one of the article pages."""
        if self._by_path is None:
            self.route("/robots.txt")
        return urlsplit(path).path in (self._by_path or {})

    def route(self, path: str) -> tuple[bytes, str] | None:
        """Body and content type of a percent-encoded request path; None for a 404."""
        if self._by_path is None:
            self._by_path = {self.article(i).path: i for i in range(self.count)}
        path = urlsplit(path).path
        index = self._by_path.get(path)
        if index is not None:
            return self.page(index).body, HTML_TYPE
        if path == "/cn/" or path in {t.section_path for t in self.templates}:
            if path not in self._listings:
                listing = self.listing(None if path == "/cn/" else path)
                self._listings[path] = listing.encode("utf-8")
            return self._listings[path], HTML_TYPE
        if path == "/cn/rss":
            return self.feed().encode("utf-8"), "application/rss+xml; charset=utf-8"
        if path == "/robots.txt":
            return b"User-agent: *\nAllow: /\n", "text/plain; charset=utf-8"
        return None
