"""The gate: whether a fetched page is the article, decided once, where it is extracted.

A page is the article when it has a title, paragraphs, a date and a URL, when its HTML is
whole (not cut short on the way), when it is of the crawl's edition (not a redirect to the
twin) and, in a backfill, published (Paris day) in the range. Its canonical link and
``og:url`` may name another URL: that is said (logged) but the page is kept under the URL
fetched. :meth:`Gate.judge` runs in the extraction worker (``extract/workers.py``) or in
the crawl's process when there are none, and returns a :class:`Verdict` the spider acts on
without checking again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urljoin

from rfi_spider.canonical import canonical_url
from rfi_spider.dates import paris_day
from rfi_spider.editions import edition_of

# Reasons that are the page's: the article failed (unless a mirror's copy stands in).
OTHER_EDITION = "other_edition"  # redirected to the twin: refused, no failure
OUT_OF_RANGE = "out_of_range"  # published outside the backfill range: skipped

_DOCUMENT_END = re.compile(rb"</(?:body|html)\s*>", re.IGNORECASE)


# Where the end of the document is looked for: the last 64 KB of the page.
_TAIL = 65536
# End tags tried from the page's end before the regular expression's search of the tail.
_LAST_TAGS = 8


def is_truncated(body: bytes) -> bool:
    """A page whose HTML stops before ``</body>`` or ``</html>``: cut short on the way.

    The end tags nearest the page's end are tried first (a whole page ends with
    ``</body></html>``): the regular expression's search of the last 64 KB, which it has
    to walk byte by byte (no literal prefix when case is ignored), took about 45 µs a
    page (issue 26). Only a page none of its last few end tags ends is searched so.
    """
    start = max(0, len(body) - _TAIL)
    end = len(body)
    for _ in range(_LAST_TAGS):
        found = body.rfind(b"</", start, end)
        if found < 0:
            return True  # no end tag at all in the tail
        if _DOCUMENT_END.match(body, found):
            return False
        end = found
    return _DOCUMENT_END.search(body, start) is None


def missing(fields: Mapping[str, Any]) -> str | None:
    """Why a parsed page (or a mirror's entry) is not an article, or None when it is one."""
    for name, reason in (
        ("title", "no_title"),
        ("paragraphs", "no_paragraphs"),
        ("published_at", "no_date"),
        ("url", "no_url"),
    ):
        if not fields.get(name):
            return reason
    return None


def other_claims(claimed_urls: Iterable[tuple[str, str]], url: str) -> list[tuple[str, str]]:
    """The canonical link or ``og:url`` naming another URL than ``url``, the one fetched.
    Spellings of the same URL (http, old host, encoding) agree."""
    return [
        (name, claimed)
        for name, claimed in claimed_urls
        if canonical_url(urljoin(url, claimed)) != url
    ]


@dataclass
class Verdict:
    """What the gate said of a page: ``refused`` (why it is not the article; None: it is),
    and what the spider is to report: JSON-LD that did not parse, other URLs claimed."""

    refused: str | None = None
    json_ld_errors: int = 0
    other_claims: list[tuple[str, str]] = field(default_factory=list)

    @property
    def page_fault(self) -> bool:
        """Refused for what the page is (no article in it): a failed attempt."""
        return self.refused is not None and self.refused not in (OTHER_EDITION, OUT_OF_RANGE)


@dataclass(frozen=True)
class Gate:
    """The rules of one crawl (picklable: it travels with each page to the workers)."""

    edition: str  # the crawl's edition key: "cn"
    since: date | None = None
    until: date | None = None

    def in_range(self, published_at: str) -> bool:
        if self.since is None or self.until is None:
            return True
        return self.since <= paris_day(published_at) <= self.until

    def judge(
        self,
        body: bytes,
        fields: dict[str, Any] | None,
        json_ld_errors: int = 0,
        claimed_urls: Iterable[tuple[str, str]] = (),
        no_page: str | None = None,
    ) -> Verdict:
        """The verdict on a page: its body, the item's ``fields`` extracted (None: no
        page, for ``no_page``), its JSON-LD errors and the URLs it claims."""
        if fields is None:
            return Verdict(no_page or "empty_body")
        if is_truncated(body):  # half an article is not the article
            return Verdict("truncated")
        reason = missing(fields)
        if reason:
            return Verdict(reason, json_ld_errors)
        verdict = Verdict(None, json_ld_errors, other_claims(claimed_urls, fields["url"]))
        edition = edition_of(fields["url"])
        if edition is None or edition.key != self.edition:  # redirected to a twin
            verdict.refused = OTHER_EDITION
        elif not self.in_range(fields["published_at"]):
            verdict.refused = OUT_OF_RANGE
        return verdict
