"""RFI's Chinese editions, declared as data: ``cn`` (simplified) and ``tw`` (traditional).

The same newsroom publishes every article twice, at ``/cn/`` and at ``/tw/``. Each
:class:`Edition` says where its pages are (prefix, home, sections, columns, feeds,
sitemaps, daily archive, tag pages), how its pages label things (dates, publisher
names) and which older hosts served it. Everything else is derived from these
blocks: the article URL pattern and the section (``canonical.py``), which links are
listings (the spider), the schema's URL pattern (``schema.py``) and the publisher
filter (``processors.not_publisher``). Adding an edition is adding one block to
:data:`EDITIONS` (:func:`register` does it at run time, for tests).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

from rfi_spider.percent import unquote

# Publisher names that are never a byline, whatever the edition.
_COMMON_PUBLISHERS = ("RFI",)


@dataclass(frozen=True)
class SourceSpec:
    """One source of an edition's article URLs, as data (Fundus's ``sources=[RSSFeed(...)]``).

    ``kind`` names the class of ``rfi_spider/sources`` that reads it: ``listings`` (with no
    ``path``: the home, sections and columns, ``RFI_LISTING_DEPTH`` deep; with one: one more
    listing page, a tag page say), ``rss`` (the feed at ``path``), ``sitemaps`` (robots.txt,
    the news map, the monthly maps in a backfill), ``mirrors`` (the edition's
    ``mirrors``). ``path`` is under the edition's home (``rss``: ``/cn/rss``).
    """

    kind: str
    path: str = ""


# Every edition's sources unless its block says otherwise: the order is the start's.
DEFAULT_SOURCES = (
    SourceSpec("listings"),
    SourceSpec("rss", "rss"),
    SourceSpec("sitemaps"),
    SourceSpec("mirrors"),
)


@dataclass(frozen=True)
class Edition:
    """One language edition of the site, as data."""

    key: str  # "cn": the path prefix without its slash, and the item's `edition`
    spider: str  # the spider that crawls it: "rfi_cn"
    locale: str  # og:locale of its pages: "zh_CN"
    sections: tuple[str, ...]  # section slugs, decoded: "中国"
    columns_path: str  # the folder of columns: "专栏检索" (/cn/专栏检索/<column>/)
    columns: tuple[str, ...]  # column slugs walked by default: "法国报纸摘要"
    tag_path: str  # the folder of tag pages: "关键词" (/cn/关键词/<tag>/): listings, not walked
    archive_path: str  # the daily archive's folder: "档案资料库" (unverified on the live site)
    published_label: str  # the label before the publication time: "发表时间"
    modified_label: str  # the label before the update time: "更改时间"
    publishers: tuple[str, ...]  # names of the publisher, never a byline
    old_hosts: tuple[str, ...] = ()  # hosts that served the edition before: "cn.rfi.fr"
    mirrors: tuple[str, ...] = ()  # full-text feed mirrors read by default
    output_dir: str = "output"  # the default RFI_OUTPUT_DIR's folder name
    sources: tuple[SourceSpec, ...] = DEFAULT_SOURCES  # where its article URLs are found

    @property
    def prefix(self) -> str:
        """``/cn``."""
        return f"/{self.key}"

    @property
    def home(self) -> str:
        """``/cn/``."""
        return f"{self.prefix}/"

    @property
    def feeds(self) -> tuple[str, ...]:
        """``/cn/rss``: the paths of its ``rss`` sources."""
        return tuple(self.path_of(spec) for spec in self.sources if spec.kind == "rss")

    def path_of(self, spec: SourceSpec) -> str:
        """A source's path on the site: ``rss`` is ``/cn/rss``."""
        return f"{self.home}{spec.path.lstrip('/')}"

    @property
    def sitemap_folder(self) -> str:
        """``/sitemaps/cn/``: where the edition's maps are (never another language's)."""
        return f"/sitemaps/{self.key}/"

    @property
    def sitemap_index(self) -> str:
        """``/sitemaps/cn/index.xml``: monthly children ``contents_YYYYMM.xml``."""
        return f"{self.sitemap_folder}index.xml"

    @property
    def news_sitemap(self) -> str:
        """``/sitemaps/cn/news.xml``: the Google News sitemap."""
        return f"{self.sitemap_folder}news.xml"

    @property
    def archive_url(self) -> str:
        """The daily archive pattern; ``str.format`` fields ``year``, ``month``, ``day``."""
        return f"{self.prefix}/{self.archive_path}/{{year}}/{{month:02d}}/{{day:02d}}"

    @property
    def listings(self) -> tuple[str, ...]:
        """The section and column slugs a crawl walks by default (``RFI_SECTIONS``)."""
        return (*self.sections, *(f"{self.columns_path}/{c}" for c in self.columns))

    def tag_url(self, tag: str) -> str:
        """The path of a tag page: ``/cn/关键词/<tag>/``."""
        return f"{self.prefix}/{self.tag_path}/{tag}/"

    @cached_property
    def article_path(self) -> re.Pattern[str]:
        """``/cn/<section>[/<column>]/<YYYYMMDD>-<slug>``, on the decoded path."""
        return re.compile(rf"^{re.escape(self.prefix)}/(?:[^/]+/){{1,2}}(?P<date>\d{{8}})-[^/]+$")

    def owns(self, url: str) -> bool:
        """True when the URL's (decoded or not) path is under this edition's prefix."""
        path = urlsplit(url).path
        return path == self.prefix or path.startswith(self.home)

    def is_listing(self, site_url: str, sections: frozenset[str]) -> bool:
        """A section of ``sections`` or a column of this edition (never tags, authors, hubs)."""
        parts = urlsplit(site_url)
        if parts.query:
            return False
        path = unquote(parts.path).strip("/")
        head = f"{self.key}/"
        if not path.startswith(head):
            return False
        rest = path[len(head) :]
        columns = f"{self.columns_path}/"
        return rest in sections or (rest.startswith(columns) and rest.count("/") == 1)

    def section_of(self, url: str) -> str | None:
        """The first path segment after the prefix, decoded (the section of last resort)."""
        segments = unquote(urlsplit(url).path).strip("/").split("/")
        return segments[1] if len(segments) > 2 and segments[0] == self.key else None

    @cached_property
    def _publisher_names(self) -> frozenset[str]:
        """The publisher's names, case-folded once (each byline of each page is tested)."""
        return frozenset(p.casefold() for p in (*_COMMON_PUBLISHERS, *self.publishers))

    def is_publisher(self, name: str) -> bool:
        """True for the publisher's own names ("RFI", "法国国际广播电台"), in any case."""
        return name.casefold() in self._publisher_names


