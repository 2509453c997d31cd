# ruff: noqa: N999 (Scrapy names a command after its module: scrapy archive-db)
"""``scrapy archive-db [DIR ...] [-o FILE]``: (re)build the archive database from
``items.jsonl``.

One DIR (default ``RFI_OUTPUT_DIR``): ``DIR/archive.db``, the file the crawl keeps
current, rebuilt from scratch. Several DIRs (the nodes of a distributed crawl, or both
editions' folders): one database of them all, written to ``-o FILE`` (required, as it
belongs to no one folder). Exit status 0 when built, 2 on bad arguments or settings or a
file that cannot be read or written. The building lives in ``rfi_spider.archive.database``.

The file's name has a hyphen because Scrapy names a command after its module.
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from pathlib import Path

from scrapy.exceptions import UsageError

from rfi_spider.archive import database
from rfi_spider.archive.outputs import Archive, OutputError, check_output
from rfi_spider.archive.state import STATE_DIR
from rfi_spider.cli import ArchiveCommand, CommandError
from rfi_spider.config import RfiSettings


class Command(ArchiveCommand):
    def syntax(self) -> str:
        return "[DIR ...] [-o FILE]"

    def short_desc(self) -> str:
        return (
            "Build the archive's SQLite database (archive.db) from items.jsonl, for scrapy browse"
        )

    def long_desc(self) -> str:
        return (
            "Rebuild DIR/archive.db from DIR/items.jsonl: one row per article version, "
            "every field, and a Chinese full-text index (segmented words, simplified and "
            "traditional as one), and the records of DIR/warc's pages (for the article "
            "pages' WARC links). DIR defaults to RFI_OUTPUT_DIR. Several DIRs (the nodes "
            "of a distributed crawl, both editions) go into one database: give it with -o "
            "FILE. The crawl keeps DIR/archive.db current by itself; this rebuilds it."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", metavar="FILE", help="the database to write")

    def error_line(self, message: str) -> str:
        return f"archive-db: {message}"

    def act(self, args: list[str], opts: argparse.Namespace, config: RfiSettings) -> int:
        output, state = config.output_dir, config.state_dir
        folders = [Path(a) for a in args] or [output]
        lock_dir = folders[0] / STATE_DIR if args else state
        for folder in folders:
            if not folder.is_dir():
                raise UsageError(f"{folder} is not a folder", print_help=False)
        if len(folders) > 1 and not opts.output:
            raise UsageError(
                "several folders go into one database: give it with -o FILE", print_help=False
            )
        target = Path(opts.output) if opts.output else folders[0] / database.DB_FILE
        if opts.output:  # a folder's own archive.db is written only by default
            try:
                check_output(target, [Archive.at(folder) for folder in folders])
            except OutputError as error:
                raise UsageError(str(error), print_help=False) from None
        warc_dirs = {output: config.warc_dir} if config.warc_dir and not args else None
        started = time.monotonic()
        try:
            result = build(target, folders, None if opts.output else lock_dir, warc_dirs)
        except (OSError, sqlite3.Error) as error:
            raise CommandError(f"cannot build {target}: {error}") from None
        size = target.stat().st_size
        print(
            f"{target}: {result.added} article version(s) from {len(folders)} folder(s)"
            f" ({result.skipped} line(s) skipped), {result.records} WARC record(s) of pages,"
            f" {size / 1e6:.1f} MB"
            f" in {time.monotonic() - started:.1f} s"
        )
        return 0


def build(
    target: Path,
    folders: list[Path],
    lock_dir: Path | None,
    warc_dirs: dict[Path, Path] | None = None,
) -> database.SyncResult:
    """Rebuild ``target``; a folder's own ``archive.db`` under the database lock in its
    state folder ``lock_dir``, so that a crawl's sync does not write it meanwhile.
    ``warc_dirs``: a folder's WARC files when not in ``<folder>/warc`` (RFI_WARC_DIR)."""
    if lock_dir is None:
        return database.rebuild(target, folders, warc_dirs)
    with database.locked(lock_dir):
        return database.rebuild(target, folders, warc_dirs)
