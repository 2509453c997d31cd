"""Article extraction in worker processes: the parse and the fields, off the crawl's process.

An article page costs the crawl's one process more CPU than Scrapy itself (the lxml
parse alone is half the null spider's time a page), so the spider hands each page
to a pool of worker processes and awaits the result (``RfiCnSpider.on_article``).

- :func:`extract_page` is the worker's function: picklable inputs
  (:class:`PageJob`: the body's bytes, its encoding, the URL fetched as, the crawl
  date) in, plain data out (:class:`PageFacts`: the item's fields, the URLs the page
  claims, its JSON-LD errors, or why there is no page) and the gate's verdict
  (``extract/gate.py``: whether the page is the article), decided here once. What the
  spider does with the verdict (the mirror fallbacks, the frontier) stays in the
  crawl's process.
- :class:`PageExtractor` runs it in ``RFI_EXTRACT_WORKERS`` worker processes, or in
  the crawl's process when that is 0 (the single-process mode, for debugging). A
  worker's exception is raised again in the crawl's process, as it would have been
  in-process. A worker that dies (a crash in a C extension, a kill) fails the one page
  it held (``BrokenProcessPool``) and is replaced; the others go on. The workers are
  stopped when the spider closes.

Why not ``concurrent.futures.ProcessPoolExecutor``: it was tried first, and it saved
the crawl's process about 1 ms of the 4 ms an extraction costs (BENCHMARKS.md). Its
feeder and manager threads pickle the 200 KB pages and wake each other in the crawl's
process, where they contend for the GIL with the event loop. Here the event loop
itself hands a page to an idle worker and reads the result when the worker's results
pipe is readable (``loop.add_reader``, once for the worker's life): no thread, no
pickling of the body, one page at a time per worker; the body is copied into the
worker's shared buffer (or, when larger, goes down the pipe as it is), beside the pickle
of the rest of the job (``worker_ipc.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import mmap
import os
import pickle
import signal
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from rfi_spider.extract.gate import Gate, Verdict
from rfi_spider.extract.loaders import load_article
from rfi_spider.extract.page import ArticlePage
from rfi_spider.extract.worker_ipc import (
    open_pipe,
    receive_job,
    receive_result,
    send_job,
    send_result,
    shared_buffer,
)

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
    gate: Gate | None = None  # the crawl's rules: the page is judged where it is extracted


@dataclass
class PageFacts:
    """What the extraction found: the item's fields, or why there is no page."""

    fields: dict[str, Any] | None  # None: no page (see ``not_article``)
    not_article: str | None = None  # "empty_body": no markup at all
    json_ld_errors: int = 0
    claimed_urls: list[tuple[str, str]] = field(default_factory=list)
    verdict: Verdict | None = None  # the gate's, when the job had one


def extract_page(job: PageJob) -> PageFacts:
    """Parse one page, load its item and, with the job's gate, judge whether it is the
    article; the same function in a worker and in-process."""
    page = ArticlePage.from_bytes(job.body, job.encoding, job.url)
    if page is None:
        facts = PageFacts(fields=None, not_article="empty_body")
    else:
        item = load_article(page, crawled_at=job.crawled_at)
        facts = PageFacts(
            fields=dict(item),
            json_ld_errors=page.json_ld_errors,
            claimed_urls=page.claimed_urls(),
        )
    if job.gate is not None:
        facts.verdict = job.gate.judge(
            job.body, facts.fields, facts.json_ld_errors, facts.claimed_urls, facts.not_article
        )
    return facts


def default_workers() -> int:
    """One worker per CPU this process may use, at most :data:`MAX_DEFAULT_WORKERS`."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_DEFAULT_WORKERS))


def worker_count(value: Any, re_extracting: bool = False) -> int:
    """``RFI_EXTRACT_WORKERS``: 0 is in-process; unset (None or empty) is
    :func:`default_workers` for a re-extraction (``-a from_warc=``), 0 for a crawl.
    ValueError for anything else than a whole number ≥ 0.

    Measured (BENCHMARKS.md): re-extraction is pure CPU and gains from the workers; a
    crawl with WARC capture on is held by the capture and ran slower with them.
    """
    if value is None or value == "":
        return default_workers() if re_extracting else 0
    count = int(value)
    if count < 0:
        raise ValueError(f"RFI_EXTRACT_WORKERS must be 0 or more, not {value!r}")
    return count


def serve(jobs: int, results: int, function_name: str, shared_fd: int = -1) -> None:
    """A worker process: read a job, write back ``(True, result)`` or ``(False,
    exception)``, until the crawl's end of the pipe closes (the crawl stopped or died).
    ``shared_fd``: the buffer bodies may come in (-1: none)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the crawl's to handle
    module, _, name = function_name.partition(":")
    function = getattr(importlib.import_module(module), name)
    shared = None
    if shared_fd >= 0:
        shared = mmap.mmap(shared_fd, 0)
        os.close(shared_fd)
    while True:
        try:
            job = receive_job(jobs, shared)
        except (EOFError, OSError):
            return
        try:
            outcome: tuple[bool, Any] = (True, function(job))
        except Exception as error:
            outcome = (False, error)
        try:
            message = pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # an exception that does not pickle: its text does
            message = pickle.dumps((False, RuntimeError(f"{type(error).__name__}: {error}")))
        try:
            send_result(results, message)
        except OSError:  # the crawl's process is gone (killed, crashed): so is its page
            return


# The worker's command: this module's serve(), with the crawl's import path.
_BOOT = (
    "import sys; sys.path[:0] = sys.argv[5:]; "
    "from rfi_spider.extract.workers import serve; "
    "serve(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))"
)