_CN_SECTIONS = (
    "政治", "中国", "国际", "法国", "欧洲", "亚洲", "美洲", "中东", "非洲",
    "港澳台", "社会", "体育", "经贸", "科技与文化",
)  # fmt: skip
# The same sections in traditional characters (中國, 法國, 港澳台, 亞洲, 美洲 seen on the site).
_TW_SECTIONS = (
    "政治", "中國", "國際", "法國", "歐洲", "亞洲", "美洲", "中東", "非洲",
    "港澳台", "社會", "體育", "經貿", "科技與文化",
)  # fmt: skip

CN = Edition(
    key="cn",
    spider="rfi_cn",
    locale="zh_CN",
    sections=_CN_SECTIONS,
    columns_path="专栏检索",
    columns=("法国报纸摘要", "环保天地"),
    tag_path="关键词",
    archive_path="档案资料库",
    published_label="发表时间",
    modified_label="更改时间",
    publishers=("RFI 中文", "法国国际广播电台"),
    old_hosts=("cn.rfi.fr",),
    mirrors=(
        "https://feedx.net/rss/rfi.xml",  # feedx: the shape of the seed
        "https://rsshub.app/rfi/cn",  # RSSHub's public instance, route /rfi/cn
    ),
    output_dir="output",
    sources=(
        SourceSpec("listings"),  # the home, the sections and the columns
        SourceSpec("rss", "rss"),
        SourceSpec("sitemaps"),  # through robots.txt
        SourceSpec("mirrors"),  # the mirrors above
    ),
)

TW = Edition(
    key="tw",
    spider="rfi_tw",
    locale="zh_TW",
    sections=_TW_SECTIONS,
    columns_path="專欄檢索",
    columns=("法國報紙摘要", "環保天地"),
    tag_path="關鍵詞",
    archive_path="檔案資料庫",
    published_label="發表時間",
    modified_label="更改時間",
    publishers=("RFI 中文", "法國國際廣播電台"),
    old_hosts=("trad.cn.rfi.fr",),
    mirrors=(),  # no full-text mirror of /tw is known
    output_dir="output-tw",
    sources=(
        SourceSpec("listings"),  # the home, the sections and the columns
        SourceSpec("rss", "rss"),
        SourceSpec("sitemaps"),  # through robots.txt
        SourceSpec("mirrors"),  # the mirrors above
    ),
)

# The registry: key -> edition. The order is the order of the schema's alternatives.
EDITIONS: dict[str, Edition] = {e.key: e for e in (CN, TW)}

_listeners: list[Callable[[], None]] = []


def on_change(listener: Callable[[], None]) -> None:
    """Call ``listener`` (a cache's clear) whenever the registry changes."""
    _listeners.append(listener)


def register(edition: Edition) -> None:
    """Add (or replace) an edition at run time; every derived rule follows."""
    EDITIONS[edition.key] = edition
    _changed()


def unregister(key: str) -> None:
    """Remove an edition added with :func:`register`."""
    EDITIONS.pop(key, None)
    _changed()


def _changed() -> None:
    for listener in _listeners:
        listener()


def edition_of(url: str) -> Edition | None:
    """The edition whose prefix the URL's path is under; None for other paths."""
    for edition in EDITIONS.values():
        if edition.owns(url):
            return edition
    return None


def by_spider(name: str) -> Edition:
    """The edition a spider crawls, by the spider's name; KeyError for another name."""
    for edition in EDITIONS.values():
        if edition.spider == name:
            return edition
    raise KeyError(name)


def is_publisher(name: str) -> bool:
    """True for a publisher name of any edition: never an author."""
    return any(edition.is_publisher(name) for edition in EDITIONS.values())
