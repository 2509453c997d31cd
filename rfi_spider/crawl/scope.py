"""What a run fetches: its edition's articles; with ``-a url=``, that one; in a backfill,
those of its range. One frozen object, asked by the frontier, the sources and the gate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from rfi_spider.canonical import article_date
from rfi_spider.dates import paris_day
from rfi_spider.editions import Edition


@dataclass(frozen=True)
class Scope:
    """The run's edition, its one article (``-a url=``) and its backfill range."""

    edition: Edition
    single: str | None = None  # the canonical URL of -a url=
    since: date | None = None
    until: date | None = None

    @property
    def backfill(self) -> bool:
        return self.since is not None and self.until is not None

    def in_range(self, day: date | None, slack: int = 0) -> bool:
        """Whether ``day`` is in the backfill range (give or take ``slack`` days); always
        outside a backfill, or with no day."""
        if self.since is None or self.until is None or day is None:
            return True
        margin = timedelta(days=slack)
        return self.since - margin <= day <= self.until + margin

    def published_in_range(self, published_at: str) -> bool:
        """Whether an article published then (its Paris day) is in the backfill range."""
        return self.in_range(paris_day(published_at))

    def wanted(self, url: str) -> bool:
        """With ``-a url=``, only that article (a mirror entry stands in for no other)."""
        return self.single is None or url == self.single

    def in_run(self, url: str) -> bool:
        """What this run fetches: its edition's; with ``-a url=``, that article; in a
        backfill, its range (by the URL's day, a day either side)."""
        return (
            self.edition.owns(url)
            and self.wanted(url)
            and self.in_range(article_date(url), slack=1)
        )
