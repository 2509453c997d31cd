"""No output overwrites the archive's own files, nor a device, FIFO or symbolic link; the
crawl's folders are usable (rfi_spider/archive/outputs.py)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from rfi_spider.archive.outputs import (
    Archive,
    OutputError,
    check_folders,
    check_output,
    check_state_file,
)


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    output = tmp_path / "output"
    for folder in (".state", "warc", "articles/2024"):
        (output / folder).mkdir(parents=True)
    (output / "items.jsonl").write_text('{"url": "x"}\n')
    sqlite3.connect(output / ".state" / "seen.sqlite3").execute(
        "CREATE TABLE t (x)"
    ).connection.close()
    (output / "warc" / "rfi-1.warc.gz").write_bytes(b"warc")
    return Archive.at(output)


@pytest.mark.parametrize(
    "relative",
    [
        "items.jsonl",
        "items.jsonl.tmp",  # items.jsonl's own siblings
        ".state/seen.sqlite3",
        ".state/new-file",
        ".state",
        "warc/rfi-1.warc.gz",
        "warc/x.warc.gz",
        "articles/2024/a.md",
        "warc/../items.jsonl",
        "elsewhere/../items.jsonl",
        "archive.db",  # the archive as a database (scrapy browse), its journal, a rebuild
        "archive.db-journal",
        ".archive.db.123.tmp",
    ],
)
def test_an_output_in_the_archives_own_files_is_refused(archive: Archive, relative: str) -> None:
    with pytest.raises(OutputError, match=r"would overwrite the archive's own|is a folder"):
        check_output(archive.output / relative, [archive])


def test_outputs_beside_the_archive_pass(archive: Archive, tmp_path: Path) -> None:
    assert check_output(archive.output / "feed.atom", [archive])
    assert check_output(archive.output / "new" / "items.jsonl", [archive])
    (tmp_path / "old.jsonl").write_text("")
    assert check_output(tmp_path / "old.jsonl", [archive])  # an existing regular file


def test_a_state_and_warc_folder_set_elsewhere_are_the_archives(tmp_path: Path) -> None:
    archive = Archive.at(tmp_path / "out", tmp_path / "state", tmp_path / "w")
    for target in ("state/seen.sqlite3", "w/a.warc.gz"):
        with pytest.raises(OutputError, match="would overwrite the archive's own"):
            check_output(tmp_path / target, [archive])


def test_a_path_through_a_symlinked_folder_is_resolved(archive: Archive, tmp_path: Path) -> None:
    (tmp_path / "alias").symlink_to(archive.output)
    with pytest.raises(OutputError, match="would overwrite the archive's own"):
        check_output(tmp_path / "alias" / "items.jsonl", [archive])


def test_a_symbolic_link_is_refused_and_its_target_untouched(
    archive: Archive, tmp_path: Path
) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep")
    (tmp_path / "link").symlink_to(target)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    for link in ("link", "dangling"):
        with pytest.raises(OutputError, match="is a symbolic link"):
            check_output(tmp_path / link, [archive])
    assert target.read_text() == "keep"
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("node", ["/dev/null", "fifo", "folder"])
def test_a_target_that_is_no_regular_file_is_refused(
    archive: Archive, tmp_path: Path, node: str
) -> None:
    if node == "fifo":
        os.mkfifo(tmp_path / "fifo")
    if node == "folder":
        (tmp_path / "folder").mkdir()
    path = Path(node) if node.startswith("/") else tmp_path / node
    with pytest.raises(OutputError, match=r"not a regular file|is a folder"):
        check_output(path, [archive])
    assert Path("/dev/null").is_char_device()


def test_a_hard_link_to_an_archive_file_is_refused(archive: Archive, tmp_path: Path) -> None:
    os.link(archive.output / "items.jsonl", tmp_path / "copy.jsonl")
    with pytest.raises(OutputError, match="another name of the archive's"):
        check_output(tmp_path / "copy.jsonl", [archive])


def test_the_file_read_is_no_output(tmp_path: Path) -> None:
    read = tmp_path / "export.jsonl"
    read.write_text("")
    with pytest.raises(OutputError, match="is the file read"):
        check_output(tmp_path / "." / "export.jsonl", [], inputs=[read])


def test_usable_folders_pass_and_are_not_made(tmp_path: Path) -> None:
    check_folders(tmp_path / "new" / "output", tmp_path / "new" / "output" / ".state")
    assert not (tmp_path / "new").exists()


def test_a_folder_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match=r"^RFI_OUTPUT_DIR .* is a file, not a folder"):
        check_folders(tmp_path / "file", tmp_path / "state")
    with pytest.raises(OutputError, match=r"^RFI_STATE_DIR .* is a file, not a folder"):
        check_folders(tmp_path / "out", tmp_path / "file" / ".state")


def test_a_read_only_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tested through os.access: the tests may run as root, who may write anywhere."""
    (tmp_path / "ro").mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, m: Path(p).name != "ro" and real(p, m))
    with pytest.raises(OutputError, match=r"^RFI_OUTPUT_DIR .*ro.* is read-only"):
        check_folders(tmp_path / "ro" / "output", tmp_path / "state")


def test_a_corrupt_state_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "seen.sqlite3"
    check_state_file(state)  # none yet
    state.write_bytes(b"")
    check_state_file(state)  # empty: SQLite makes it a database
    state.write_bytes(os.urandom(8192))
    with pytest.raises(OutputError, match="is not a SQLite database"):
        check_state_file(state)
    header = b"SQLite format 3\x00"
    state.write_bytes(header + b"\xff" * 8176)  # the header, then garbage
    with pytest.raises(OutputError, match="cannot be read"):
        check_state_file(state)
