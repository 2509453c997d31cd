"""RFI's own sitemaps, read with Scrapy's sitemap support: which maps, which entries.

``robots.txt`` names, for every language, a sitemap index ``/sitemaps/<lang>/index.xml``
(monthly children ``contents_YYYYMM.xml`` beside maps of tags, shows and page-builder
pages) and a Google News sitemap ``/sitemaps/<lang>/news.xml`` (the last days). The
spider reads only its edition's (:func:`edition_maps`); a plain run reads the news
map, a backfill the index and the monthly children whose month overlaps its range
(:class:`ChildMap`).

Parsing is Scrapy's: :class:`scrapy.utils.sitemap.Sitemap` (lxml, entities never
resolved, read as an iterator), :func:`~scrapy.utils.sitemap.sitemap_urls_from_robots`
and :func:`~scrapy.utils.gz.gunzip` with a size limit. What this module adds is the
refusals (:class:`BadSitemapError`: not XML, a DOCTYPE or entity declaration, over the
size limit, a gzip bomb, not a sitemap) and the entry checks (:func:`read_entry`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

from lxml import etree
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from rfi_spider.canonical import SITE_ROOT, FetchRoot, article_date, canonical_url
from rfi_spider.editions import Edition

# A sitemap may not declare a document type or entities: no sitemap needs them, and
# they are how XML bombs and external-entity reads are built.
_DECLARATION = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_GZIP_MAGIC = b"\x1f\x8b"
# W3C datetime (the sitemap protocol's lastmod): YYYY, YYYY-MM, YYYY-MM-DD, or a full time.
_YEAR_MONTH = re.compile(r"(\d{4})(?:-(\d{2}))?")
# How many levels of sitemap index a run follows below robots.txt: RFI's index lists
# maps, never another index. An index found deeper is refused (rfi/sitemap/bad/too_deep):
# a chain of indexes, or an index listing itself, would otherwise never end.
INDEX_DEPTH = 1


class BadSitemapError(ValueError):
    """A sitemap refused as a whole; ``reason`` names the counter ``rfi/sitemap/bad/<reason>``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def sitemap_body(body: bytes, max_size: int) -> bytes:
    """The XML of a sitemap response: gunzipped when it is gzip (a ``.xml.gz`` file), at
    most ``max_size`` bytes either way (0: no limit)."""
    if body[:2] == _GZIP_MAGIC:
        try:
            body = gunzip(body, max_size=max_size)
        except ValueError:  # Scrapy's decompression-size error is a ValueError
            raise BadSitemapError(
                "too_large", f"inflates to more than {max_size} bytes (a gzip bomb?)"
            ) from None
        except (OSError, EOFError) as error:
            raise BadSitemapError("bad_gzip", f"gzip that does not inflate: {error}") from None
    if max_size and len(body) > max_size:
        raise BadSitemapError("too_large", f"{len(body)} bytes, over {max_size}")
    return body


def read_sitemap(body: bytes, max_size: int) -> Sitemap:
    """A parsed sitemap (an index or an URL set) to iterate, or :class:`BadSitemapError`."""
    xml = sitemap_body(body, max_size)
    if _DECLARATION.search(xml):
        raise BadSitemapError("entities", "declares a DOCTYPE or entities")
    try:
        sitemap = Sitemap(xml)
    except (etree.XMLSyntaxError, StopIteration, ValueError) as error:
        raise BadSitemapError("not_xml", f"not XML ({type(error).__name__})") from None
    if sitemap.type not in ("sitemapindex", "urlset"):
        raise BadSitemapError("not_sitemap", f"root element <{sitemap.type[:40]}>, not a sitemap")
    return sitemap


def entries(sitemap: Sitemap) -> Iterator[dict[str, str]]:
    """The entries of a parsed sitemap, as they are read; XML that breaks half-way ends
    them (what was read before stays good)."""
    try:
        yield from sitemap
    except etree.XMLSyntaxError:
        return


def edition_maps(robots: bytes, edition: Edition, site: FetchRoot) -> list[str]:
    """The site URLs of ``edition``'s maps that ``robots.txt`` names (``/sitemaps/cn/...``),
    in its order; other languages' maps and other hosts' are left out."""
    folder = edition.sitemap_folder
    maps: list[str] = []
    for url in sitemap_urls_from_robots(robots, base_url=site.base_url or SITE_ROOT):
        site_form = site.to_site(url)
        if site_form and urlsplit(site_form).path.startswith(folder) and site_form not in maps:
            maps.append(site_form)
    return maps


