"""``scrapy wacz [OUTPUT] -o FILE``: a run's WARC files as one WACZ package (no crawl).

Packs ``OUTPUT/warc/*.warc.gz`` (default ``RFI_OUTPUT_DIR``; closed files only, not a
``.open`` one a crawl is writing, nor one that cannot be read to its end or holds a record
past ``DOWNLOAD_MAXSIZE`` or with an endless header: a warning) with
the ``wacz`` tool (Webrecorder's py-wacz, by its command line: the package has no other
public interface), with a page list of the exported articles
(``rfi_spider.archive.wacz_pages``): ReplayWeb.page opens the file and lists them by
title. FILE is written under a temporary name and renamed into place; it may not be one
of the archive's own files (``archive/outputs.py``: ``OUTPUT/warc/x.warc.gz``), nor a
device, a FIFO or a symbolic link. Exit status 0 when the package is written, 2 when it
is not (a bad setting, no WARC file, a ``.warc.gz`` that is no WARC, no ``wacz`` tool,
the tool failed, an output refused, a write error), each said in one line.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from rfi_spider.archive import exporters, wacz_pages
from rfi_spider.archive.outputs import Archive
from rfi_spider.archive.warc_files import SUFFIX
from rfi_spider.cli import ArchiveCommand, CommandError, cannot
from rfi_spider.config import RfiSettings
from rfi_spider.fetch.warc_replay import payload_limit
from rfi_spider.quality import qa

# How long the tool may take, at most (it reads every record twice: index and digest).
TIMEOUT = 6 * 3600


class WaczError(CommandError):
    """The package cannot be written: one line for the user, exit status 2."""


def wacz_tool() -> str:
    """The ``wacz`` command beside this Python (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "wacz"
    if beside.is_file():
        return str(beside)
    found = shutil.which("wacz")
    if found is None:
        raise WaczError("the wacz tool is not installed (pip install -r requirements.txt)")
    return found


def warc_files(folder: Path) -> list[Path]:
    """The closed WARC files of an output folder, in name (time) order."""
    files = sorted(p for p in (folder / "warc").glob(f"*{SUFFIX}") if p.is_file())
    if not files:
        raise WaczError(f"no {SUFFIX} file in {qa.visible(str(folder / 'warc'))}")
    return files


def _readable(files: list[Path], fetched: wacz_pages.Fetched) -> list[Path]:
    """The files that go into the package: a gzip of something else refused, files that
    cannot be read to their end left out with a warning, none left refused."""
    # A gzip file that holds no WARC is not the archive's: refused, not silently left out.
    if fetched.not_warc:
        where = qa.visible(str(fetched.not_warc[0]))
        raise WaczError(f"{where} is not a WARC file (a gzip of something else)")
    # A torn or corrupt file (cut short, or not gzip) is left out of the package, as is one
    # with a record past the bounds (the tool would inflate it whole).
    for path in fetched.unreadable:
        where = qa.visible(str(path))
        print(
            f"scrapy wacz: warning: {where} could not be read to its end: left out", file=sys.stderr
        )
    for path in fetched.too_large:
        where = qa.visible(str(path))
        print(
            f"scrapy wacz: warning: {where} holds a WARC record over DOWNLOAD_MAXSIZE or with a"
            " header over 256 KiB: left out",
            file=sys.stderr,
        )
    left_out = {*fetched.unreadable, *fetched.too_large}
    files = [path for path in files if path not in left_out]
    if not files:
        raise WaczError("no WARC file that can be read to its end: nothing to package")
    return files


def package(
    folder: Path, target: Path, title: str, max_payload: int = 0
) -> tuple[list[Path], wacz_pages.PageList, wacz_pages.Fetched]:
    """Write the WACZ of ``folder``'s WARC files to ``target``; what went in."""
    files = warc_files(folder)
    tool = wacz_tool()
    fetched = wacz_pages.fetched_pages(files, max_payload)
    files = _readable(files, fetched)
    pages = wacz_pages.page_list(folder / qa.ITEMS_FILE, fetched)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, pages_file = exporters.create_new(target.parent, ".pages-tmp")
    fd_out, temporary = exporters.create_new(target.parent, ".wacz-tmp")
    os.close(fd_out)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(wacz_pages.render(pages.pages))
        command = [tool, "create", "-o", str(temporary), "--title", title]
        # No page list at all: let the tool find the HTML pages itself.
        command += ["-p", str(pages_file)] if pages.pages else ["--detect-pages"]
        done = subprocess.run(
            [*command, *map(str, files)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        if done.returncode != 0 or not temporary.stat().st_size:
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise WaczError(f"wacz create failed ({done.returncode}): {qa.visible(last[0])}")
        os.replace(temporary, target)
    finally:
        pages_file.unlink(missing_ok=True)
        temporary.unlink(missing_ok=True)
    return files, pages, fetched


class Command(ArchiveCommand):
    def syntax(self) -> str:
        return "[OUTPUT] -o FILE [--title TITLE]"

    def short_desc(self) -> str:
        return "Package a run's WARC files as a WACZ file for ReplayWeb.page (no crawl)"

    def long_desc(self) -> str:
        return (
            "Pack OUTPUT/warc/*.warc.gz (OUTPUT: default RFI_OUTPUT_DIR) into the WACZ file "
            "FILE with the wacz tool, listing the exported articles of OUTPUT/items.jsonl as "
            "its pages. Exits 2 when the package cannot be written."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", metavar="FILE", help="the WACZ file to write")
        parser.add_argument("--title", help="the package's title (default: the folder's name)")

    def act(self, args: list[str], opts: argparse.Namespace, config: RfiSettings) -> int:
        assert self.settings is not None
        if len(args) > 1:
            raise WaczError(f"one OUTPUT folder at most, not {len(args)}")
        if not opts.output:
            raise WaczError("-o FILE is required: where to write the package")
        folder = Path(args[0]) if args else config.output_dir
        if not folder.is_dir():
            raise WaczError(f"{qa.visible(str(folder))} is not a folder")
        target = Path(opts.output)
        self.check_output(target, [Archive.at(folder), Archive.configured(config)])
        title = opts.title or f"rfi-spider archive: {folder.resolve().name}"
        try:
            files, pages, fetched = package(
                folder, target, title, payload_limit(self.settings, config)
            )
        except OSError as error:
            raise cannot("write", target, error) from None
        except subprocess.TimeoutExpired:
            raise WaczError(f"wacz create took more than {TIMEOUT} s") from None
        print(
            f"WACZ: {len(files)} WARC file(s), {len(pages.pages)} article page(s) "
            f"in {qa.visible(str(target))}"
        )
        if pages.not_fetched:
            print(f"  {pages.not_fetched} article(s) from mirror feeds only: not listed as pages")
        if fetched.bad_records:
            self.say(
                f"warning: {fetched.bad_records} WARC record(s) unreadable "
                "or failing their digest: not listed"
            )
        if pages.bad_lines:
            self.say(f"warning: {pages.bad_lines} line(s) of items.jsonl are no item")
        return 0
