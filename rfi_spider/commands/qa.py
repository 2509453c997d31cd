"""``scrapy qa [DIR] [--html FILE] [--all]``: check an archive, print a report.

Exit status 0 when nothing is wrong, 1 when anything is. The checks live in
``rfi_spider.qa``; the web page in ``rfi_spider.qa_html``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from rfi_spider import qa, qa_html


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[DIR] [--html FILE] [--all]"

    def short_desc(self) -> str:
        return "Check exported items and seed-style files; report problems (exit 1) and totals"

    def long_desc(self) -> str:
        return (
            "Check an archive: DIR/items.jsonl against the item schema, duplicates, dates, "
            "and the seed-style files under DIR/articles/ against their items. Without "
            "items.jsonl, checks the seed-style files (*.txt, *.md) found under DIR, as "
            "other tools write them. DIR defaults to RFI_OUTPUT_DIR. Exits 0 when nothing "
            "is wrong, 1 otherwise."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--html", metavar="FILE", help="also write the report as a self-contained web page"
        )
        parser.add_argument(
            "--all", action="store_true", help="list every problem (default: 20 of each kind)"
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) > 1:
            raise UsageError("at most one DIR")
        assert self.settings is not None
        directory = Path(args[0] if args else self.settings.get("RFI_OUTPUT_DIR") or "output")
        if not directory.is_dir():
            raise UsageError(f"{directory} is not a folder", print_help=False)
        report = qa.check_archive(directory)
        limit = None if opts.all else 20
        print(qa.render_text(report, limit=limit), end="")
        if opts.html:
            target = qa_html.write(report, Path(opts.html), limit=limit)
            print(f"HTML report: {target}")
        self.exitcode = 0 if report.ok else 1
