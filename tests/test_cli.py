"""The project's commands refuse one way (``rfi_spider/cli.py``): a bad setting, in every
command, is one line on stderr and exit status 2, no traceback; a refusal's line stays one
line whatever it quotes; and ``scrapy`` lists exactly the project's commands (the shared
base is no command of its own)."""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
import scrapy.commands
from conftest import ROOT
from scrapy.commands import ScrapyCommand
from scrapy.settings import Settings

from rfi_spider.cli import ArchiveCommand, CommandError
from rfi_spider.config import RfiSettings

PROJECT_COMMANDS = {"archive-db", "browse", "crawl", "feed", "qa", "versions", "wacz"}
BAD = "RFI_MAX_ATTEMPTS must be a whole number of 1 or more, not '0'"
# Each command: its arguments (fit but for the setting), and the line it prints.
REFUSED = {
    "crawl": (["rfi_cn"], f"scrapy crawl rfi_cn: bad setting: {BAD}"),
    "qa": (["{d}"], f"QA could not check: bad setting: {BAD}"),
    "feed": (["{d}", "-o", "{d}/f.atom"], f"scrapy feed: error: bad setting: {BAD}"),
    "wacz": (["{d}", "-o", "{d}/w.wacz"], f"scrapy wacz: error: bad setting: {BAD}"),
    "versions": (["https://www.rfi.fr/cn/x", "{d}"], f"scrapy versions: error: bad setting: {BAD}"),
    "archive-db": (["{d}"], f"archive-db: bad setting: {BAD}"),
    "browse": (["{d}"], f"browse: bad setting: {BAD}"),
}


def project_settings() -> Settings:
    settings = Settings()
    settings.setmodule("rfi_spider.settings", priority="project")
    return settings


def run(command: ScrapyCommand, argv: list[str]) -> int:
    """The command run as ``scrapy.cmdline.execute`` runs it: its options parsed, then
    ``process_options`` and ``run``; the exit status."""
    command.settings = project_settings()
    command.settings.setdict(command.default_settings, priority="command")
    parser = argparse.ArgumentParser(conflict_handler="resolve")
    command.add_options(parser)
    opts, args = parser.parse_known_args(argv)
    try:
        command.process_options(args, opts)
        command.run(args, opts)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return command.exitcode


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_bad_setting_is_one_line_and_exit_2_in_every_command(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "items.jsonl").write_text("")  # an archive: only the setting is wrong
    arguments, line = REFUSED[name]
    argv = [a.replace("{d}", str(tmp_path)) for a in arguments]
    command = importlib.import_module(f"rfi_spider.commands.{name}").Command()
    status = run(command, [*argv, "-s", "RFI_MAX_ATTEMPTS=0"])
    out, err = capsys.readouterr()
    assert (status, err.splitlines(), out) == (2, [line], "")
    assert sorted(tmp_path.iterdir()) == [tmp_path / "items.jsonl"]  # nothing written


class Refusing(ArchiveCommand):
    """A command whose job refuses with what a hostile argument may hold."""

    def short_desc(self) -> str:
        return "refuses"

    def act(self, args: list[str], opts: argparse.Namespace, config: RfiSettings) -> int:
        raise CommandError(f"no archive at {args[0]}", status=int(args[1]))


def test_a_refusal_is_one_line_whatever_it_quotes(capsys: pytest.CaptureFixture[str]) -> None:
    status = run(Refusing(), ["two\nlines\x1b[2J\u202e", "1"])
    out, err = capsys.readouterr()
    line = "scrapy test_cli: error: no archive at two\\x0alines\\x1b[2J\\u202e"
    assert (status, err.splitlines(), out) == (1, [line], "")


def test_scrapy_lists_exactly_the_project_commands() -> None:
    """Scrapy takes any command class defined in a module under COMMANDS_MODULE for a
    command: the shared base lives outside it, so ``scrapy -h`` lists Scrapy's own
    commands and the project's, and nothing else."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "-h"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    listed = done.stdout.split("Available commands:")[1].split("\n\n")[1]
    names = {line.split()[0] for line in listed.splitlines() if line.strip()}
    scrapy_own = {module.name for module in pkgutil.iter_modules(scrapy.commands.__path__)}
    assert names == scrapy_own | PROJECT_COMMANDS
