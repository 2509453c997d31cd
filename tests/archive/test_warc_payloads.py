"""The WARC payload index (``archive/warc_payloads.py``): what a revisit record is decided on."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from pathlib import Path

from rfi_spider.archive.warc_payloads import FILE, PayloadIndex

# SQLite's PRAGMA synchronous values.
NORMAL, FULL = 1, 2


def test_a_payload_is_found_by_uri_and_digest_with_its_first_date(tmp_path: Path) -> None:
    index = PayloadIndex(tmp_path)
    # A WARC-Payload-Digest as warcio writes it (the WARC writer takes it from warcio's
    # record builder): sha1:<base32>.
    digest = "sha1:" + base64.b32encode(hashlib.sha1(b"<html>article</html>").digest()).decode()
    other = "sha1:" + base64.b32encode(hashlib.sha1(b"other").digest()).decode()
    index.add("https://www.rfi.fr/cn/a", digest, "2026-12-07T10:00:00.000000Z")
    index.add("https://www.rfi.fr/cn/a", digest, "2026-12-07T11:00:00.000000Z")
    assert index.find("https://www.rfi.fr/cn/a", digest) == "2026-12-07T10:00:00.000000Z"
    assert index.find("https://www.rfi.fr/cn/b", digest) is None
    assert index.find("https://www.rfi.fr/cn/a", other) is None
    index.close()


def test_each_row_is_committed_without_waiting_for_an_fsync(tmp_path: Path) -> None:
    # The writer thread adds a row per record: at synchronous=FULL each commit waited for an
    # fsync (about 3.5 ms a record, issue 26). NORMAL in WAL mode, as the state's: a killed
    # crawl still loses no committed row, which another connection sees at once.
    index = PayloadIndex(tmp_path)
    assert index.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert index.db.execute("PRAGMA synchronous").fetchone()[0] == NORMAL
    index.add("https://www.rfi.fr/cn/a", "sha1:AAAA", "2026-12-07T10:00:00Z")
    other = sqlite3.connect(tmp_path / FILE)
    assert other.execute("SELECT count(*) FROM payloads").fetchone()[0] == 1
    other.close()
    index.close()
