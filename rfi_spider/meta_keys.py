"""The keys this project sets in ``Request.meta``, in one place.

Each is read by another component than the one that sets it, which is why they are named
here rather than spelled as strings where they are used.
"""

from __future__ import annotations

# What a request is for: "article", "listing", "feed", "mirror" (also counters' names).
KIND = "rfi_kind"
# How many listings deep a listing was found (RFI_LISTING_DEPTH).
DEPTH = "rfi_depth"
# Set by the blocked-pages middleware on a request it sends through the browser.
BROWSER = "rfi_browser"
# The HTML document the browser got for a page (the response then holds its markup).
DOCUMENT = "rfi_document"
# Asked again when a job resumes: gets past the fingerprints an interrupted run left.
REFETCH = "rfi_refetch"
# The source (rfi_spider/sources) a listing, feed, sitemap or mirror request is for: the
# spider's parse_source hands its response to that source.
SOURCE = "rfi_source"
# A revisit of an archived article (crawl/revisits.py): fetched again though exported.
REVISIT = "rfi_revisit"
