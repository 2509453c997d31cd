"""The pipes and the shared buffer between the crawl's process and an extraction worker
(``extract/workers.py``): a job down one pipe, its result up the other.

A job is the pickle of everything but a page's body, and the body itself beside it, not
copied into the pickle (two copies of 200 KB a page in the crawl's process, when it was
pickled): in the worker's shared buffer when it fits (:func:`shared_buffer`), else down the
pipe after the pickle. A result is its size, then its pickle.
"""

from __future__ import annotations

import dataclasses
import mmap
import os
import pickle
import struct
from typing import Any

# A pipe that holds a whole ordinary page: the crawl's process writes it without waiting.
PIPE_BYTES = 1024 * 1024
_SIZE = struct.Struct("!Q")  # each message: its length, then a pickle


def open_pipe() -> tuple[int, int]:
    """A pipe (read end, write end) of :data:`PIPE_BYTES` where the system allows it."""
    read, write = os.pipe()
    try:
        import fcntl

        fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass  # the default buffer: a large page is written while the worker reads it
    return read, write


def send_result(fd: int, data: bytes) -> None:
    """``data`` after its size (a result: the worker's answer)."""
    _write_parts(fd, [_SIZE.pack(len(data)), data])


def _read(fd: int, size: int) -> bytes:
    chunks = []
    while size:
        chunk = os.read(fd, min(size, PIPE_BYTES))
        if not chunk:
            raise EOFError("the other end of the pipe is closed")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def receive_result(fd: int) -> Any:
    (size,) = _SIZE.unpack(_read(fd, _SIZE.size))
    return pickle.loads(_read(fd, size))


_JOB_SIZES = struct.Struct("!QQ?")  # each job: its pickle's length, its body's, where the body is
# The largest body handed over in the worker's shared buffer; a larger one goes down the pipe.
SHARED_BYTES = 2 * 1024 * 1024


def _write_parts(fd: int, parts: list[bytes]) -> None:
    """Write ``parts`` one after the other with ``writev``: none is copied into another."""
    views = [memoryview(part) for part in parts if part]
    while views:
        written = os.writev(fd, views)
        while views and written >= len(views[0]):
            written -= len(views.pop(0))
        if written:
            views[0] = views[0][written:]


def shared_buffer() -> tuple[int, mmap.mmap] | None:
    """A buffer of :data:`SHARED_BYTES` the crawl's process and one worker both map (a
    ``memfd``: its file descriptor goes to the worker), or None where there is none.

    A page's body handed over there costs one copy in each process (about 7 µs for 200
    KB); down a pipe, the kernel's copies cost the crawl's process about 45 µs and the
    worker about 200 µs (the pipe's pages, a read per piece as they come): a quarter of
    a millisecond a page that only the workers mode pays (issue 26). Pages touch only
    the buffer's pages they fill."""
    try:
        fd = os.memfd_create("rfi-extract-page", os.MFD_CLOEXEC)
    except (AttributeError, OSError):
        return None  # not Linux: the pipe
    try:
        os.ftruncate(fd, SHARED_BYTES)
        return fd, mmap.mmap(fd, SHARED_BYTES)
    except OSError:
        os.close(fd)
        return None


def send_job(fd: int, job: Any, shared: mmap.mmap | None = None) -> None:
    """Write a job: a page job's body as it is, in ``shared`` (the worker's buffer,
    when the body fits) or down the pipe after the pickle of the rest of the job; any other
    job pickled whole (:func:`receive_job` reads them).

    The buffer is written only when the worker is idle: it holds one job at a time and
    has copied the body out before it answers."""
    body = b""
    if _has_body(job):
        body, job = job.body, dataclasses.replace(job, body=b"")
    head = pickle.dumps(job, pickle.HIGHEST_PROTOCOL)
    in_shared = shared is not None and 0 < len(body) <= len(shared)
    if in_shared:
        assert shared is not None
        shared[: len(body)] = body
    sizes = _JOB_SIZES.pack(len(head), len(body), in_shared)
    _write_parts(fd, [sizes, head] if in_shared else [sizes, head, body])


def receive_job(fd: int, shared: mmap.mmap | None = None) -> Any:
    """Read one job written by :func:`send_job` (EOFError when the pipe is closed)."""
    head_size, body_size, in_shared = _JOB_SIZES.unpack(_read(fd, _JOB_SIZES.size))
    job = pickle.loads(_read(fd, head_size))
    if not body_size:
        return job
    if in_shared:
        if shared is None or body_size > len(shared):
            raise EOFError("a job in a shared buffer this worker does not have")
        return dataclasses.replace(job, body=shared[:body_size])
    return dataclasses.replace(job, body=_read(fd, body_size))


def _has_body(job: Any) -> bool:
    """A job (a dataclass) with a page's body (a :class:`~rfi_spider.extract.workers.PageJob`)."""
    body = getattr(job, "body", None)
    return (
        dataclasses.is_dataclass(job)
        and not isinstance(job, type)
        and isinstance(body, bytes)
        and bool(body)
    )
