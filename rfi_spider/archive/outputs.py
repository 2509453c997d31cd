"""What no output may overwrite (the archive's own files), and folders fit to write to.

An archive folder holds ``items.jsonl``, ``articles/``, the state (``.state/`` or
``RFI_STATE_DIR``) and the WARC files (``warc/`` or ``RFI_WARC_DIR``). A feed written
over one of them (``scrapy crawl -O output/items.jsonl``, ``scrapy feed -o
output/.state/seen.sqlite3``) destroys what the state says was exported, so those
articles are never exported again. :func:`check_output` refuses such a target, and any
target that is not a regular file or a new path (a device such as ``/dev/null``, a FIFO,
a folder, a symbolic link: writing it would replace or write through the node itself).
Paths are compared resolved (symbolic links and ``..`` followed), and an existing file
that is a hard link to an archive file is refused as that file.

:func:`check_folders` says, before a crawl opens anything, that its output and state
folders are folders it can write, and that the state database is one.

Every command that writes a file (``crawl``'s local feeds, ``feed``, ``wacz``, ``qa
--html``) calls :func:`check_output`; each raises :class:`OutputError`, one line.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rfi_spider.archive.state import STATE_DIR, STATE_FILE

if TYPE_CHECKING:  # the archive.db child imports DB_FILE from here, without Scrapy
    from rfi_spider.config import RfiSettings

ITEMS_FILE = "items.jsonl"
ARTICLES_DIR = "articles"
WARC_DIR = "warc"
# The archive as a database (archive/database.py), kept by the crawl
DB_FILE = "archive.db"
# The mode of every file an export creates (items.jsonl, seed-style files, a torn line
# moved aside, feed files, WARC files), less the umask as open() applies it: 0644 under
# umask 022.
FILE_MODE = 0o644
# The first bytes of every SQLite database file (an empty file is a new database too).
SQLITE_HEADER = b"SQLite format 3\x00"


class OutputError(ValueError):
    """An output or folder that cannot be used; the message is one line for the user."""


def _shown(path: str | os.PathLike[str]) -> str:
    """A path as an error line shows it: control characters escaped (``repr``'s rules)."""
    return repr(os.fspath(path))[1:-1]


@dataclass(frozen=True)
class Archive:
    """An archive folder and where its state and WARC files are."""

    output: Path
    state: Path
    warc: Path

    @classmethod
    def at(cls, output: Path, state: Path | None = None, warc: Path | None = None) -> Archive:
        """The archive in ``output``, its state and WARC files where given, else inside."""
        return cls(output, state or output / STATE_DIR, warc or output / WARC_DIR)

    @classmethod
    def configured(cls, config: RfiSettings) -> Archive:
        """The archive of ``RFI_OUTPUT_DIR``, ``RFI_STATE_DIR`` and ``RFI_WARC_DIR``."""
        return cls.at(config.output_dir, config.state_dir, config.warc_dir)

    def protected(self) -> list[Path]:
        """What no output may be, or be inside: files and whole folders, resolved."""
        parts = [self.output / ARTICLES_DIR, self.state, self.warc, self.output / ITEMS_FILE]
        parts.append(self.output / DB_FILE)
        return [part.resolve() for part in parts]


def resolved(target: Path) -> Path:
    """``target`` with its folder resolved (links, ``..``), its last part as it is."""
    return target.parent.resolve() / target.name


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _same_file(info: os.stat_result, archives: Iterable[Archive]) -> Path | None:
    """An archive file that ``info`` (an existing regular file) is another name of."""
    if info.st_nlink < 2:
        return None
    for archive in archives:
        for part in archive.protected():
            candidates = [part] if part.is_file() else []
            if part.is_dir() and part.name != ARTICLES_DIR:
                with contextlib.suppress(OSError):
                    candidates += [p for p in part.iterdir() if p.is_file()]
            for candidate in candidates:
                with contextlib.suppress(OSError):
                    other = candidate.stat()
                    if (other.st_dev, other.st_ino) == (info.st_dev, info.st_ino):
                        return candidate
    return None


def check_output(
    target: str | os.PathLike[str], archives: Iterable[Archive], inputs: Iterable[Path] = ()
) -> Path:
    """``target`` if an output may be written there, else :class:`OutputError`: it is (or
    is in, or is a hard link to) an archive's own file or folder, or one of ``inputs``
    (the files the command reads), or it exists and is not a regular file (a device, a
    FIFO, a folder, a symbolic link)."""
    given = Path(target)
    if not given.name or given.name in (".", ".."):
        raise OutputError(f"{_shown(given)} is a folder, not a file")
    path = resolved(given)
    archives = list(archives)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise OutputError(f"cannot use {_shown(given)}: {error.strerror or error}") from None
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            raise OutputError(f"{_shown(given)} is a symbolic link: give the file itself")
        if stat.S_ISDIR(info.st_mode):
            raise OutputError(f"{_shown(given)} is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise OutputError(f"{_shown(given)} is not a regular file (a device, a FIFO?)")
    for archive in archives:
        for part in archive.protected():
            # items.jsonl's siblings too: the torn line moved aside, a temporary copy;
            # archive.db's: its journal, the rebuild's temporary file (.archive.db.<pid>.tmp)
            sibling = (
                part.name in (ITEMS_FILE, DB_FILE)
                and path.parent == part.parent
                and path.name.lstrip(".").startswith(part.name)
            )
            if sibling or _inside(path, part):
                own = _shown(part)
                raise OutputError(f"{_shown(given)} would overwrite the archive's own {own}")
    for read in inputs:
        if path == read.resolve():
            raise OutputError(f"{_shown(given)} is the file read: write the output elsewhere")
    if info is not None:
        twin = _same_file(info, archives)
        if twin is not None:
            raise OutputError(f"{_shown(given)} is another name of the archive's {_shown(twin)}")
    return given


def _check_folder(name: str, folder: Path) -> None:
    """``folder`` exists as a writable folder, or can be made (its nearest ancestor is)."""
    existing = folder
    while not existing.exists() and not existing.is_symlink() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        what = "does not exist" if existing.is_symlink() else "is a file, not a folder"
        raise OutputError(f"{name} {_shown(folder)}: {_shown(existing)} {what}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{name} {_shown(folder)}: {_shown(existing)} is read-only")


def check_state_file(path: Path) -> None:
    """``path`` (the state database) is missing, empty or a readable SQLite database."""
    if not path.exists() and not path.is_symlink():
        return
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as error:
        raise OutputError(f"cannot read the state {_shown(path)}: {error.strerror}") from None
    if header and header != SQLITE_HEADER:
        raise OutputError(
            f"the state {_shown(path)} is not a SQLite database (corrupt?): move it aside"
        )
    if not header:
        return
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        with contextlib.closing(db):
            db.execute("SELECT name FROM sqlite_master").fetchall()
    except sqlite3.Error as error:
        raise OutputError(
            f"the state {_shown(path)} cannot be read: {error}: move it aside"
        ) from None


def check_folders(output: Path, state: Path) -> None:
    """The crawl's output and state folders can be written, and the state read:
    :class:`OutputError` otherwise (before the crawl opens them, so: one line)."""
    _check_folder("RFI_OUTPUT_DIR", output)
    _check_folder("RFI_STATE_DIR", state)
    check_state_file(state / STATE_FILE)
