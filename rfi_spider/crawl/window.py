"""The article window: which article URLs a run has found, and how many are out at once.

Article URLs found go to the state's pending queue (:class:`~rfi_spider.archive.state.
PendingArticles`), on disk. The window hands Scrapy at most ``size`` of them at a time, so that
memory does not grow with the number of articles queued and a rerun after a kill fetches first
what the interrupted run left. An article leaves the queue when its request ended without an
item, or when its item went through the pipelines (exported or dropped).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from rfi_spider.archive.state import PendingArticles, SeenStore
from rfi_spider.urlset import UrlSet


class ArticleWindow:
    """Found article URLs, the pending queue, and the requests out at once."""

    def __init__(self, pending: PendingArticles, seen: SeenStore, size: int) -> None:
        self.pending = pending
        self.seen = seen
        self.size = max(1, size)
        self.found = UrlSet()  # article URLs found in this run (as digests: see urlset.py)
        self.outstanding = 0  # article requests handed out and not finished
        # Items in the pipelines whose URL is not the one requested: item URL -> requested.
        self.aliases: dict[str, str] = {}

    def first_sight(self, url: str) -> bool:
        """True the first time this run sees ``url`` (then it is found)."""
        if url in self.found:
            return False
        self.found.add(url)
        return True

    def queue(self, urls: Iterable[str]) -> None:
        """Queue new article URLs on disk (duplicates of the queue are ignored there)."""
        self.pending.add(list(urls))

    def hand_out(
        self,
        in_scope: Callable[[str], bool],
        on_known: Callable[[], None],
        drop: Callable[[str], bool] | None = None,
    ) -> Iterator[tuple[str, bool]]:
        """Queued URLs (and whether an interrupted run left them) while the window has room.

        A URL exported since it was queued is done (``on_known`` counts it); one an interrupted
        run left that is outside this run's scope (``in_scope``) stays queued for another run;
        one ``drop`` says must not be requested (given up) is done.
        """
        while self.outstanding < self.size:
            batch = self.pending.take(self.size - self.outstanding)
            if not batch:
                return
            for url, resumed in batch:
                if self.seen.probably_known(url):  # exported since it was queued (a killed run)
                    on_known()
                    self.pending.done(url)
                    continue
                if resumed and not in_scope(url):  # e.g. a full crawl's, in -a url=
                    self.pending.leave(url)
                    continue
                if drop is not None and drop(url):
                    self.pending.done(url)
                    continue
                self.found.add(url)  # an interrupted run's URL is found now
                self.outstanding += 1
                yield url, resumed

    def finished(self, url: str, produced_item: bool) -> None:
        """One article request is over; its queue entry is done now, or once its item is."""
        self.outstanding = max(0, self.outstanding - 1)
        if not produced_item:
            self.pending.done(url)

    def item_for(self, requested: str, item_url: str) -> None:
        """An item of ``requested`` goes to the pipelines under another URL (a redirect)."""
        if item_url != requested:
            self.aliases[item_url] = requested

    def item_done(self, url: str) -> None:
        """The item of ``url`` went through the pipelines: its article (and alias) is done."""
        self.pending.done(url)
        requested = self.aliases.pop(url, None)
        if requested:
            self.pending.done(requested)

    def idle(self) -> None:
        """Scrapy has nothing left: whatever was out has ended (some requests end unannounced)."""
        self.outstanding = 0

    def settle(self) -> int:
        """At the end: the number of handed-out URLs that never got an answer (kept queued)."""
        return self.pending.finish()
