"""The article pages' way through a run: asked for, answered, judged, and what comes of it.

The spider's article callbacks (``on_article``, ``on_article_error``: spider methods, so
that requests keep them under JOBDIR and scrapy-redis) hand their work to
:class:`ArticlePages`. It requests what the frontier hands out, has each page extracted
and judged (``extract/workers.py`` and ``extract/gate.py``: in a worker process when there
are workers) and acts on the verdict without checking again: the item; or the mirror's
copy (``sources/mirrors.py``); or a failed attempt for the failure book. At the end it
settles the queue: requests that never got an answer are failed attempts.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from rfi_spider import meta_keys
from rfi_spider.crawl.failure_book import FailureBook
from rfi_spider.crawl.frontier import Frontier
from rfi_spider.crawl.revisits import is_revisit, validators
from rfi_spider.extract.gate import OTHER_EDITION, OUT_OF_RANGE, Gate, Verdict
from rfi_spider.extract.workers import PageExtractor, PageFacts, PageJob, extract_page
from rfi_spider.fetch.causes import attempt_cause, count_failure, failure_cause
from rfi_spider.fetch.warc_capture import WarcCapture
from rfi_spider.items import ArticleItem
from rfi_spider.sources import Context, Mirrors

logger = logging.getLogger(__name__)


class ArticlePages:
    """Article requests and answers; ``callback``/``errback``: the spider's methods."""

    def __init__(
        self,
        context: Context,
        frontier: Frontier,
        book: FailureBook,
        mirrors: Mirrors,
        extractor: PageExtractor,
        gate: Gate,
        callbacks: tuple[Callable[..., Any], Callable[[Failure], Any]],
    ) -> None:
        self.context = context
        self.crawler = context.crawler
        self.frontier = frontier
        self.book = book
        self.mirrors = mirrors
        self.fallbacks = mirrors.fallbacks
        self.extractor = extractor
        self.gate = gate
        self.callback, self.errback = callbacks

    @property
    def stats(self) -> Any:
        return self.crawler.stats

    # --- asked ---------------------------------------------------------------------
    def requests(self, urls: Iterable[str]) -> Iterator[scrapy.Request]:
        """Hand new article URLs (canonical) to the frontier; then the next requests of
        its queue, as many as the window has room for."""
        self.frontier.add(urls)
        yield from self.next()

    def next(self) -> Iterator[scrapy.Request]:
        """Requests for queued articles while fewer than ``RFI_ARTICLE_WINDOW`` are out."""
        for url, resumed in self.frontier.hand_out():
            yield self.request(url, resumed)

    def request(self, url: str, resumed: bool = False) -> scrapy.Request:
        """The request of one article; one an interrupted run left goes first, and past
        the fingerprints that run left in a JOBDIR (REFETCH)."""
        return scrapy.Request(
            self.context.site.to_fetch(url),
            callback=self.callback,
            errback=self.errback,
            cb_kwargs={"site_url": url},
            meta={meta_keys.KIND: "article", meta_keys.REFETCH: resumed},
            priority=6 if resumed else 0,
        )

    # --- answered ------------------------------------------------------------------
    async def answered(self, response: Response, site_url: str) -> AsyncIterator[Any]:
        """:meth:`judged` on the page extracted by a worker process (``RFI_EXTRACT_
        WORKERS``), then the next articles of the queue.

        Whatever the page makes the extraction raise (in a worker or not, a worker's
        death included), the article is finished: its failure is recorded with the cause
        (``FailureBook.failed``), and the crawl goes on.
        """
        produced = False
        try:
            facts = None
            revisits = self.context.revisits
            if revisits is not None and is_revisit(response) and revisits.fetched(response):
                self.frontier.finished(site_url, False)  # a 304: a settled check, no page
                return
            if isinstance(response, TextResponse):
                capture = WarcCapture.of(self.crawler)
                if capture is not None:  # hold downloads back while the WARC writer catches up
                    await capture.room()
                facts = await self.extractor.extract(self.page_job(response, site_url))
            for output in self.judged(response, site_url, facts):
                produced = True
                yield output
        except Exception as error:  # a page must never stop the crawl
            self.stats.inc_value("rfi/failed/article/extraction_error")
            logger.debug("extraction of %s failed", site_url, exc_info=True)
            self.book.failed(site_url, f"extraction error: {type(error).__name__}: {error}")
        self.frontier.finished(site_url, produced)
        for request in self.next():
            yield request

    def page_job(self, response: TextResponse, site_url: str) -> PageJob:
        """What the extraction of an article page needs, the crawl's gate included; the
        item's URL is the one fetched (requested, or the site's redirect target)."""
        fetched_as = self.context.site.to_site(response.url) or site_url
        crawled_at = self.context.crawled_at(response)
        return PageJob(response.body, response.encoding, fetched_as, crawled_at, self.gate)

    def judged(
        self, response: Response, site_url: str, facts: PageFacts | None = None
    ) -> Iterator[ArticleItem]:
        """Act on the gate's verdict on a page (``extract/gate.py``): the article, or why
        there is none. ``facts``: the page extracted and judged already (by a worker),
        else it is here."""
        self.stats.inc_value("rfi/articles/fetched")
        if not isinstance(response, TextResponse):
            yield from self.not_article(response, site_url, "not_html")
            return
        if facts is None:
            facts = extract_page(self.page_job(response, site_url))
        verdict = facts.verdict or Verdict("empty_body")
        if verdict.json_ld_errors:
            self.stats.inc_value("rfi/page/bad_json_ld")
            logger.warning("%s: JSON-LD that does not parse was ignored", site_url)
        if verdict.page_fault:  # a 200 page that is not the article: the mirror's copy, if any
            yield from self.not_article(response, site_url, verdict.refused or "")
            return
        item = ArticleItem(facts.fields)
        if is_revisit(response):  # a change of content is a new version (archive/versions.py)
            item["revisit"] = True
        if any(found := validators(response)):
            item["validators"] = found
        self.report_claims(verdict.other_claims, item["url"])
        if verdict.refused == OTHER_EDITION:  # redirected to a twin
            yield from self.refuse(response, site_url, OTHER_EDITION)
            return
        self.fallbacks.site_served(site_url)  # the site's version wins
        if verdict.refused == OUT_OF_RANGE:
            self.context.out_of_range(item)
            return
        self.fallbacks.deliver(site_url, item["url"])
        self.frontier.item_for(site_url, item["url"])  # its queue entry is done with the item
        yield item

    def report_claims(self, claims: Iterable[tuple[str, str]], url: str) -> None:
        """Log and count (``rfi/page/canonical_mismatch``) a canonical link or ``og:url``
        naming another URL than ``url``: a page cannot take another article's place."""
        for name, claimed in claims:
            self.stats.inc_value("rfi/page/canonical_mismatch")
            logger.warning(
                "%s: its %s names another URL, %s: ignored, the article is kept under the"
                " URL fetched",
                url,
                name,
                claimed[:300],
            )

    def not_article(self, response: Response, site_url: str, reason: str) -> Iterator[Any]:
        """A page that gives no article (``rfi/dropped/<reason>``): its mirror copy stands
        in if there is one; otherwise the article failed (recorded, tried again later)."""
        if not self.fallbacks.is_waiting(site_url):
            self.book.failed(site_url, f"not an article: {reason}")
        yield from self.refuse(response, site_url, reason)

    def refuse(self, response: Response, site_url: str, reason: str) -> Iterator[ArticleItem]:
        """A page that is not the article: dropped (counted, logged); its mirror copy, if
        any, stands in."""
        self.stats.inc_value(f"rfi/dropped/{reason}")
        logger.warning("dropped %s: %s (status %d)", response.url, reason, response.status)
        yield from self.mirrors.site_refused(site_url, reason)

    # --- not answered --------------------------------------------------------------
    def failed(self, failure: Failure) -> Iterator[Any]:
        """An article the site would not serve: its mirror entry, if any, stands in."""
        count_failure(failure, self.stats)
        request = failure.request  # type: ignore[attr-defined]  # Scrapy sets it on errbacks
        site_url = request.cb_kwargs["site_url"]
        cause = attempt_cause(failure, self.crawler.settings)
        if cause and not self.fallbacks.is_waiting(site_url):  # no mirror copy: it failed
            self.book.failed(site_url, f"could not fetch: {cause}")
        produced = False
        for item in self.mirrors.site_refused(site_url, failure_cause(failure)):
            produced = True
            yield item
        self.frontier.finished(site_url, produced)
        yield from self.next()

    def dropped(self, request: scrapy.Request) -> None:
        """A request the scheduler refused: a redirect back to a page already asked for."""
        kind = request.meta.get(meta_keys.KIND)
        redirects = request.meta.get("redirect_urls")
        if kind == "article":
            self.frontier.finished(request.cb_kwargs["site_url"], produced_item=False)
        if redirects and kind:
            loop = request.url in redirects
            cause = "redirect_loop" if loop else "redirect_to_known_page"
            self.stats.inc_value(f"rfi/failed/{kind}/{cause}")
            logger.warning(
                "%s %s redirects %s %s",
                kind,
                redirects[0],
                "in a loop back to" if loop else "to a page already requested:",
                request.url,
            )

    def at_idle(self) -> list[scrapy.Request]:
        """Nothing left in Scrapy: more of the queue, or (none) the queue settled: each
        request that never got an answer is a failed attempt."""
        self.frontier.idle()
        requests = list(self.next())
        if requests:
            return requests
        unanswered = self.frontier.settle()
        for url in self.frontier.unanswered():  # each such request is one failed attempt
            if self.book.unanswered(url):  # given up: off the queue
                self.frontier.pending.done(url)
        self.frontier.pending.flush()
        if unanswered:
            self.stats.set_value("rfi/pending/unanswered", unanswered)
            logger.warning(
                "%d article request(s) ended without an answer (no response, no error):"
                " they stay in the pending queue, and the next run fetches them first",
                unanswered,
            )
        return []
