"""Scrapy's job directory (``-s JOBDIR=...``) after a kill: its request queue set aside.

Scrapy writes the request queue of a job (``<JOBDIR>/requests.queue``, queuelib disk
queues) as it goes and makes it consistent only when the job stops cleanly. A
``kill -9`` can leave a queue file with half a header: the resumed job then fails
to push any request of that priority ("unpack requires a buffer of 4 bytes"),
and those requests are lost without an answer. So a run marks the job directory
as open while it lives (:data:`OPEN_MARKER`, removed when the spider closes,
Ctrl-C included); a run that finds the mark left by a killed run moves the
queue aside before Scrapy opens it. Nothing is lost with it: the articles wait in
the state's pending queue, and the listings, feeds and mirrors are asked again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

logger = logging.getLogger(__name__)

OPEN_MARKER = "rfi-run-open"
QUEUE = "requests.queue"


def open_job(jobdir: str | Path) -> Path | None:
    """Mark ``jobdir`` open; if a killed run had left it open, move its request queue
    aside and return where to (None otherwise)."""
    root = Path(jobdir)
    root.mkdir(parents=True, exist_ok=True)
    marker = root / OPEN_MARKER
    aside = None
    queue = root / QUEUE
    if marker.exists() and queue.exists():
        aside = root / f"{QUEUE}.killed-{datetime.now():%Y%m%dT%H%M%S%f}"
        queue.rename(aside)
        logger.warning(
            "the last run of job %s was killed: its request queue, which a kill can leave"
            " torn, is set aside in %s; the articles it held come back from the pending"
            " queue, the listings are asked again",
            root,
            aside,
        )
    marker.write_text(f"{datetime.now().isoformat()}\n", encoding="utf-8")
    return aside


def close_job(jobdir: str | Path) -> None:
    """The run closes cleanly (finished or paused): its queue is whole."""
    (Path(jobdir) / OPEN_MARKER).unlink(missing_ok=True)
