"""The payloads already in the WARC files: an identical one is written as a ``revisit``.

A revisit of an article (``crawl/revisits.py``) often gets the very bytes it got before.
The WARC standard's *identical payload digest* profile writes such a response as a
``revisit`` record: its HTTP headers, the payload's digest and the URI and date of the
record that holds the payload, no second copy of it (``rfi/warc/revisits``).

The index is a SQLite table in the state folder (``warc_payloads.sqlite3``), one row per
``(URI, payload digest)`` with the ``WARC-Date`` of the record that holds it, recorded once
that record is written: a row never names a record a crash kept from the file. Used by the
WARC writer thread only.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

FILE = "warc_payloads.sqlite3"


class PayloadIndex:
    """``(uri, payload digest) -> WARC-Date`` of the record holding that payload."""

    def __init__(self, state_dir: str | os.PathLike[str]) -> None:
        path = Path(state_dir) / FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        # The writer thread uses it; the main thread closes it once that thread is done.
        self.db = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        # A row is written after its record, one commit per record: at the default FULL,
        # each commit waited for an fsync (about 3.5 ms), and the writer thread with it
        # (issue 26). NORMAL, as the state's: a killed crawl loses nothing committed; a
        # power cut may lose the last rows, which costs only a later copy of a payload
        # (the WARC file's own last records are not fsynced either, unless RFI_FSYNC).
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS payloads (uri TEXT NOT NULL, digest TEXT NOT NULL,"
            " date TEXT NOT NULL, PRIMARY KEY (uri, digest)) WITHOUT ROWID"
        )

    def find(self, uri: str, digest: str) -> str | None:
        """The ``WARC-Date`` of the record of ``uri`` holding this payload, or None."""
        row = self.db.execute(
            "SELECT date FROM payloads WHERE uri = ? AND digest = ?", (uri, digest)
        ).fetchone()
        return row[0] if row else None

    def add(self, uri: str, digest: str, date: str) -> None:
        """A record holding this payload was written (the first one's date is kept)."""
        self.db.execute(
            "INSERT OR IGNORE INTO payloads (uri, digest, date) VALUES (?, ?, ?)",
            (uri, digest, date),
        )

    def close(self) -> None:
        self.db.close()
