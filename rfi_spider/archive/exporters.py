"""The two exports: the JSON Lines file and the seed-style text files.

Both write so that a killed process leaves no half file behind: a JSON line
goes out in one ``write`` on an ``O_APPEND`` descriptor, a text file is
written to a temporary name and renamed into place. Every file they write,
and Scrapy's feed files (:class:`FileFeedStorage`), is created with
:data:`FILE_MODE` less the umask.
"""

from __future__ import annotations

import errno
import io
import json
import logging
import os
import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from scrapy.exporters import JsonLinesItemExporter
from scrapy.extensions import feedexport
from scrapy.utils.serialize import ScrapyJSONEncoder

from rfi_spider.archive import seedfile
from rfi_spider.archive.outputs import FILE_MODE
from rfi_spider.archive.seedfile import seed_file_name
from rfi_spider.archive.versions import versioned_name
from rfi_spider.items import BY_EXPORT, FIELDS, ArticleItem

logger = logging.getLogger(__name__)


def create_new(directory: Path, suffix: str) -> tuple[int, Path]:
    """A new file of a random name in ``directory``, open for writing (:data:`FILE_MODE`)."""
    while True:
        path = directory / f"{secrets.token_hex(8)}{suffix}"
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
            return os.open(path, flags, FILE_MODE), path
        except FileExistsError:
            continue


class FileFeedStorage(feedexport.FileFeedStorage):
    """Scrapy's local feed files (``-o``, ``-O``, ``FEEDS``), created with :data:`FILE_MODE`."""

    def open(self, spider: Any) -> Any:
        path = Path(self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC
        flags |= os.O_APPEND if "a" in self.write_mode else os.O_TRUNC
        return os.fdopen(os.open(path, flags, FILE_MODE), self.write_mode)


# Write errors that stop a crawl (the disk is full, broken or read-only): retrying
# cannot help, and every later export would fail the same way.
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS})


def is_write_error(error: BaseException) -> bool:
    """An ``OSError`` whose errno is one of :data:`WRITE_ERRNOS`."""
    return isinstance(error, OSError) and error.errno in WRITE_ERRNOS


