"""Re-extraction from WARC files: a download handler that answers from the archive.

``scrapy crawl rfi_cn -a from_warc=PATH[,PATH...]`` runs the spider as a live crawl
runs, with its requests, redirects, errors, robots.txt, mirrors, pipelines, dedupe
and QA, but every request is answered by :class:`WarcReplayHandler` from the
records of the WARC files given: no connection is ever opened (the handler takes
every scheme). A request the archive has no record of fails with
:class:`NotArchivedError`. Each answer carries its record's date in
``response.meta[WARC_DATE_META]``: the items' ``crawled_at``.

A record answers only the URL it was captured from, and only records of the site (the
fetch root) and of the mirrors' hosts answer at all: the archive's other hosts, or a
file whose ``warcinfo`` names another fetch root, never become site items
(``rfi/warc/skipped/<why>``, one warning).

Bad input never stops the run: a file that is not a WARC, a truncated record, a
record whose payload digest does not match, a header over ``MAX_HEADER_BYTES``, a
payload over ``DOWNLOAD_MAXSIZE`` (as for a download: read as a stream and dropped past
the limit), each costs one warning and a counter (``rfi/warc/bad/<reason>``), and the
rest is read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from scrapy import Request
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from scrapy.settings import BaseSettings

from rfi_spider.archive.warc_index import (
    Answer,
    ArchiveInfo,
    Entry,
    WarcArchive,
    digest_matches,
    first_record,
    page_of,
    read_info,
    url_key,
    warcinfo_base_url,
)
from rfi_spider.archive.warc_records import (
    RecordError,
)
from rfi_spider.arguments import warc_paths
from rfi_spider.canonical import SITE_ROOT, FetchRoot
from rfi_spider.config import RfiSettings
from rfi_spider.dates import iso_utc

logger = logging.getLogger(__name__)

# The request meta key the record's date (ISO 8601, UTC, seconds) is given in.
WARC_DATE_META = "rfi_warc_date"
# The schemes the handler takes: every request is answered from the archive.
_SCHEMES = ("http", "https", "ftp", "s3", "file", "data")

__all__ = [
    "WARC_DATE_META",
    "Answer",
    "ArchiveInfo",
    "Entry",
    "NotArchivedError",
    "WarcArchive",
    "WarcReplayHandler",
    "archived_only",
    "digest_matches",
    "first_record",
    "page_of",
    "payload_limit",
    "read_info",
    "start_replay",
    "url_key",
    "warc_paths",
    "warcinfo_base_url",
]


class NotArchivedError(Exception):
    """The WARC files hold no record of this URL."""


def payload_limit(settings: BaseSettings, config: RfiSettings) -> int:
    """The longest payload a replayed request may get (0: no limit): ``DOWNLOAD_MAXSIZE``,
    or the larger limits of sitemaps and mirror feeds (their own ``download_maxsize``)."""
    limits = [
        settings.getint("DOWNLOAD_MAXSIZE"),
        config.sitemap_max_bytes,
        config.mirror_max_bytes,
    ]
    return 0 if any(limit <= 0 for limit in limits) else max(limits)


_ARCHIVES: WeakKeyDictionary[Crawler, WarcArchive] = WeakKeyDictionary()


class WarcReplayHandler(BaseDownloadHandler):
    """Answers every request from the WARC files of ``RFI_WARC_REPLAY``; opens no connection."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.archive = self.shared_archive(crawler)
        self.maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")

    @staticmethod
    def shared_archive(crawler: Crawler) -> WarcArchive:
        """One index per crawl, however many schemes the handler serves."""
        archive = _ARCHIVES.get(crawler)
        if archive is None:
            config = RfiSettings.of(crawler)
            paths = [Path(p) for p in config.warc_replay]
            archive = _ARCHIVES[crawler] = WarcArchive(
                paths,
                crawler.stats,
                site=config.warc_replay_site or None,
                hosts=config.warc_replay_hosts,
                max_payload=payload_limit(crawler.settings, config),
            )
            logger.info(
                "from_warc: %d URL(s) answerable from %d WARC file(s); no network",
                len(archive),
                len(paths),
            )
        return archive

    async def download_request(self, request: Request) -> Response:
        entry = self.archive.find(request.url)
        if entry is None:
            self.crawler.stats.inc_value("rfi/warc/not_archived")
            raise NotArchivedError(f"no WARC record of {request.url}")
        maxsize = request.meta.get("download_maxsize", self.maxsize)
        try:
            answer = self.archive.load(entry, maxsize)
        except RecordError as problem:
            self.archive.bad(
                entry.path, entry.offset, problem.reason, f"{request.url}: {problem.detail}"
            )
            if problem.reason == "too_large":  # as Scrapy's HTTP handlers cancel it
                raise DownloadCancelledError(
                    f"{request.url}: its WARC payload is larger than download max size"
                    f" ({maxsize}, DOWNLOAD_MAXSIZE)"
                ) from None
            raise NotArchivedError(f"no readable WARC record of {request.url}") from None
        request.meta[WARC_DATE_META] = iso_utc(answer.date)
        headers = Headers(answer.headers)
        cls = responsetypes.from_args(headers=headers, url=request.url, body=answer.body)
        flags = ["warc", "browser"] if answer.browser else ["warc"]
        return cls(
            url=request.url,
            status=answer.status,
            headers=headers,
            body=answer.body,
            request=request,
            flags=flags,
            protocol="HTTP/1.1",
        )