def is_news_map(url: str, news_names: Iterable[str]) -> bool:
    """True for a Google News sitemap (by file name: ``RFI_SITEMAP_NEWS``)."""
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    return name in set(news_names)


def parse_lastmod(text: str | None) -> datetime | None:
    """A W3C datetime (``lastmod``, ``news:publication_date``) in UTC; None when absent;
    ``ValueError`` when it does not parse, or names a time UTC cannot express
    (``0001-01-01T00:00:00+01:00``, whose ``OverflowError`` would otherwise end the
    reading of the whole map)."""
    if not text:
        return None
    value = text.strip()
    reduced = _YEAR_MONTH.fullmatch(value)
    if reduced:
        year, month = reduced.groups()
        return datetime(int(year), int(month or 1), 1, tzinfo=UTC)
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value!r} is beyond the years UTC can express") from None


class MapBudget:
    """The child maps a run may still take from sitemap indexes (``RFI_SITEMAP_MAX_CHILDREN``).

    Each child taken is a request held in Scrapy's scheduler until it is read: an index of
    300,000 children would hold as many (970 MB). Past the budget, children are counted
    (:attr:`refused`), not requested.
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(0, limit)  # 0: no limit (checked at start: config.py)
        self.taken = 0
        self.refused = 0

    def take(self) -> bool:
        """True while the run may read one more child map (then it is counted taken)."""
        if self.limit and self.taken >= self.limit:
            self.refused += 1
            return False
        self.taken += 1
        return True


def month_key(day: date) -> str:
    """``YYYY-MM``: how listings and QA name a month."""
    return f"{day.year:04d}-{day.month:02d}"


@dataclass(frozen=True)
class ChildMap:
    """A child of a sitemap index: its URL, whether it lists articles, and its month."""

    url: str
    articles: bool
    month: date | None  # the first of its month, from its name or else its lastmod

    @classmethod
    def classify(
        cls, url: str, lastmod: datetime | None, contents: re.Pattern[str], skip: Iterable[str]
    ) -> ChildMap:
        """``contents``: the pattern of monthly article maps (a group ``month``: YYYYMM);
        ``skip``: names of maps that are not article lists (``tags.xml``, ...)."""
        name = urlsplit(url).path.rsplit("/", 1)[-1]
        if any(word and word in name for word in skip):
            return cls(url, False, None)
        match = contents.search(name)
        month = None
        stamp = match.group("month") if match else None
        if stamp:
            try:
                month = date(int(stamp[:4]), int(stamp[4:6]), 1)
            except ValueError:
                month = None
        if month is None and lastmod is not None:
            month = date(lastmod.year, lastmod.month, 1)
        return cls(url, True, month)

    def overlaps(self, since: date | None, until: date | None) -> bool:
        """Whether its month meets ``since..until`` (no range, or no month: True)."""
        if since is None or until is None or self.month is None:
            return True
        last = date(self.month.year + self.month.month // 12, self.month.month % 12 + 1, 1)
        return self.month <= until and since < last


@dataclass(frozen=True)
class Entry:
    """One article entry of an URL set: canonical URL, its day, lastmod as given (kept
    with the listing) and as parsed."""

    url: str
    day: date
    lastmod: str | None
    modified: datetime | None


def read_entry(entry: dict[str, str], site: FetchRoot) -> Entry | str:
    """An URL-set entry as an :class:`Entry`, or why it is skipped: ``bad_loc`` (not an
    absolute http(s) URL), ``bad_lastmod``, ``offsite`` (another host), ``not_article``
    (a tag, show or section page...)."""
    loc = (entry.get("loc") or "").strip()
    if not loc or len(loc) > 4096 or any(c.isspace() or not c.isprintable() for c in loc):
        return "bad_loc"
    try:
        if urlsplit(loc).scheme.lower() not in ("http", "https"):
            return "bad_loc"
    except ValueError:
        return "bad_loc"
    try:
        modified = parse_lastmod(entry.get("lastmod"))
    except ValueError:
        return "bad_lastmod"
    located = site.to_site(loc)
    if located is None:
        return "offsite"
    canonical = canonical_url(located)
    if canonical is None:
        return "bad_loc"
    day = article_date(canonical)
    if day is None:
        return "not_article"
    return Entry(canonical, day, (entry.get("lastmod") or "").strip() or None, modified)
