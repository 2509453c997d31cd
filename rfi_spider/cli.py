"""What the project's ``scrapy`` commands (``rfi_spider/commands/``) share: a fault the
user can fix (a bad argument or setting, an output refused, a file that cannot be read or
written) ends the command with one line on stderr and an exit status, never a traceback;
the settings are read once, typed and checked (:class:`RfiSettings`), before the work.

A command raises :class:`CommandError` anywhere in its work; :class:`RfiCommand` prints
it as the command's error line (``scrapy feed: error: ...``, each command keeping its own
wording) with control characters escaped, so that the line stays one line.
:class:`ArchiveCommand` is the base of the commands that run no crawl (``qa``, ``feed``,
``wacz``, ``versions``, ``archive-db``, ``browse``); ``crawl`` is Scrapy's own command
with :class:`RfiCommand`'s refusals.

This module is not in ``rfi_spider/commands/`` on purpose: Scrapy takes every
``ScrapyCommand`` subclass defined in a module of ``COMMANDS_MODULE``'s package for a
command named after that module, so a base class there would be listed (and run) by
``scrapy`` as a command of its own.
"""

from __future__ import annotations

import argparse
import sys
from abc import abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.settings import BaseSettings

from rfi_spider.archive.outputs import Archive, OutputError, check_output
from rfi_spider.config import ConfigError, RfiSettings
from rfi_spider.quality import qa

# Exit statuses: bad arguments, settings or files; a crawl that could not start or failed.
BAD_ARGUMENTS = 2
FAILED = 1


class CommandError(Exception):
    """What stops a command: the message is the one line the user reads, ``status`` the
    exit status (2 unless said: the fault is the user's arguments, settings or files)."""

    def __init__(self, message: str, status: int = BAD_ARGUMENTS) -> None:
        super().__init__(message)
        self.status = status


def cannot(action: str, path: str | Path, error: OSError) -> CommandError:
    """An OS error as the user reads it: ``cannot write out.atom: No space left on device``."""
    return CommandError(f"cannot {action} {path}: {error.strerror or error}")


class RfiCommand(ScrapyCommand):
    """A command of the project: its refusals as one line and an exit status."""

    @property
    def command_name(self) -> str:
        """The command's name: its module's, as Scrapy names a command."""
        return type(self).__module__.rpartition(".")[2]

    def error_line(self, message: str) -> str:
        """The line that says why the command stopped (a command may word it its own way)."""
        return f"scrapy {self.command_name}: error: {message}"

    def say(self, text: str) -> None:
        """A line on stderr after the command's name: ``scrapy feed: warning: ...``."""
        print(qa.visible(f"scrapy {self.command_name}: {text}"), file=sys.stderr)

    def fail(self, error: CommandError) -> None:
        """Print ``error`` as one line on stderr and take its exit status."""
        print(qa.visible(self.error_line(str(error))), file=sys.stderr)
        self.exitcode = error.status

    def rfi_settings(self, settings: BaseSettings | None = None) -> RfiSettings:
        """The ``RFI_*`` settings (of ``settings``, by default the command's), checked."""
        settings = self.settings if settings is None else settings
        assert settings is not None  # set by scrapy.cmdline before any method runs
        try:
            return RfiSettings.from_settings(settings)
        except ConfigError as error:
            raise CommandError(f"bad setting: {error}") from None

    @staticmethod
    def check_output(
        target: str | Path,
        archives: Iterable[Archive],
        inputs: Iterable[Path] = (),
        option: str = "",
    ) -> None:
        """``archive/outputs.py``'s refusal of ``target`` (the archive's own files, a
        device, a link) as a :class:`CommandError`, after ``option`` (``"--html "``)."""
        try:
            check_output(target, archives, inputs)
        except OutputError as error:
            raise CommandError(f"{option}{error}") from None


class ArchiveCommand(RfiCommand):
    """A command that runs no crawl: it reads or writes an archive. Its settings are
    checked first; then :meth:`act` does the job and returns the exit status."""

    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        try:
            self.exitcode = self.act(args, opts, self.rfi_settings())
        except CommandError as error:
            self.fail(error)

    @abstractmethod
    def act(self, args: list[str], opts: argparse.Namespace, config: RfiSettings) -> int:
        """The command's job: its exit status, or :class:`CommandError`."""
