"""Scrapy's duplicate-request filter, made to resume a job (``JOBDIR``) without losing requests.

With ``-s JOBDIR=...`` Scrapy writes the fingerprint of every request it lets
through to ``requests.seen``, before the request is even sent; a request still
in flight when the process is killed (``kill -9``, a crash) stays "seen" in the
resumed job, which then never sends it. The spider re-requests what such a
run left unfinished (the pending articles, the listings, the feed mirrors
whose entries lived in memory) with :data:`meta_keys.REFETCH` in the request's meta:
those requests get past the fingerprints of earlier runs of the job, never
past those of this run. Unlike ``dont_filter=True``, the flag leaves the
offsite filter in force for the request and its redirects.

(After a ``kill -9`` Scrapy restores none of its queued requests either: the
queue's state is written when the spider closes. The spider's own pending
queue, in the state, is what a resumed job finishes from.)
"""

from __future__ import annotations

from scrapy import Request
from scrapy.dupefilters import RFPDupeFilter

from rfi_spider import meta_keys
from rfi_spider.urlset import FingerprintSet


class ResumableDupeFilter(RFPDupeFilter):
    """:class:`~scrapy.dupefilters.RFPDupeFilter` that lets :data:`meta_keys.REFETCH` requests
    past the fingerprints an earlier run of the job (``JOBDIR``) recorded.

    Fingerprints are kept in :class:`~rfi_spider.urlset.FingerprintSet` (8 bytes and
    a slot each, instead of a Python bytes object in a set): memory stays flat.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # What requests.seen held at start (empty without JOBDIR), apart from this run's.
        self.earlier = FingerprintSet(self._fingerprints)
        self._fingerprints = FingerprintSet()  # type: ignore[assignment]

    def request_seen(self, request: Request) -> bool:
        fingerprint = self._fingerprint(request)  # cached by Scrapy's fingerprinter
        if fingerprint in self.earlier and fingerprint not in self._fingerprints:
            if not request.meta.get(meta_keys.REFETCH):
                return True
            self._fingerprints.add(fingerprint)  # already in requests.seen
            return False
        if super().request_seen(request):
            return True
        if self.file:
            # Written through at once: Scrapy's buffer (8 KB, ~370 requests) is lost at a
            # kill, so which requests an earlier run asked for would depend on chance.
            self.file.flush()
        return False
