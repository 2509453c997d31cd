"""Why a request failed, in a word: the cause a failure is counted and recorded under.

``failure_cause`` names any failed request's cause (``rfi/failed/<kind>/<cause>``);
``attempt_cause`` says whether an article request's failure is the article's (an
attempt, recorded by the failure book) or the network's or a block's (none).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.misc import load_object
from twisted.python.failure import Failure

from rfi_spider.fetch.blocking import BLOCK_STATUSES, ChallengePage
from rfi_spider.meta_keys import KIND

logger = logging.getLogger(__name__)


def failure_cause(failure: Failure) -> str:
    """A short name for why a request failed: the HTTP status, or the error's class.

    ``too_large``: over ``DOWNLOAD_MAXSIZE``, as sent or once decompressed (Scrapy
    cancels such a download, or ignores the response of a gzip bomb);
    ``too_many_redirects``: more than ``REDIRECT_MAX_TIMES``.
    """
    if isinstance(failure.value, HttpError):
        return str(failure.value.response.status)
    if failure.check(DownloadCancelledError):
        return "too_large"  # Scrapy's HTTP handlers cancel a download only for its size
    if failure.check(IgnoreRequest):
        message = str(failure.value)
        if "DOWNLOAD_MAXSIZE" in message:
            return "too_large"
        if "max redirections" in message:
            return "too_many_redirects"
    return type(failure.value).__name__


@lru_cache(maxsize=8)
def exception_classes(names: tuple[str | type, ...]) -> tuple[type, ...]:
    """``RETRY_EXCEPTIONS``' classes, imported once (not at every failed request)."""
    return tuple(load_object(name) if isinstance(name, str) else name for name in names)


def attempt_cause(failure: Failure, settings: BaseSettings) -> str | None:
    """What an article request's failure is recorded with (``HTTP 404``, ``too_large``);
    None when it says nothing about the article: no answer (an exception of
    ``RETRY_EXCEPTIONS``: DNS, refused, timeout, connection lost), a block (403, 429, 503,
    a challenge page) or a 408. Such a failure is no attempt: fetched again next run."""
    network = exception_classes(tuple(settings.getlist("RETRY_EXCEPTIONS")))
    if failure.check(ChallengePage, *network):
        return None
    cause = failure_cause(failure)
    if cause.isdigit():
        return None if int(cause) in BLOCK_STATUSES | {408} else f"HTTP {cause}"
    return cause


def count_failure(failure: Failure, stats: Any) -> None:
    """A request that failed for good (after retries): logged, counted by kind and cause
    (``rfi/failed/<kind>/<cause>``)."""
    request = failure.request  # type: ignore[attr-defined]
    kind = request.meta.get(KIND, "request")
    cause = failure_cause(failure)
    stats.inc_value(f"rfi/failed/{kind}/{cause}")
    logger.warning("could not fetch %s %s: %s", kind, request.url, cause)
