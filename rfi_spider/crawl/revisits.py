"""Revisits: which archived articles a run fetches again, to catch their edits.

RFI edits articles after publishing them (``dateModified``, the sitemaps'
``lastmod``). An article already exported is fetched again when

- a sitemap the run reads (the news map in every run, the monthly maps in a
  backfill) lists it with a ``lastmod`` later than its last settled fetch (the
  fetch of its latest version, or a later one that found it unchanged or got a
  304): :meth:`Revisits.from_sitemap`;
- it was published in the last ``RFI_REVISIT_DAYS`` days and last fetched at
  least ``RFI_REVISIT_EVERY`` hours ago, oldest check first: :meth:`Revisits.due`.

Both draw on one budget, ``RFI_REVISIT_MAX`` revisits a run (``rfi/revisits/over_budget``
counts those left for a later run), so that a run never becomes a re-crawl. A
revisit is conditional: ``If-None-Match`` and ``If-Modified-Since`` from the
validators of the article's last page; a 304 is a settled check and nothing more
(``rfi/revisits/not_modified``). A page that comes back goes to the export, which
compares its content digest with the latest version's (``archive/versions.py``).

Nothing here is kept in memory across runs: what is due is read from the state
(``checks``, ``versions``), so a run killed half-way revisits the same articles
again, and the export's (URL, version) record keeps each version once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import scrapy
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector

from rfi_spider import meta_keys
from rfi_spider.archive.state import Checked, SeenStore
from rfi_spider.config import RfiSettings
from rfi_spider.dates import iso_utc

logger = logging.getLogger(__name__)

# Request meta: the request is a revisit of an archived article.
REVISIT = meta_keys.REVISIT


def is_revisit(response: Response) -> bool:
    """Whether ``response`` answers a revisit (False for a response built without a request)."""
    request = response.request
    return bool(request is not None and request.meta.get(REVISIT))


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def validators(response: Response) -> tuple[str | None, str | None]:
    """The page's ``ETag`` and ``Last-Modified`` (text), for the next conditional request."""
    etag = response.headers.get("ETag")
    modified = response.headers.get("Last-Modified")
    return (
        etag.decode("latin-1") if etag else None,
        modified.decode("latin-1") if modified else None,
    )


def http_date(value: str) -> str | None:
    """``value`` (an HTTP date, or ISO 8601) as an HTTP date; None when it is neither."""
    when: datetime | None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        when = _parse_time(value)
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return format_datetime(when.astimezone(UTC), usegmt=True)


class Revisits:
    """This run's revisits: the due ones, the sitemaps' edited ones, and the budget."""

    def __init__(
        self,
        store: SeenStore,
        config: RfiSettings,
        stats: Callable[[], StatsCollector],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """``stats``: the crawl's stats collector, when asked (it is set once the crawl
        starts, after the spider is made)."""
        self.store = store
        self._stats = stats
        self.days = config.revisit_days
        self.every = config.revisit_every
        self.budget = config.revisit_max
        self.now = now
        self.scheduled: set[str] = set()  # this run's revisits (at most the budget)
        # The spider's article request of a URL (its callbacks), set once it has one.
        self.make: RequestMaker | None = None
        # Checked times of URLs another place knows (a distributed crawl's Redis): url ->
        # ISO time or None. Local state only when None.
        self.checked_elsewhere: Callable[[str], str | None] | None = None

    @property
    def stats(self) -> StatsCollector:
        return self._stats()

    def last_check(self, url: str) -> tuple[str | None, str | None, str | None] | None:
        """``(checked_at, etag, last_modified)`` of an archived article; None if unknown."""
        row = self.store.db.execute(
            "SELECT checked_at, etag, last_modified FROM checks WHERE url = ?", (url,)
        ).fetchone()
        if row is None and self.checked_elsewhere is not None:
            checked = self.checked_elsewhere(url)
            return (checked, None, None) if checked is not None else None
        if row is None:
            return None
        checked_at, etag, last_modified = row
        return checked_at, etag, last_modified

    def from_sitemap(
        self, entries: Iterable[tuple[str, datetime | None]], make: RequestMaker | None = None
    ) -> Iterator[scrapy.Request]:
        """Revisit requests for the archived articles a sitemap lists as modified after
        their last settled fetch (``rfi/revisits/lastmod``)."""
        make = make or self.make
        if self.budget <= 0 or make is None:
            return
        for url, modified in entries:
            if modified is None or url in self.scheduled:
                continue
            check = self.last_check(url)
            if check is None:  # not archived: a new article, requested as such
                continue
            checked = _parse_time(check[0])
            if checked is not None and modified <= checked:
                continue
            request = self.schedule(url, check, make, "lastmod")
            if request is not None:
                yield request

    def due(self, make: RequestMaker | None = None) -> Iterator[scrapy.Request]:
        """Revisit requests for the articles of the revisit window: published in the last
        ``RFI_REVISIT_DAYS`` days, last checked ``RFI_REVISIT_EVERY`` hours ago or more,
        oldest check first (``rfi/revisits/window``)."""
        make = make or self.make
        room = self.budget - len(self.scheduled)
        if room <= 0 or self.days <= 0 or make is None:
            return
        now = self.now()
        since = iso_utc(now - timedelta(days=self.days))
        before = iso_utc(now - timedelta(hours=self.every))
        rows = self.store.db.execute(
            "SELECT url, checked_at, etag, last_modified FROM checks"
            " WHERE published_at >= ? AND checked_at <= ? ORDER BY checked_at, url LIMIT ?",
            (since, before, room + len(self.scheduled)),
        ).fetchall()
        for url, *check in rows:
            if url in self.scheduled:
                continue
            request = self.schedule(url, tuple(check), make, "window")
            if request is not None:
                yield request

    def schedule(
        self, url: str, check: tuple, make: RequestMaker, why: str
    ) -> scrapy.Request | None:
        """One revisit within the budget (over it: counted, left for a later run)."""
        if len(self.scheduled) >= self.budget:
            self.stats.inc_value("rfi/revisits/over_budget")
            return None
        self.scheduled.add(url)
        self.stats.inc_value("rfi/revisits/scheduled")
        self.stats.inc_value(f"rfi/revisits/{why}")
        _, etag, last_modified = check
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified and (date := http_date(last_modified)):
            headers["If-Modified-Since"] = date
        request = make(url)
        request.headers.update(headers)
        request.meta[REVISIT] = True
        request.meta[meta_keys.REFETCH] = True  # past an earlier run's fingerprints (JOBDIR)
        request.meta["handle_httpstatus_list"] = [304]
        request.priority = -1  # after this run's new articles
        return request

    def fetched(self, response: Response) -> bool:
        """A revisit's answer: True when it is a 304 (settled here, nothing more to do)."""
        self.stats.inc_value("rfi/revisits/checked")
        if response.status != 304:
            return False
        self.stats.inc_value("rfi/revisits/not_modified")
        url = response.request.cb_kwargs.get("site_url") if response.request else None
        if url:
            etag, modified = validators(response)
            self.store.record_checks([Checked(url, iso_utc(self.now()), None, etag, modified)])
        return True


RequestMaker = Callable[[str], scrapy.Request]
