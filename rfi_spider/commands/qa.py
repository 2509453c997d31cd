"""``scrapy qa [DIR ...] [--html FILE] [--compare OTHER] [--state STATE] [--all]``: check
an archive, report.

Several DIRs (the output folders of a distributed crawl's nodes) are checked as one
archive: their union, where an article exported in two folders is a duplicate.

Exit status 0 when nothing is wrong in DIR, 1 when anything is (a comparison
and a warning only inform: mirrors supplying most items, articles the crawl gave up),
2 when QA could not check: a usage error, no such folder, a file that cannot be read,
a report that cannot be written. The checks live in ``rfi_spider.quality.qa``; the
web page in ``rfi_spider.quality.qa_html``.
"""

from __future__ import annotations

import argparse
import traceback
from pathlib import Path

from scrapy.exceptions import UsageError

from rfi_spider.archive.outputs import Archive
from rfi_spider.cli import ArchiveCommand, CommandError
from rfi_spider.config import RfiSettings
from rfi_spider.quality import qa, qa_html


class Command(ArchiveCommand):
    def syntax(self) -> str:
        return "[DIR ...] [--html FILE] [--compare OTHER] [--state STATE] [--all]"

    def short_desc(self) -> str:
        return "Check exported items and seed-style files; report problems (exit 1) and totals"

    def long_desc(self) -> str:
        return (
            "Check an archive: DIR/items.jsonl against the item schema, duplicates, dates, "
            "and the seed-style files under DIR/articles/ against their items. Without "
            "items.jsonl, checks the seed-style files (*.txt, *.md) found under DIR, as "
            "other tools write them. DIR defaults to RFI_OUTPUT_DIR; several DIRs (the folders "
            "of a distributed crawl's nodes) are checked as one archive, an article in two "
            "of them being a duplicate. Then the article URLs "
            "the site's sitemaps listed (recorded in the state, DIR/.state or --state) "
            "against the archive: a listed article the archive lacks is a problem. "
            "--compare lists the articles only one of two archives has. Exits 0 when "
            "nothing is wrong in DIR, 1 when anything is, 2 when QA could not check (no "
            "such folder, unreadable file). Lists, as a warning, the articles the crawl "
            "gave up (DIR/.state)."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--html", metavar="FILE", help="also write the report as a self-contained web page"
        )
        parser.add_argument(
            "--compare",
            metavar="OTHER",
            help="also compare with another archive (ours or seed-style files of another tool)",
        )
        parser.add_argument(
            "--state",
            metavar="STATE",
            help="the crawl's state folder, for the coverage against the site's sitemaps "
            "(default: DIR/.state; without DIR, RFI_STATE_DIR)",
        )
        parser.add_argument(
            "--all", action="store_true", help="list every problem (default: 20 of each kind)"
        )

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if len(args) > 1 and opts.state:
            raise UsageError("--state goes with one DIR (several: each DIR/.state is read)")

    def error_line(self, message: str) -> str:
        return f"QA could not check: {message}"

    def act(self, args: list[str], opts: argparse.Namespace, config: RfiSettings) -> int:
        if args:
            directory, state = Path(args[0]), Path(args[0]) / qa.STATE_DIR
        else:
            directory, state = config.output_dir, config.state_dir
        if opts.state:
            state = Path(opts.state)
        directories = [Path(a) for a in args] or [directory]
        for folder in [*directories, *([Path(opts.compare)] if opts.compare else [])]:
            if not folder.is_dir():
                raise UsageError(f"{qa.visible(str(folder))} is not a folder", print_help=False)
        if state.exists() and not state.is_dir():
            raise CommandError(f"the state {state} is not a folder")
        if opts.html:
            # Not over any archive QA reads, nor over the configured one.
            read = [*directories, *([Path(opts.compare)] if opts.compare else [])]
            archives = [Archive.at(d) for d in read]
            archives += [Archive.at(directory, state), Archive.configured(config)]
            self.check_output(opts.html, archives, option="--html ")
        max_line, max_attempts = config.qa_max_line_bytes, config.max_attempts
        try:
            return self._report(directories, opts, max_line, state, max_attempts)
        except qa.CannotCheckError as error:
            raise CommandError(str(error)) from None
        except Exception as error:  # a fault of QA itself: not "problems found"
            traceback.print_exc()
            raise CommandError(f"internal error: {type(error).__name__}: {error}") from None

    def _report(
        self,
        directories: list[Path],
        opts: argparse.Namespace,
        max_line: int,
        state: Path,
        max_attempts: int,
    ) -> int:
        if len(directories) > 1:
            report = qa.check_archives(
                directories, max_line_bytes=max_line, max_attempts=max_attempts
            )
        else:
            report = qa.check_archive(
                directories[0], max_line_bytes=max_line, state_dir=state, max_attempts=max_attempts
            )
        comparison = None
        if opts.compare:
            other = qa.check_archive(opts.compare, report.checked_at, max_line)
            comparison = qa.Comparison(report, other)
        limit = None if opts.all else 20
        text = qa.render_text(report, limit=limit)
        if comparison:
            # The verdict stays last: what a terminal shows and a script greps.
            body, _, last = text.rstrip("\n").rpartition("\n")
            text = f"{body}\n{qa.render_comparison(comparison, limit=limit)}\n{last}\n"
        print(text, end="")
        if opts.html:
            try:
                target = qa_html.write(report, Path(opts.html), limit=limit, comparison=comparison)
            except OSError as error:
                raise qa.CannotCheckError(
                    f"cannot write {opts.html}: {error.strerror or error}"
                ) from error
            print(f"HTML report: {qa.visible(str(target))}")
        return 0 if report.ok else 1