def naming(error: OSError, path: str | os.PathLike[str]) -> OSError:
    """A copy of ``error`` (same errno) naming ``path`` when it names no file
    (``os.write`` gives none): raise it ``from error``."""
    return OSError(error.errno, error.strerror, error.filename or os.fspath(path))


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` (``os.write`` may write less; the next call raises)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def serialize_line(item: Any) -> bytes:
    """One JSON line (UTF-8, not ASCII-escaped) with the exported fields in spec order.

    The bytes of Scrapy's ``JsonLinesItemExporter`` (``fields_to_export=FIELDS``,
    ``ensure_ascii=False``). For an :class:`ArticleItem`, whose fields have no
    ``serializer``, that is the item's own values of those fields, in that order, through
    the same encoder: made here directly, without an exporter built for every item and its
    field-by-field walk through ``ItemAdapter`` (a missing field's ``in`` raises and catches
    a ``KeyError``): about a tenth of the export's cost an article (issue 26).
    """
    fields = exported_fields(item)
    if fields is not None:
        return (_ENCODER.encode(fields) + "\n").encode("utf-8")
    buffer = io.BytesIO()
    exporter = JsonLinesItemExporter(buffer, fields_to_export=list(FIELDS), ensure_ascii=False)
    exporter.export_item(item)
    return buffer.getvalue()


# No exported field of ArticleItem has a serializer: its values are exported as they are.
_NO_SERIALIZER = not any("serializer" in ArticleItem.fields[name] for name in FIELDS)


def exported_fields(item: Any) -> dict[str, Any] | None:
    """The exported fields of an :class:`ArticleItem`, in :data:`FIELDS`' order, as
    :func:`serialize_line` encodes them (a new dict; the values are the item's); None for
    any other kind of item."""
    if type(item) is not ArticleItem or not _NO_SERIALIZER:
        return None
    values = dict(item)
    return {name: values[name] for name in FIELDS if name in values}


# The values json.loads gives back as they were: of these types exactly (bool is not int,
# no float: NaN and -0.0 aside, their text need not round-trip; no str or int subclass).
_SCALARS = frozenset({str, int, bool, type(None)})


def is_plain(value: Any) -> bool:
    """Whether ``value``'s JSON reads back as an equal value of the same types: a scalar of
    :data:`_SCALARS`, or a list of them."""
    kind = type(value)
    if kind is list:
        return all(type(element) in _SCALARS for element in value)
    return kind in _SCALARS


# The fields the export sets after validation (the versions) are the last of FIELDS: their
# JSON goes at the end of the validated line, before its closing brace.
_SPLICED_AT_END = FIELDS[len(FIELDS) - len(BY_EXPORT) :] == BY_EXPORT
# serialize_line's encoder, for the spliced fields' names and values.
_ENCODER = ScrapyJSONEncoder(ensure_ascii=False)


class LastLine:
    """The JSON line of the last item serialised, kept for the next pipeline.

    The validation pipeline checks an item's line exactly as it will be exported, and the
    archive pipeline, next, exports that line: one serialisation serves both (it was half
    the validation's cost a page). The item is recognised by identity (it is held, so
    its id is not reused); any other item is serialised afresh. The export sets the
    version fields after the validation: :meth:`with_export_fields` splices them in.
    """

    def __init__(self) -> None:
        self.item: Any = None
        self.line = b""
        self.spliceable = False  # the line has no field of BY_EXPORT, and some other field

    def of(self, item: Any) -> bytes:
        if item is not self.item:
            self.line = serialize_line(item)
            self.item = item
            self.spliceable = (
                _SPLICED_AT_END
                and self.line != b"{}\n"
                and not any(name in item for name in BY_EXPORT)
            )
        return self.line

    def parsed(self, item: Any) -> Any:
        """What ``json.loads`` gives for the line of ``item`` (:meth:`of`): an article's
        exported fields themselves when all are plain (:func:`is_plain`: the same values,
        the same types), without parsing back the line just made (issue 26); else the line
        parsed. A new dict either way (the item is not it)."""
        line = self.of(item)
        fields = exported_fields(item)
        if fields is not None and all(is_plain(value) for value in fields.values()):
            return fields
        return json.loads(line)

    def with_export_fields(self, item: Any) -> bytes:
        """The line of ``item`` once the export has set its version fields, then forgotten.

        The validated line with those fields' JSON put before its closing brace: the
        same bytes as serialising the item again (they are the last fields of the
        export's order), for the cost of three values. An item not the one validated,
        or validated with version fields already, is serialised afresh.
        """
        line = self.line if item is self.item and self.spliceable else b""
        self.forget()
        if not line:
            return serialize_line(item)
        encode = _ENCODER.encode
        added = ", ".join(
            f"{encode(name)}: {encode(item[name])}" for name in BY_EXPORT if name in item
        )
        return line[:-2] + f", {added}}}\n".encode() if added else line

    def forget(self) -> None:
        self.item, self.line, self.spliceable = None, b"", False


class JsonLinesFile:
    """``items.jsonl``, appended one whole line per write."""

    def __init__(self, path: str | os.PathLike[str], fsync: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)

    def append(self, line: bytes) -> int:
        """Append one line; returns the file's size after it.

        On an error (a full disk) the file is cut back to its size before the line,
        so no torn line stays behind; the error, naming the file, is raised. If even
        that fails, the torn line stays for the next run's repair at start. Callers
        hold the export lock: no other job appends meanwhile.
        """
        before = os.fstat(self._fd).st_size
        try:
            write_all(self._fd, line)
            if self.fsync:
                os.fsync(self._fd)
        except OSError as error:
            try:
                os.ftruncate(self._fd, before)
            except OSError:
                logger.warning(
                    "could not cut %s back to %d bytes after a failed write", self.path, before
                )
            raise naming(error, self.path) from error
        return os.fstat(self._fd).st_size

    def size(self) -> int:
        return os.fstat(self._fd).st_size

    def close(self) -> None:
        os.close(self._fd)


def repair_torn_tail(path: Path) -> Path | None:
    """Move a last line without its newline (a killed write) aside; returns where to.

    The torn bytes go to ``<name>.torn-<time>`` next to the file, never silently
    kept nor silently lost. If they cannot be written there (a full disk), the side
    file is removed again, the file is left as it was, and the error is raised.
    """
    if not path.exists() or path.stat().st_size == 0:
        return None
    with path.open("rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return None
        start = size
        chunk = 65536
        while start > 0:
            step = min(chunk, start)
            handle.seek(start - step)
            block = handle.read(step)
            newline = block.rfind(b"\n")
            if newline >= 0:
                start = start - step + newline + 1
                break
            start -= step
        handle.seek(start)
        torn = handle.read()
        aside = path.with_name(f"{path.name}.torn-{datetime.now():%Y%m%dT%H%M%S%f}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        try:
            try:
                write_all(fd, torn)
            finally:
                os.close(fd)
        except OSError as error:
            aside.unlink(missing_ok=True)  # no empty or partial side file
            raise naming(error, aside) from error
        handle.truncate(start)
    return aside


class IntentLog:
    """The seed-style files about to be written, one line each, before they are.

    ``<state>/intents.log``: ``[url, path]`` as a JSON line, appended in one
    write before the file is written (fsync'ed first when ``RFI_FSYNC`` is on).
    If the run dies before the article's JSON line is in ``items.jsonl``, the
    next run finds the intent of an article the store does not know and
    deletes the file: a later export of the article may go to another path (a
    mirror's date, a corrected date), and one article must have one file.
    Appends cost no transaction, so exports can be batched; the log is
    emptied whenever no export is under way (at start, at close).
    """

    def __init__(self, path: str | os.PathLike[str], fsync: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync
        self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, FILE_MODE)

    def record(self, url: str, path: str) -> None:
        """Say that ``path`` (relative to ``articles/``) is about to hold ``url``'s file."""
        line = json.dumps([url, path], ensure_ascii=False).encode("utf-8") + b"\n"
        try:
            write_all(self._fd, line)
            if self.fsync:
                os.fsync(self._fd)
        except OSError as error:  # a torn last intent is skipped by entries()
            raise naming(error, self.path) from error

    def entries(self) -> list[tuple[str, str]]:
        """The intents recorded (a torn last line, whose file was never written, skipped)."""
        found = []
        with self.path.open("rb") as handle:
            for raw in handle:
                try:
                    url, path = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(url, str) and isinstance(path, str):
                    found.append((url, path))
        return found

    def clear(self) -> None:
        os.ftruncate(self._fd, 0)

    def close(self) -> None:
        os.close(self._fd)


def iter_lines_from(path: Path, offset: int) -> Iterator[dict[str, Any]]:
    """Parsed JSON objects of the lines after byte ``offset`` (bad lines skipped)."""
    with path.open("rb") as handle:
        handle.seek(offset)
        for raw in handle:
            try:
                value = json.loads(raw)
            except ValueError:
                continue
            if isinstance(value, dict):
                yield value


class SeedFiles:
    """Seed-style files under ``articles/``, one per article, named from its URL."""

    def __init__(self, root: str | os.PathLike[str], fsync: bool = False) -> None:
        self.root = Path(root)
        self.tmp_dir = self.root / ".tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync

    def remove_leftovers(self) -> int:
        """Delete temporary files a killed run left behind; returns how many."""
        count = 0
        for leftover in self.tmp_dir.iterdir():
            leftover.unlink(missing_ok=True)
            count += 1
        return count

    def path_for(self, url: str, published_at: str) -> Path:
        """The file of an article: :func:`seed_file_name` under ``articles/``."""
        return self.root / seed_file_name(url, published_at)

    def write(
        self, url: str, published_at: str, record: seedfile.SeedRecord, version: int = 1
    ) -> Path:
        """Write one file atomically (temporary file, then rename); returns its path.
        ``version``: 1 at :func:`seed_file_name`, a later one beside it (``.v2.txt``)."""
        return self.write_at(versioned_name(seed_file_name(url, published_at), version), record)

    def write_at(self, name: str, record: seedfile.SeedRecord) -> Path:
        """Write the file ``name`` (relative to ``articles/``, made by this project from
        the URL's hash, never from page text) atomically; returns its path."""
        target = self.root / name
        data = seedfile.render(record).encode("utf-8")
        fd, tmp = create_new(self.tmp_dir, ".txt")
        try:
            try:
                write_all(fd, data)
                if self.fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.replace(tmp, target)
            except FileNotFoundError:
                # The day's folder is new: made when a rename into it fails, not asked
                # for before every file (a mkdir, an error and a stat each; issue 26).
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
        except OSError as error:
            Path(tmp).unlink(missing_ok=True)
            raise naming(error, target) from error
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return target
