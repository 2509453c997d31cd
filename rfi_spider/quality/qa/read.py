"""Reading an archive for QA: ``items.jsonl`` line by line (with archive's reader of hostile
lines, :mod:`rfi_spider.archive.jsonl_read`: over-long lines skipped unread, deep nesting and
huge integers refused) and the seed-style files; what cannot be read is a finding, never a
crash."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from rfi_spider.archive import seedfile
from rfi_spider.archive.jsonl_read import SKIP_CHUNK, parse_line, read_lines
from rfi_spider.canonical import canonical_url
from rfi_spider.dates import checked_ms
from rfi_spider.mirrors.entrypage import seed_item
from rfi_spider.quality.qa.report import (
    FILE_FIELDS,
    MAX_LINE_BYTES,
    SEED_SUFFIXES,
    CannotCheckError,
    Report,
    SeedFile,
    _filled,
)


def read_items(
    path: Path, report: Report, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` of each line that is a JSON object; the others are findings.

    Raises :class:`CannotCheckError` when the file cannot be read.
    """
    try:
        with path.open("rb", buffering=SKIP_CHUNK) as handle:
            for number, (raw, size) in enumerate(read_lines(handle, max_line_bytes), 1):
                report.lines = number
                item = _line_item(raw, size, f"{path.name}:{number}", report, max_line_bytes)
                if item is not None:
                    yield number, item
    except OSError as error:
        raise CannotCheckError(f"cannot read {path}: {error.strerror or error}") from error


def _line_item(
    raw: bytes | None, size: int, where: str, report: Report, max_line_bytes: int
) -> dict[str, Any] | None:
    """The JSON object a line holds; None, and a finding, when it holds none."""
    if raw is None:
        limit = f"the limit of {max_line_bytes} (RFI_QA_MAX_LINE_BYTES)"
        report.add("too-long", where, f"{size} bytes, over {limit}: not read")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        report.add("not-json", where, f"not UTF-8 ({error.reason} at byte {error.start})")
        return None
    if not text.strip():
        report.add("not-json", where, "empty line")
        return None
    value, problem = parse_line(text)
    if problem:
        report.add("not-json", where, problem)
        return None
    if not isinstance(value, dict):
        report.add("not-json", where, f"a JSON {type(value).__name__}, not an object")
        return None
    if not raw.endswith(b"\n"):
        report.add("not-json", where, "last line has no newline (a torn write?)")
    return value


def find_seed_files(root: Path) -> list[Path]:
    """Seed-style files under ``root`` (``*.txt``, ``*.md``), hidden folders left out."""
    return sorted(
        path
        for path in root.rglob("*")
        if path.suffix in SEED_SUFFIXES
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
    )


def read_seed_files(
    paths: Iterable[Path], root: Path, report: Report, max_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[SeedFile, seedfile.SeedRecord]]:
    """Each file that parses, with what it holds; the others are findings."""
    for path in paths:
        where = path.relative_to(root).as_posix()
        try:
            size = path.stat().st_size
            text = path.read_text(encoding="utf-8") if size <= max_bytes else None
        except UnicodeDecodeError:
            report.add("bad-file", where, "not UTF-8")
            continue
        except OSError as error:
            raise CannotCheckError(f"cannot read {path}: {error.strerror or error}") from error
        if text is None:
            report.add("bad-file", where, f"{size} bytes, over the limit of {max_bytes}: not read")
            continue
        try:
            record = seedfile.read(text)
        except seedfile.SeedFormatError as error:
            report.add("bad-file", where, str(error))
            continue
        except ValueError:  # a timestamp of more digits than Python converts
            report.add("bad-file", where, "line 1: timestamp out of range")
            continue
        if checked_ms(record.ms) is None:
            report.add("bad-file", where, "line 1: timestamp out of range")
            continue
        key = canonical_url(record.url) or record.url
        yield SeedFile(path, where, record.url, key, record.ms, record.title), record


def file_fields(record: seedfile.SeedRecord) -> dict[str, Any]:
    """The item fields a seed-style file holds, read as the mirror entries it has the shape of
    (:func:`~rfi_spider.mirrors.entrypage.seed_item`: the same loader as every item)."""
    item = seed_item(record)
    return {name: item.get(name) for name in FILE_FIELDS}


def slim(record: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """What the tables need of a record: which fields are filled, its date and source.

    Kept instead of whole items, so that a large archive is checked in little memory.
    """
    return {
        name: record[name] if name in ("published_at", "source") else True
        for name in fields
        if _filled(record.get(name))
    }
