"""Mirror fallbacks: a feed mirror's copy of an article stands in when the site refuses it.

The site's version always wins. A mirror entry waits here until the site either serves its
article (the entry is dropped) or refuses it (the entry is exported instead); when the site
refused an article before any mirror entry for it arrived, the refusal waits here instead.
"""

from __future__ import annotations

from rfi_spider.items import ArticleItem
from rfi_spider.urlset import UrlSet


class MirrorFallbacks:
    """Entries waiting for the site's answer, refusals waiting for an entry, URLs delivered."""

    def __init__(self) -> None:
        self.entries: dict[str, ArticleItem] = {}  # canonical URL -> the mirror's item
        self.site_failed: dict[str, str] = {}  # canonical URL -> why the site refused it
        self.delivered = UrlSet()  # canonical URLs yielded as items in this run

    def is_waiting(self, url: str) -> bool:
        """True when a mirror entry for ``url`` already waits for the site's answer."""
        return url in self.entries

    def keep(self, item: ArticleItem) -> str | None:
        """Keep a mirror item as its article's fallback; or, when the site has already
        refused the article, return why (the item is then to be used at once)."""
        url = item["url"]
        cause = self.site_failed.pop(url, None)
        if cause is None:
            self.entries[url] = item
        return cause

    def site_served(self, url: str) -> None:
        """The site gave the article: its mirror entry, if any, is not needed."""
        self.entries.pop(url, None)

    def site_refused(self, url: str, cause: str) -> ArticleItem | None:
        """The site did not give the article: its mirror entry, or None (the refusal is kept
        for an entry that may still come)."""
        item = self.entries.pop(url, None)
        if item is None:
            self.site_failed[url] = cause
        return item

    def deliver(self, *urls: str) -> None:
        """These URLs were yielded as an item in this run."""
        self.delivered.update(urls)

    def was_delivered(self, url: str) -> bool:
        return url in self.delivered
