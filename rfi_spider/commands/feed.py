"""``scrapy feed [OUTPUT] [--latest N] [--since DATE] [--changes] -o FILE``: an Atom feed of
an archive.

With ``--changes``, the feed lists the N newest changes instead: each new version of an
article (version 2 and later), the diff against the version before as its content
(``rfi_spider.archive.changes_feed``), ``--since`` then being the time of the change.

Reads ``OUTPUT/items.jsonl`` (an archive folder, or the file itself; default
``RFI_OUTPUT_DIR``) in one pass, keeps the N newest articles and writes them, newest
first, as the Atom feed ``-O feed.atom`` writes (``rfi_spider.archive.atom``): no crawl.
FILE is replaced atomically (a temporary file renamed over it), created ``0644`` less the
umask; it may not be one of the archive's own files (``archive/outputs.py``), nor a
device, a FIFO or a symbolic link. Exit status 0 when the feed is written (a warning
says when it has no entry), 2 when it is not: bad arguments or settings, no archive, an
output refused, a write error, each said in one line.
"""

from __future__ import annotations

import argparse
import os
import re
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

from rfi_spider.archive import atom, changes_feed, exporters
from rfi_spider.archive.latest import Newest, newest_items
from rfi_spider.archive.outputs import Archive
from rfi_spider.cli import ArchiveCommand, CommandError, cannot
from rfi_spider.config import RfiSettings
from rfi_spider.dates import PARIS
from rfi_spider.editions import EDITIONS
from rfi_spider.quality import qa


class FeedError(CommandError):
    """The feed cannot be written: one line for the user, exit status 2."""


def parse_latest(text: str) -> int:
    """``--latest``: a whole number of 1 or more."""
    if not re.fullmatch(r"[0-9]{1,9}", text.strip()) or int(text) < 1:
        raise FeedError(f"--latest takes a whole number of 1 or more, not {qa.visible(text)!r}")
    return int(text)


def parse_since(text: str) -> datetime:
    """``--since``: ``YYYY-MM-DD`` (midnight, Paris time) or an ISO 8601 time with offset."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=PARIS)
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise FeedError(
            f"--since takes YYYY-MM-DD or an ISO 8601 time with offset, not {qa.visible(text)!r}"
        )
    return moment


def write_atomically(target: Path, info: atom.FeedInfo, entries: list[atom.Entry]) -> None:
    """Write the feed to a temporary file beside ``target``, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = exporters.create_new(target.parent, ".atom-tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            writer = atom.AtomWriter(handle)
            newest = max((e.updated for e in entries), default=datetime.now(UTC))
            writer.start(info, newest)
            for entry in entries:
                writer.entry(entry)
            writer.finish()
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class Command(ArchiveCommand):
    def syntax(self) -> str:
        return "[OUTPUT] [--latest N] [--since DATE] [--changes] -o FILE"

    def short_desc(self) -> str:
        return "Write the newest articles of an archive as a full-text Atom feed (no crawl)"

    def long_desc(self) -> str:
        return (
            "Read OUTPUT/items.jsonl (OUTPUT: an archive folder or its items.jsonl; default "
            "RFI_OUTPUT_DIR) and write its N newest articles (--latest, default "
            "RFI_ATOM_LATEST), published at or after --since (YYYY-MM-DD, Paris time, or an "
            "ISO 8601 time), as an Atom 1.0 feed to FILE, replaced atomically. With "
            "--changes, the N newest new versions of edited articles instead, each with "
            "what changed as its content. Exits 2 when the feed cannot be written."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", metavar="FILE", help="the feed file to write")
        parser.add_argument("--latest", metavar="N", help="how many articles (the newest)")
        parser.add_argument("--since", metavar="DATE", help="only articles published since")
        parser.add_argument(
            "--changes",
            action="store_true",
            help="list the new versions of edited articles, with what changed",
        )

    def act(self, args: list[str], opts: argparse.Namespace, config: RfiSettings) -> int:
        assert self.settings is not None
        if len(args) > 1:
            raise FeedError(f"one OUTPUT folder at most, not {len(args)}")
        if not opts.output:
            raise FeedError("-o FILE is required: where to write the feed")
        latest = parse_latest(opts.latest or str(config.atom_latest))
        since = parse_since(opts.since) if opts.since is not None else None
        source = Path(args[0]) if args else config.output_dir
        items_file = source / "items.jsonl" if source.is_dir() else source
        if not items_file.is_file():
            raise FeedError(f"no archive at {qa.visible(str(source))}: {items_file.name} not found")
        target = Path(opts.output)
        archives = [Archive.at(items_file.parent), Archive.configured(config)]
        self.check_output(target, archives, inputs=[items_file])
        if opts.changes:
            self._changes(items_file, target, latest, since, config)
            return 0
        try:
            found = newest_items(items_file, latest, since, config.qa_max_line_bytes)
        except OSError as error:
            raise cannot("read", items_file, error) from None
        entries, skipped = self._entries(found)
        editions = {EDITIONS.get(str(item.get("edition"))) for item in found.items}
        edition = editions.pop() if len(editions) == 1 else None
        info = atom.feed_info_from_settings(config, edition)
        try:
            write_atomically(target, info, entries)
        except OSError as error:
            raise cannot("write", target, error) from None
        self._report(items_file, target, found, entries, skipped, since)
        return 0

    def _changes(
        self,
        items_file: Path,
        target: Path,
        latest: int,
        since: datetime | None,
        config: RfiSettings,
    ) -> None:
        """``--changes``: the newest changes as the feed."""
        try:
            found = changes_feed.newest_changes(
                [items_file], latest, since, config.qa_max_line_bytes
            )
        except OSError as error:
            raise cannot("read", items_file, error) from None
        editions = {EDITIONS.get(str(key)) for key in found.editions}
        edition = editions.pop() if len(editions) == 1 else None
        info = atom.feed_info_from_settings(config, edition)
        try:
            write_atomically(target, info, found.entries)
        except OSError as error:
            raise cannot("write", target, error) from None
        print(
            f"Atom feed of changes: {len(found.entries)} entries of {found.versions} new "
            f"versions in {qa.visible(str(items_file))} in {qa.visible(str(target))}"
        )
        if found.skipped:
            counts = ", ".join(f"{atom.SKIPPED}/{r} {n}" for r, n in sorted(found.skipped.items()))
            self.say(f"versions left out: {counts}")
        if not found.entries:
            older = f" ({found.older} made before --since)" if since is not None else ""
            self.say(f"warning: the feed has no entry{older}")

    @staticmethod
    def _entries(found: Newest) -> tuple[list[atom.Entry], Counter[str]]:
        skipped = Counter(found.skipped)
        entries = []
        for item in found.items:
            try:
                entries.append(atom.entry_of(item))
            except atom.NoEntryError as skip:  # check_item passed it: not expected
                skipped[skip.reason] += 1
        return entries, skipped

    def _report(
        self,
        items_file: Path,
        target: Path,
        found: Newest,
        entries: list[atom.Entry],
        skipped: Counter[str],
        since: datetime | None,
    ) -> None:
        where = qa.visible(str(target))
        print(
            f"Atom feed: {len(entries)} entries of {found.lines} lines of "
            f"{qa.visible(str(items_file))} in {where}"
        )
        if skipped:
            counts = ", ".join(f"{atom.SKIPPED}/{r} {n}" for r, n in sorted(skipped.items()))
            self.say(f"lines left out: {counts}")
        if not entries:
            older = f" ({found.older} published before --since)" if since is not None else ""
            self.say(f"warning: the feed has no entry{older}")
