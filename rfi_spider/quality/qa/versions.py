"""QA of the versions of edited articles: duplicates and broken chains as findings, the
edited articles listed, and their versions read back to show the diffs."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rfi_spider.archive import versions_read
from rfi_spider.archive.versions_read import History
from rfi_spider.quality.qa.report import CannotCheckError, Report, readable


def check_versions(index: versions_read.VersionIndex, report: Report) -> None:
    """Each article's versions: lines that repeat one (``duplicate``), chains that break
    (``version-chain``); the articles edited into :attr:`Report.edited`."""
    for history in index.histories():
        label = readable(history.key)
        for line, first in history.duplicates:
            if line.legacy and first.legacy:
                message = f"same URL as line {first.number}: {label}"
            else:
                message = f"version {line.version} again, as on line {first.number}: {label}"
            report.add("duplicate", line.where, message)
        for line, message in history.problems:
            report.add("version-chain", line.where, f"{message} ({label})")
        if history.edited:
            report.edited.append(history)


def edited_items(report: Report, histories: Iterable[History]) -> dict[tuple[Path, int], Any]:
    """The items of every version of ``histories``, read back from items.jsonl, to diff.

    Raises :class:`CannotCheckError` when the file cannot be read.
    """
    lines = [line for history in histories for line in history.versions]
    try:
        return versions_read.load(lines, report.max_line_bytes)
    except OSError as error:
        raise CannotCheckError(
            f"cannot read {error.filename}: {error.strerror or error}"
        ) from error