class _Worker:
    """One worker process and its two pipes (jobs in, results out).

    A new interpreter (``python -c``, the crawl's ``sys.path``), never a fork of the
    crawl's process (its reactor, its threads and their locks) nor a re-run of its main
    script (what multiprocessing's spawn and forkserver do)."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        jobs_out, self.jobs = open_pipe()
        self.results, results_in = open_pipe()
        name = f"{function.__module__}:{function.__qualname__}"
        path = [entry for entry in sys.path if entry]
        buffer = shared_buffer()
        self.shared: mmap.mmap | None = buffer[1] if buffer else None
        shared_fd = buffer[0] if buffer else -1
        fds = (jobs_out, results_in) + ((shared_fd,) if buffer else ())
        command = [sys.executable, "-c", _BOOT, str(jobs_out), str(results_in), name]
        try:
            self.process = subprocess.Popen([*command, str(shared_fd), *path], pass_fds=fds)
        finally:
            for fd in fds:  # the worker's ends: theirs alone, so that EOF means death
                os.close(fd)
        self.future: asyncio.Future[Any] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def send(self, job: PageJob) -> None:
        """Hand the worker a job (OSError if it is dead)."""
        send_job(self.jobs, job, self.shared)

    def receive(self) -> Any:
        """The worker's answer (EOFError if it died)."""
        return receive_result(self.results)

    def died(self) -> str:
        """Why the worker is gone (its exit code), after it closed its pipe."""
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        return f"an extraction worker died (exit code {code})"

    def watch(self, loop: asyncio.AbstractEventLoop, callback: Callable[[_Worker], None]) -> None:
        """Have ``loop`` call ``callback(self)`` when the results pipe is readable, from now
        to the worker's end: not added and removed at each page (two ``epoll_ctl`` calls
        and a handle a page in the crawl's process)."""
        if self.loop is loop:
            return
        self.unwatch()
        loop.add_reader(self.results, callback, self)
        self.loop = loop

    def unwatch(self) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.remove_reader(self.results)
        self.loop = None

    def stop(self) -> None:
        """Close the worker's pipes (it exits after its page); kill it if it does not."""
        self.unwatch()
        for fd in (self.jobs, self.results):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self.shared is not None:
            self.shared.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


class PageExtractor:
    """Runs :func:`extract_page` in ``workers`` processes (0: in the crawl's process).

    ``function`` is the worker's function (tests give another one; it must be
    importable by name); ``on_restart`` is called with the cause each time a dead
    worker is replaced. Jobs wait in the crawl's process until a worker is free: a
    worker holds one page at a time.
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
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._waiting: deque[tuple[PageJob, asyncio.Future[Any]]] = deque()
        self._closed = False

    @property
    def running(self) -> bool:
        """Whether worker processes are up."""
        return bool(self._idle or self._busy)

    async def extract(self, job: PageJob) -> Any:
        """The function's result for ``job``; its exception if it raised;
        ``BrokenProcessPool`` if its worker died on it."""
        if self.workers <= 0:
            return self.function(job)
        if self._closed:
            raise RuntimeError("the extraction workers are stopped")
        self.start()
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((job, future))
        self._dispatch()
        return await future

    def start(self) -> None:
        """Start the workers (when the spider is made: ready when the first article
        comes), unless in-process, running or closed."""
        if self.workers <= 0 or self.running or self._closed:
            return
        self._idle = [self._start() for _ in range(self.workers)]
        logger.info("article extraction: %d worker process(es)", self.workers)

    def _start(self) -> _Worker:
        return _Worker(self.function)

    def _dispatch(self) -> None:
        """Give waiting jobs to idle workers."""
        while self._waiting and self._idle:
            job, future = self._waiting.popleft()
            if future.done():  # its callback was cancelled
                continue
            worker = self._idle.pop()
            try:
                worker.send(job)
            except OSError:  # it died while idle: not this page's fault
                self._replace(worker, worker.died())
                self._waiting.appendleft((job, future))
                continue
            worker.future = future
            worker.watch(future.get_loop(), self._finished)
            self._busy.add(worker)

    def _finished(self, worker: _Worker) -> None:
        """A worker's pipe is readable: its result, or its death (an idle worker's pipe
        is readable only when it died: no page is lost)."""
        future, worker.future = worker.future, None
        if future is None:
            if worker in self._idle:
                self._idle.remove(worker)
                self._replace(worker, worker.died())
                self._dispatch()
            else:  # stopped already
                worker.unwatch()
            return
        self._busy.discard(worker)
        try:
            ok, value = worker.receive()
        except (EOFError, OSError, pickle.UnpicklingError) as error:
            cause = worker.died()
            self._replace(worker, cause)
            if not future.done():
                future.set_exception(BrokenProcessPool(f"{cause} ({type(error).__name__})"))
        else:
            self._idle.append(worker)
            if not future.done():
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
        self._dispatch()

    def _replace(self, worker: _Worker, cause: str) -> None:
        """A new worker for a dead one."""
        worker.stop()
        self.restarts += 1
        logger.warning("%s: a new one is started", cause)
        if self.on_restart is not None:
            self.on_restart(cause)
        if not self._closed:
            self._idle.append(self._start())

    def close(self) -> None:
        """Stop the workers; jobs still waiting fail. No new job afterwards."""
        self._closed = True
        while self._waiting:
            _, future = self._waiting.popleft()
            if not future.done():
                future.set_exception(RuntimeError("the extraction workers are stopped"))
        for worker in self._busy:
            if worker.loop is None or worker.loop.is_closed():
                continue
            if worker.future is not None and not worker.future.done():
                worker.future.set_exception(RuntimeError("the extraction workers are stopped"))
        workers = [*self._idle, *self._busy]
        self._idle, self._busy = [], set()
        for worker in workers:
            worker.stop()
