"""``scrapy versions URL [DIR ...] [--color WHEN]``: the versions of one article, and what
changed from each to the next.

URL is any spelling of the article's address the project canonicalises (``http://``,
``cn.rfi.fr``, raw Chinese or percent-encoded, a query or fragment); DIR an archive folder
or its ``items.jsonl`` (default ``RFI_OUTPUT_DIR``; several: the folders of a distributed
crawl's nodes, read as one). Prints each version with its times and digest, and the diff
of its title, summary and paragraphs against the version before
(``rfi_spider.archive.versions_diff``): deletions ``[-…-]``, insertions ``{+…+}``, coloured on a
terminal. It writes nothing.

Exit status 0 when the article is found (a broken chain of versions is printed, as QA
reports it), 1 when the archive has no line of it, 2 for bad arguments or settings or an
archive that cannot be read, each said in one line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rfi_spider.archive import versions_diff, versions_read
from rfi_spider.archive.versions_read import History, Line
from rfi_spider.canonical import canonical_url
from rfi_spider.cli import ArchiveCommand, CommandError, cannot
from rfi_spider.config import RfiSettings
from rfi_spider.quality import qa

COLOR_CHOICES = ("auto", "always", "never")


class VersionsError(CommandError):
    """The versions cannot be shown: one line for the user, exit status 2."""


def times(line: Line) -> str:
    """A version's times: when it was fetched, when the site says it changed, published."""
    return (
        f"crawled {line.crawled_at or '-'}, modified {line.modified_at or '-'}, "
        f"published {line.published_at or '-'}"
    )


def render(
    history: History, items: dict[tuple[Path, int], dict[str, Any]], colour: bool = False
) -> str:
    """The versions of an article for a terminal: one block per version, each after the
    first with what changed since the version before it."""
    count = len(history.versions)
    url = qa.visible(qa.readable(history.key))
    out = [f"{url}: {count} version{'s' * (count != 1)}"]
    before: Line | None = None
    for line in history.versions:
        item = items[(line.source, line.number)]
        out.append("")
        digest = versions_read.short(line.digest)
        where = qa.visible(f"{line.source}:{line.number}")
        out.append(f"version {line.version}  digest {digest}  {where}")
        out.append(f"  {qa.visible(times(line))}")
        if before is None:
            title = item.get("title")
            out.append(f"  title: {qa.visible(title if isinstance(title, str) else '')}")
        else:
            since = (
                "" if before.version == line.version - 1 else f" (since version {before.version})"
            )
            changes = versions_diff.diff_items(items[(before.source, before.number)], item)
            out.extend(change_lines(changes, colour, since))
        before = line
    if history.problems:
        out.append("")
        out.append(f"Broken chain ({len(history.problems)}):")
        out.extend(
            f"  {qa.visible(problem_line.where)}: {qa.visible(message)}"
            for problem_line, message in history.problems
        )
    return "\n".join(out) + "\n"


def change_lines(changes: versions_diff.ItemDiff, colour: bool, since: str = "") -> list[str]:
    """What changed, a line per field and per paragraph edited, added or removed."""
    if changes.empty:
        return [f"  no change to title, summary or paragraphs{since}"]
    out = [f"  changes{since}:"] if since else []
    for name, spans in changes.fields.items():
        out.append(f"  {name}: {versions_diff.marked_text(spans, qa.visible, colour)}")
    for row in changes.changed_rows:
        text = versions_diff.marked_text(row.spans, qa.visible, colour)
        if row.kind == "~":
            out.append(f"  paragraph {row.new}: {text}")
        elif row.kind == "+":
            out.append(f"  paragraph {row.new} added: {text}")
        else:
            out.append(f"  paragraph {row.old} removed: {text}")
    return out


class Command(ArchiveCommand):
    def syntax(self) -> str:
        return "URL [DIR ...] [--color WHEN]"

    def short_desc(self) -> str:
        return "Show the versions of an article and what changed between them (no crawl)"

    def long_desc(self) -> str:
        return (
            "Read DIR/items.jsonl (DIR: an archive folder or its items.jsonl; default "
            "RFI_OUTPUT_DIR; several DIRs are read as one archive) and print each version "
            "of the article at URL (any spelling of it) with its times, and a diff of its "
            "title, summary and paragraphs against the version before: [-deleted-], "
            "{+inserted+}, coloured on a terminal (--color auto, always or never). Exits 1 "
            "when the archive has no version of URL, 2 on bad arguments."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--color",
            metavar="WHEN",
            default="auto",
            help="colour the changes: auto (on a terminal), always or never",
        )

    def act(self, args: list[str], opts: argparse.Namespace, config: RfiSettings) -> int:
        if opts.color not in COLOR_CHOICES:
            raise VersionsError(
                f"--color takes auto, always or never, not {qa.visible(opts.color)!r}"
            )
        unknown = [a for a in args if a.startswith("-")]
        if unknown:
            raise VersionsError(f"unknown option {qa.visible(unknown[0])!r}")
        if not args:
            raise VersionsError("URL is required: the article whose versions to show")
        key = canonical_url(args[0])
        if key is None:
            raise VersionsError(f"not an address of www.rfi.fr: {qa.visible(args[0])!r}")
        files = [self._items_file(Path(a)) for a in args[1:]] or [
            self._items_file(config.output_dir)
        ]
        try:
            found = versions_read.scan(files, config.qa_max_line_bytes, only=key)
        except OSError as error:
            raise cannot("read", error.filename or files[0], error) from None
        if key not in found.index:
            archives = ", ".join(qa.visible(str(f)) for f in files)
            url = qa.visible(qa.readable(key))
            self.say(f"no version of {url} in {archives}")
            return 1
        colour = opts.color == "always" or (opts.color == "auto" and sys.stdout.isatty())
        print(render(found.index.history(key), found.items, colour), end="")
        return 0

    @staticmethod
    def _items_file(source: Path) -> Path:
        items_file = source / qa.ITEMS_FILE if source.is_dir() else source
        if not items_file.is_file():
            where = qa.visible(str(source))
            raise VersionsError(f"no archive at {where}: {items_file.name} not found")
        return items_file
