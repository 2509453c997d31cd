"""WARC capture: every response the crawl downloads, as the site sent it (issue 16).

An extension on Scrapy's ``response_downloaded`` signal, which the downloader sends
for every response before any middleware sees it: articles, listings, feeds,
sitemaps, mirror feeds, ``robots.txt``, redirects (3xx) and errors (4xx, 5xx,
each retry). Each becomes a ``request`` and a ``response`` record, the body as it
came over the wire (still gzip-encoded if the server sent it so), with
``WARC-Target-URI`` the URL fetched (through ``base_url``), ``WARC-Date``, the
payload digest and ``WARC-IP-Address`` where Scrapy knows it. A page the browser
fallback fetched is a ``resource`` record of the HTML the browser got (the HTML the
server sent its document, as the crawl parses it; the DOM when that is no page),
marked ``RFI-Fetched-By: browser``.

Records are built and written by one writer thread (gzip and digests off the
reactor), each compressed in one call at ``RFI_WARC_GZIP_LEVEL`` (see ``warc_files``),
a request and its response one write: each write lets go of the interpreter lock and
must take it back beside the busy main thread, so the fewer of them a page, the less
the two threads wait on each other.
Its queue is bounded: past :data:`MAX_BACKLOG` responses waiting, the
spider's article callbacks wait for room (:meth:`WarcCapture.room`), which holds
Scrapy's downloads back (its scraper's size limit). Without it, a crawl whose
extraction runs in worker processes outran the writer on two cores and held every
page still to be written: 2,000 pages took 292 MB instead of 133. ``RFI_WARC``
(default on) turns capture on.

A WARC folder that cannot be written (read-only, full, a file in its place) stops the
crawl: one error line, ``rfi/warc/write_error``, the finish reason ``write_error`` (exit
status 1, a failed "finish reason" monitor), checked before anything is fetched.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import tempfile
import threading
import weakref
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date

from rfi_spider import __version__
from rfi_spider.archive.pipelines import WRITE_ERROR
from rfi_spider.archive.warc_files import WarcFiles, repair_folder
from rfi_spider.archive.warc_payloads import PayloadIndex
from rfi_spider.canonical import SITE_ROOT
from rfi_spider.config import RfiSettings
from rfi_spider.crawl_target import CrawlTarget
from rfi_spider.fetch.warc_exchange import Exchange, response_status_and_headers

# Its lines keep the name they had in archive/warc_capture.py (the log's [name] stays the same).
logger = logging.getLogger("rfi_spider.archive.warc_capture")

# The extension header that marks a page the browser fallback fetched.
FETCHED_BY = "RFI-Fetched-By"

# Responses that may wait for the writer thread before article callbacks wait for room.
MAX_BACKLOG = 16
_CAPTURES: weakref.WeakKeyDictionary[Crawler, WarcCapture] = weakref.WeakKeyDictionary()


class WarcCapture:
    """Writes every downloaded response to ``<RFI_OUTPUT_DIR>/warc/`` (see the module doc)."""

    @staticmethod
    def of(crawler: Crawler) -> WarcCapture | None:
        """The crawl's capture, or None when it is off."""
        return _CAPTURES.get(crawler)

    def __init__(self, crawler: Crawler) -> None:
        config = RfiSettings.of(crawler)
        if not config.warc:
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats
        self.state_dir = config.state_dir
        self.payloads: PayloadIndex | None = None  # opened with the files
        self.folder = config.warc_dir or config.output_dir / "warc"
        self.prefix = config.warc_prefix
        self.max_size = config.warc_max_size
        self.fsync = config.fsync
        self.level = config.warc_gzip_level  # 0-9, checked by RfiSettings
        self.files: WarcFiles | None = None
        # The writer thread and what it is handed, in order (None: the crawl is over).
        self.queue: queue.SimpleQueue[Exchange | None] = queue.SimpleQueue()
        self.thread: threading.Thread | None = None
        self.failed = threading.Event()
        self.closing = False
        self.backlog = 0  # responses handed to the writer thread and not yet written
        self.waiting = False  # a callback waits in room() (under the lock, as backlog)
        self.lock = threading.Lock()
        self.drained: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        _CAPTURES[crawler] = self
        connect = crawler.signals.connect
        connect(self.spider_opened, signal=signals.spider_opened)
        connect(self.spider_closed, signal=signals.spider_closed)
        connect(self.response_downloaded, signal=signals.response_downloaded)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCapture:
        return cls(crawler)

    def info(self, spider: Spider) -> dict[str, str]:
        """The ``warcinfo`` fields: the software, the run, and what ``from_warc`` reads back."""
        settings = self.crawler.settings
        target = CrawlTarget.of(self.crawler)  # None: a spider not of this project
        return {
            "software": f"rfi-spider/{__version__} (Scrapy, warcio)",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/"
            "warc-format/warc-1.1/",
            "isPartOf": spider.name,
            "http-header-user-agent": settings.get("USER_AGENT") or "",
            "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            "rfi-base-url": (target.site.base_url if target else None) or SITE_ROOT,
            "rfi-mirrors": ",".join(target.mirrors if target else ()),
        }

    def spider_opened(self, spider: Spider) -> None:
        prefix = f"{self.prefix}-{spider.name}"
        self.files = WarcFiles(
            self.folder, prefix, self.max_size, self.info(spider), self.fsync, self.level
        )
        try:  # a folder that cannot be written fails the crawl before it fetches anything
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.folder):
                pass
            repair_folder(self.folder, self.stats.inc_value)
        except OSError as exc:
            self.write_failed(exc, stop=False)
            raise CloseSpider(WRITE_ERROR) from None  # Scrapy closes it once it is open
        self.payloads = PayloadIndex(self.state_dir)
        # A daemon: spider_closed drains and joins it; a crawl that never closes (killed)
        # must not hang at exit in a thread waiting for more.
        self.thread = threading.Thread(target=self.run_writer, name="warc-writer", daemon=True)
        self.thread.start()
        logger.info("WARC capture on: %s/%s-*.warc.gz", self.folder, prefix)

    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        """Hand the exchange to the writer thread: a put on a ``SimpleQueue`` (C, no
        condition variable), not an executor's submit (a future, a work item, a locked
        queue and a semaphore each response, on the reactor's thread: issue 26)."""
        if self.thread is None or self.failed.is_set():
            return
        exchange = Exchange.of(request, response)
        with self.lock:
            self.backlog += 1
        self.queue.put(exchange)

    async def room(self) -> None:
        """Return once at most :data:`MAX_BACKLOG` responses wait for the writer."""
        if self.drained is None:
            self.loop = asyncio.get_running_loop()
            self.drained = asyncio.Event()
        while True:
            self.drained.clear()
            with self.lock:
                if self.backlog <= MAX_BACKLOG:
                    return
                self.waiting = True
            # How often the crawl waited for the writer: 0 when the writer keeps up.
            self.stats.inc_value("rfi/warc/waits_for_writer")
            await self.drained.wait()

    def spider_closed(self, spider: Spider) -> None:
        self.closing = True
        if self.thread is not None:
            self.queue.put(None)  # after every exchange handed over: all are written
            self.thread.join()
        if self.files is not None:
            try:
                self.files.close()
            except OSError as exc:
                self.write_failed(exc)
            for path in self.files.written:
                logger.info("WARC file written: %s", path)
        if self.payloads is not None:
            self.payloads.close()

    # --- in the writer thread ------------------------------------------------------
    def run_writer(self) -> None:
        """The writer thread: the exchanges in the order they came, until the None."""
        while (exchange := self.queue.get()) is not None:
            try:
                self.write_one(exchange)
            except Exception:  # a record that cannot be built costs itself, not the thread
                logger.exception("WARC record of %s not written", exchange.url)
                self.stats.inc_value("rfi/warc/record_error")

    def write_one(self, exchange: Exchange) -> None:
        """Write an exchange; wake the callbacks waiting for room once half of it is free."""
        try:
            self.write(exchange)
        finally:
            with self.lock:
                self.backlog -= 1
                # Only a callback waiting is woken: a wake-up each record cost the reactor
                # a turn of its loop a page (issue 26).
                wake = self.waiting and self.backlog <= MAX_BACKLOG // 2
                if wake:
                    self.waiting = False
            loop, drained = self.loop, self.drained
            if wake and loop is not None and drained is not None and not loop.is_closed():
                loop.call_soon_threadsafe(drained.set)

    def write(self, exchange: Exchange) -> None:
        """Write an exchange's records. A file that cannot be written stops the capture;
        any other error (a record that cannot be built) is :meth:`run_writer`'s."""
        assert self.files is not None
        try:
            if exchange.browser:
                self.files.write(self.browser_record(exchange))
            else:
                request, response, written = self.pair(exchange)
                self.files.write(request, response)
                if written is not None:
                    self.index(exchange.url, *written)
        except OSError as exc:
            self.write_failed(exc)
            return
        self.stats.inc_value("rfi/warc/records", 1 if exchange.browser else 2)

    def index(self, url: str, digest: str, date: str) -> None:
        """Index a payload just written; a failure costs only a later copy of it."""
        if self.payloads is None:
            return
        try:
            self.payloads.add(url, digest, date)
        except sqlite3.Error as error:
            self.stats.inc_value("rfi/warc/payload_index_error")
            logger.warning("WARC payload index: %s (a revisit of %s copies it again)", error, url)

    def write_failed(self, exc: OSError, stop: bool = True) -> None:
        """Capture stops, and so does the crawl (finish reason ``write_error``, exit 1): a
        crawl that promised WARC files must not end well without them, nor go on fetching
        pages it cannot archive. Called from the writer thread too."""
        if self.failed.is_set():
            return
        self.failed.set()
        self.stats.inc_value("rfi/warc/write_error")
        logger.error("WARC capture stopped, crawl stopped: cannot write: %s", exc)
        if not stop:
            return
        if threading.current_thread() is threading.main_thread():
            self.stop_crawl()
        else:
            from twisted.internet import reactor  # the crawl's, installed by then

            reactor.callFromThread(self.stop_crawl)

    def stop_crawl(self) -> None:
        try:
            engine = self.crawler.engine
        except RuntimeError:  # no crawl is running
            return
        if engine is None or not engine.running or self.closing:
            return  # the crawl is ending anyway: the error line and the counter say it
        self.closing = True
        deferred_from_coro(engine.close_spider_async(reason=WRITE_ERROR))

    def warc_headers(self, exchange: Exchange) -> dict[str, str]:
        """``WARC-Date`` (UTC, microseconds: warcio wants it naive) and the IP address."""
        headers = {
            "WARC-Date": datetime_to_iso_date(exchange.date.replace(tzinfo=None), use_micros=True)
        }
        if exchange.ip:
            headers["WARC-IP-Address"] = exchange.ip
        return headers

    def pair(self, exchange: Exchange) -> tuple[Any, Any, tuple[str, str] | None]:
        """The ``request`` and ``response`` records of a response from Scrapy's HTTP stack,
        and the ``(payload digest, WARC-Date)`` to index once they are written (None: a
        ``revisit`` record, whose payload an earlier record of the URI holds)."""
        assert self.files is not None
        builder = self.files.builder
        request = self.request_record(exchange)
        http_headers = response_status_and_headers(exchange)
        warc_headers = self.warc_headers(exchange)
        response = builder.create_warc_record(
            exchange.url,
            "response",
            payload=BytesIO(exchange.body),
            length=len(exchange.body),
            warc_headers_dict=dict(warc_headers),
            http_headers=http_headers,
        )
        if not exchange.body or not 200 <= exchange.status < 300:
            return request, response, None
        # The payload's digest, as the builder computed it (one hash of the body, not two).
        digest = response.rec_headers.get_header("WARC-Payload-Digest")
        earlier = None if self.payloads is None else self.payloads.find(exchange.url, digest)
        if earlier is None:
            return request, response, (digest, warc_headers["WARC-Date"])
        # The identical-payload-digest profile: no second copy.
        self.stats.inc_value("rfi/warc/revisits")
        revisit = builder.create_revisit_record(
            exchange.url,
            digest,
            exchange.url,
            earlier,
            http_headers=response_status_and_headers(exchange),
            warc_headers_dict=warc_headers,
        )
        return request, revisit, None

    def request_record(self, exchange: Exchange) -> Any:
        """The ``request`` record: the request line and headers as sent (``Host`` added
        when Scrapy's stack set none of its own), and its body."""
        assert self.files is not None
        parts = urlsplit(exchange.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request_headers = list(exchange.request_headers)
        if not any(name.lower() == "host" for name, _ in request_headers):
            request_headers.insert(0, ("Host", parts.netloc))
        return self.files.builder.create_warc_record(
            exchange.url,
            "request",
            payload=BytesIO(exchange.request_body),
            length=len(exchange.request_body),
            warc_headers_dict=self.warc_headers(exchange),
            http_headers=StatusAndHeaders(
                f"{exchange.method} {target} HTTP/1.1", request_headers, is_http_request=True
            ),
        )

    def browser_record(self, exchange: Exchange) -> Any:
        """A ``resource`` record of the HTML the browser got, marked as the browser's."""
        assert self.files is not None
        content_type = next(
            (v for n, v in exchange.response_headers if n.lower() == "content-type"),
            "text/html",
        )
        headers = self.warc_headers(exchange)
        headers[FETCHED_BY] = "browser"
        headers["RFI-Browser-Status"] = str(exchange.status)
        return self.files.builder.create_warc_record(
            exchange.url,
            "resource",
            payload=BytesIO(exchange.body),
            length=len(exchange.body),
            warc_content_type=content_type,
            warc_headers_dict=headers,
        )