def start_replay(
    settings: BaseSettings, paths: list[Path], site: FetchRoot, mirrors: list[str] | None
) -> tuple[FetchRoot, list[str]]:
    """``-a from_warc=``: a crawl's settings made so that every request is answered from
    the archive (``paths``), none from a network; returns the run's fetch root and mirrors.

    They are those of the crawl that wrote the archive (its ``warcinfo``), unless ``-a
    base_url=`` (``site`` has a ``base_url``) or ``-a mirrors=`` (``mirrors`` is not
    None) say otherwise; no capture, no browser, no delays (nothing is fetched).
    """
    info = read_info(paths)
    if site.base_url is None and info.base_url and info.base_url != SITE_ROOT:
        site = FetchRoot(info.base_url)
    if mirrors is None:
        mirrors = info.mirrors or []
    replay = f"{WarcReplayHandler.__module__}.{WarcReplayHandler.__name__}"
    for name, value in {
        "DOWNLOAD_HANDLERS": dict.fromkeys(_SCHEMES, replay),
        "RFI_WARC_REPLAY": [str(p) for p in paths],
        # Only the site's records (and the mirrors') answer: see WarcArchive.
        "RFI_WARC_REPLAY_SITE": site.base_url or SITE_ROOT,
        "RFI_WARC_REPLAY_HOSTS": [urlsplit(m).hostname or "" for m in mirrors],
        "RFI_WARC": False,
        "RFI_BROWSER_PATH": "",
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "RFI_BACKOFF_START": 0,
        "RFI_RETRY_AFTER_MAX": 0,
    }.items():
        settings.set(name, value, priority="spider")
    logger.info(
        "from_warc: re-extracting from %d WARC file(s), fetch root %s, no network",
        len(paths),
        site.base_url,
    )
    return site, mirrors


def archived_only(requests: Iterable[Request], crawler: Crawler) -> Iterator[Request]:
    """``from_warc``: the start requests the archive answers; a start page it never
    fetched is skipped (``rfi/warc/start_pages_not_archived``, one line)."""
    skipped = 0
    for request in requests:
        if WarcReplayHandler.shared_archive(crawler).find(request.url) is None:
            skipped += 1
            continue
        yield request
    if skipped:
        crawler.stats.set_value("rfi/warc/start_pages_not_archived", skipped)
        logger.info("from_warc: %d start page(s) not in the archive: skipped", skipped)
