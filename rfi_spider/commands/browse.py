"""``scrapy browse [DIR | FILE.db] [--port PORT]``: the archive in Datasette, on
127.0.0.1.

DIR (default ``RFI_OUTPUT_DIR``): its ``archive.db``, first brought up to date with
``items.jsonl`` (built if missing). A database file (``scrapy archive-db A B -o
all.db``): served as it is. Datasette runs in this process, read only (see
``rfi_spider.search.browser``), on the port given or a free one, and the address is
printed before it starts. Exit status 2 on bad arguments or settings.
"""

from __future__ import annotations

import argparse
import socket
import sqlite3
from pathlib import Path

from scrapy.exceptions import UsageError

from rfi_spider.archive import database
from rfi_spider.archive.state import STATE_DIR
from rfi_spider.cli import ArchiveCommand, CommandError
from rfi_spider.config import RfiSettings

HOST = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class Command(ArchiveCommand):
    def syntax(self) -> str:
        return "[DIR | FILE.db] [--port PORT]"

    def short_desc(self) -> str:
        return "Browse and search the archive in Datasette on 127.0.0.1 (read only)"

    def long_desc(self) -> str:
        return (
            "Serve DIR/archive.db (brought up to date with DIR/items.jsonl first; DIR "
            "defaults to RFI_OUTPUT_DIR), or a database built by scrapy archive-db, with "
            "Datasette on 127.0.0.1: facets by edition, section, month, source and author, "
            "Chinese full-text search (simplified and traditional alike), an article page. "
            "Read only: no writes, no arbitrary SQL. Prints the address; Ctrl-C stops it."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--port", type=int, default=0, help="the port (default: a free one)")

    def error_line(self, message: str) -> str:
        return f"browse: {message}"

    def act(self, args: list[str], opts: argparse.Namespace, config: RfiSettings) -> int:
        if len(args) > 1:
            raise UsageError(
                "one folder or database: several folders go into one with scrapy archive-db"
                " DIR ... -o FILE",
                print_help=False,
            )
        if not 0 <= opts.port <= 65535:
            raise UsageError(f"--port {opts.port} is not a port", print_help=False)
        try:
            path = self._database(args, config)
        except (OSError, sqlite3.Error) as error:
            raise CommandError(f"cannot bring the database up to date: {error}") from None
        import uvicorn

        from rfi_spider.search import browser

        port = opts.port or free_port()
        print(
            f"Browse the archive at http://{HOST}:{port}/{browser.DATABASE}/{database.TABLE}"
            f" ({path}); Ctrl-C stops",
            flush=True,
        )
        uvicorn.run(browser.app(path), host=HOST, port=port, log_level="warning")
        return 0

    def _database(self, args: list[str], config: RfiSettings) -> Path:
        """The database to serve: a file given, or a folder's, synced first."""
        if args and Path(args[0]).is_file():
            if not database.is_database(Path(args[0])):
                raise UsageError(f"{args[0]} is not an archive database", print_help=False)
            return Path(args[0])
        warc_dirs = None
        if args:
            folder, state = Path(args[0]), Path(args[0]) / STATE_DIR
        else:
            folder, state = config.output_dir, config.state_dir
            if config.warc_dir:
                warc_dirs = {folder: config.warc_dir}
        if not folder.is_dir():
            raise UsageError(f"{folder} is not a folder", print_help=False)
        if not (folder / database.ITEMS_FILE).is_file():
            raise UsageError(f"{folder} has no items.jsonl: nothing to browse", print_help=False)
        path = folder / database.DB_FILE
        with database.locked(state):
            result = database.sync(path, [folder], warc_dirs)
        if result.added:
            print(f"{path}: {result.added} article version(s) added from items.jsonl", flush=True)
        return path
