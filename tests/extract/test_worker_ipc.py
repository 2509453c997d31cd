"""The hand-over between the crawl's process and an extraction worker
(``extract/worker_ipc.py``, ``extract/workers.py``): a page's body in the worker's shared
buffer, not down the pipe; a body too large for it down the pipe as before; the results
pipe watched once for a worker's life, and an idle worker's death seen there."""

from __future__ import annotations

import asyncio
import contextlib
import mmap
import os
import signal
from typing import Any

import pytest

from rfi_spider.extract.worker_ipc import open_pipe, receive_job, send_job, shared_buffer
from rfi_spider.extract.workers import PageExtractor, PageJob


def job(index: int) -> PageJob:
    body = b"<html><body><p>%d</p></body></html>" % index
    return PageJob(body, "utf-8", f"https://www.rfi.fr/cn/x/{index}", None)


def through_pipe(
    item: Any, monkeypatch: pytest.MonkeyPatch, sent: mmap.mmap | None, read: mmap.mmap | None
) -> tuple[Any, bytes]:
    """``item`` sent with buffer ``sent`` and received with ``read``; the pipe's bytes."""
    real_writev = os.writev
    wire = bytearray()

    def recording_writev(fd: int, buffers: list[memoryview]) -> int:
        written = real_writev(fd, buffers)
        wire.extend(b"".join(bytes(b) for b in buffers)[:written])
        return written

    monkeypatch.setattr(os, "writev", recording_writev)
    read_end, write_end = open_pipe()
    try:
        send_job(write_end, item, sent)
        os.close(write_end)
        return receive_job(read_end, read), bytes(wire)
    finally:
        os.close(read_end)
        with contextlib.suppress(OSError):
            os.close(write_end)


@pytest.fixture
def buffer() -> Any:
    made = shared_buffer()
    assert made is not None  # Linux: memfd_create
    fd, view = made
    os.close(fd)
    yield view
    view.close()


def test_a_body_goes_in_the_shared_buffer_not_down_the_pipe(
    monkeypatch: pytest.MonkeyPatch, buffer: mmap.mmap
) -> None:
    page = PageJob(bytes(range(256)) * 800, "gb18030", "https://www.rfi.fr/cn/x", None)
    received, wire = through_pipe(page, monkeypatch, buffer, buffer)
    assert received == page
    assert len(wire) < 1024  # the pickle of the rest of the job only


def test_a_body_larger_than_the_buffer_goes_down_the_pipe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    small = mmap.mmap(-1, 1000)
    page = PageJob(b"<p>" * 400, "utf-8", "https://www.rfi.fr/cn/x", None)
    received, wire = through_pipe(page, monkeypatch, small, small)
    assert received == page
    assert wire.endswith(page.body)
    fits = PageJob(b"<p>" * 300, "utf-8", "https://www.rfi.fr/cn/x", None)
    assert through_pipe(fits, monkeypatch, small, small)[0] == fits


def test_a_job_in_a_buffer_the_reader_lacks_is_a_broken_pipe(
    monkeypatch: pytest.MonkeyPatch, buffer: mmap.mmap
) -> None:
    """A worker without the buffer (or a smaller one) cannot read the job: EOFError, which
    the crawl's process takes as the worker's death, never a body made up of other bytes."""
    page = PageJob(b"x" * 5000, "utf-8", "https://www.rfi.fr/cn/x", None)
    with pytest.raises(EOFError):
        through_pipe(page, monkeypatch, buffer, None)
    with pytest.raises(EOFError):
        through_pipe(page, monkeypatch, buffer, mmap.mmap(-1, 4999))


def test_the_workers_pipes_are_watched_once_and_bodies_use_the_buffer() -> None:
    """One ``add_reader`` a worker for all its pages (it was one a page, and one
    ``remove_reader``), and the real workers get their bodies in a shared buffer."""
    extractor = PageExtractor(1, function=id)
    added: list[int] = []

    async def pages() -> list[Any]:
        loop = asyncio.get_running_loop()
        real = loop.add_reader

        def counting(fd: int, *args: Any) -> None:
            added.append(fd)
            real(fd, *args)

        loop.add_reader = counting  # type: ignore[method-assign]
        return [await extractor.extract(job(i % 3)) for i in range(8)]

    try:
        results = asyncio.run(pages())
        assert all(isinstance(result, int) for result in results)
        assert len(added) == 1
        assert all(worker.shared is not None for worker in extractor._idle)
    finally:
        extractor.close()


def test_an_idle_worker_that_dies_is_replaced_and_no_page_fails() -> None:
    """The results pipe of an idle worker becomes readable only when it dies: it is
    replaced then, and the next page goes to the new one."""
    restarts: list[str] = []
    extractor = PageExtractor(1, function=id, on_restart=restarts.append)

    async def kill_then_page() -> Any:
        await extractor.extract(job(0))
        (worker,) = extractor._idle
        os.kill(worker.process.pid, signal.SIGKILL)
        for _ in range(2000):  # wait on the condition, not on a clock
            if restarts:
                break
            await asyncio.sleep(0.005)
        assert extractor._idle and extractor._idle[0] is not worker
        return await extractor.extract(job(1))

    try:
        assert isinstance(asyncio.run(kill_then_page()), int)
        assert len(restarts) == 1 and "exit code -9" in restarts[0]
        assert extractor.restarts == 1
    finally:
        extractor.close()
