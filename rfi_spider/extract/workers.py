"""Article extraction in worker processes: the parse and the fields, off the crawl's process.

An article page costs the crawl's one process more CPU than Scrapy itself (the lxml
parse alone is half the null spider's time a page), so the spider hands each page
to a pool of worker processes and awaits the result (``RfiCnSpider.on_article``).

- :func:`extract_page` is the worker's function: picklable inputs
  (:class:`PageJob`: the body's bytes, its encoding, the URL fetched as, the crawl
  date) in, plain data out (:class:`PageFacts`: the item's fields, the URLs the page
  claims, its JSON-LD errors, or why there is no page). The spider's decisions
  (``missing``, ``check_claims``, the mirror fallbacks, the article window) stay in
  the crawl's process.
- :class:`PageExtractor` runs it in a ``ProcessPoolExecutor`` of
  ``RFI_EXTRACT_WORKERS`` processes, or in the crawl's process when that is 0 (the
  single-process mode, for debugging). A worker's exception is raised again in the
  crawl's process, as it would have been in-process. A worker that dies (a crash, a
  kill: ``BrokenProcessPool``) breaks the pool: a new pool is started, and each page
  that was in it is tried once more there; a second crash is raised as the page's
  failure. The pool is shut down when the spider closes.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from rfi_spider.extract.loaders import load_article
from rfi_spider.extract.page import ArticlePage, parse_html

logger = logging.getLogger(__name__)

# Default worker count: the CPUs this process may run on, at most this many (past the
# cores a crawl's one main process can feed, more workers only cost memory).
MAX_DEFAULT_WORKERS = 4


@dataclass(frozen=True)
class PageJob:
    """What a worker needs to extract one article page (all picklable)."""

    body: bytes
    encoding: str
    url: str  # the site URL the page was fetched as: the item's URL
    crawled_at: str | None


@dataclass
class PageFacts:
    """What the extraction found: the item's fields, or why there is no page."""

    fields: dict[str, Any] | None  # None: no page (see ``not_article``)
    not_article: str | None = None  # "empty_body": no markup at all
    json_ld_errors: int = 0
    claimed_urls: list[tuple[str, str]] = field(default_factory=list)


def extract_page(job: PageJob) -> PageFacts:
    """Parse one page and load its item; the same function in a worker and in-process."""
    root = parse_html(job.body, job.encoding)
    if root is None:
        return PageFacts(fields=None, not_article="empty_body")
    page = ArticlePage(root, job.url)
    item = load_article(page, crawled_at=job.crawled_at)
    return PageFacts(
        fields=dict(item),
        json_ld_errors=page.json_ld_errors,
        claimed_urls=page.claimed_urls(),
    )


def default_workers() -> int:
    """One worker per CPU this process may use, at most :data:`MAX_DEFAULT_WORKERS`."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_DEFAULT_WORKERS))


def worker_count(value: Any) -> int:
    """``RFI_EXTRACT_WORKERS``: unset (None or empty) is :func:`default_workers`; 0 is
    in-process. ValueError for anything else than a whole number ≥ 0."""
    if value is None or value == "":
        return default_workers()
    count = int(value)
    if count < 0:
        raise ValueError(f"RFI_EXTRACT_WORKERS must be 0 or more, not {value!r}")
    return count


def _context() -> multiprocessing.context.BaseContext:
    """Workers come from a fork server that imported only the extraction: never a fork of
    the crawl's process itself (its reactor, its threads and their locks)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


class PageExtractor:
    """Runs :func:`extract_page` in a pool of ``workers`` processes (0: in-process).

    ``function`` is the worker's function (tests give another one); ``on_restart`` is
    called with the cause each time a broken pool is replaced.
    """

    def __init__(
        self,
        workers: int,
        function: Callable[[Any], Any] = extract_page,
        on_restart: Callable[[str], None] | None = None,
    ) -> None:
        self.workers = workers
        self.function = function
        self.on_restart = on_restart
        self.restarts = 0
        self._pool: Executor | None = None
        self._closed = False

    @property
    def running(self) -> bool:
        """Whether a pool of workers is up."""
        return self._pool is not None

    def pool(self) -> Executor:
        """The running pool, started at the first page (and again after a crash)."""
        if self._closed:
            raise RuntimeError("the extraction pool is shut down")
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=_context())
            logger.info("article extraction: a pool of %d worker process(es)", self.workers)
        return self._pool

    async def extract(self, job: Any) -> Any:
        """The function's result for ``job``; its exception if it raised.

        In a pool: a pool broken while the job was in it (a worker died) is replaced
        and the job tried once more; ``BrokenProcessPool`` if the new one breaks too.
        """
        if self.workers <= 0:
            return self.function(job)
        for attempt in (1, 2):
            pool = self.pool()
            try:
                return await asyncio.wrap_future(pool.submit(self.function, job))
            except BrokenProcessPool as error:
                self._replace(pool, error)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _replace(self, pool: Executor, error: BaseException) -> None:
        """Drop a broken pool (once, whichever of its jobs notices first)."""
        if self._pool is not pool:
            return  # another job already replaced it
        self._pool = None
        self.restarts += 1
        pool.shutdown(wait=False, cancel_futures=True)
        cause = f"{type(error).__name__}: {error}"
        logger.warning("an extraction worker died (%s): a new pool of workers is started", cause)
        if self.on_restart is not None:
            self.on_restart(cause)

    def close(self) -> None:
        """Shut the pool down (jobs not started are cancelled); no new job afterwards."""
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
