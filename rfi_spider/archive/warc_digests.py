"""WARC digests in one hash call each: warcio's record builder and writer, with its
``ensure_digest`` hashing a record's payload whole instead of in 16 KB pieces.

warcio's ``RecordBuilder.ensure_digest`` reads a record's payload 16 KB at a time and
feeds each piece to its digests: a 212 KB page made 13 pieces, each hashed twice (the
payload digest when the record is built, the block digest when it is written), and
``hashlib`` lets go of the interpreter lock for every piece over 2 KB and must take it
back after. On two cores, with the crawl's main thread running Python, taking it back
can wait up to the switch interval (5 ms): the writer thread spent most of its time
waiting for the lock, not working (issue 26). Here each digest is one call over the
whole payload (one wait at most). The digests, their values and the headers' order
are warcio's; a record whose payload is not in memory (a stream of unknown length)
goes to warcio's own method.

For the same reason, record IDs (``WARC-Record-ID``, random UUIDs as warcio's) are drawn from
one ``os.urandom`` call per :data:`IDS_PER_DRAW` records instead of one each: it too lets
go of the lock.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections import deque
from io import BytesIO
from typing import Any

from warcio.recordbuilder import RecordBuilder
from warcio.warcwriter import WARCWriter

PAYLOAD_DIGEST = "WARC-Payload-Digest"
BLOCK_DIGEST = "WARC-Block-Digest"
# Record IDs made from one draw of random bytes.
IDS_PER_DRAW = 64
_IDS: deque[str] = deque()
# A forked process must not hand out the IDs its parent drew too.
os.register_at_fork(after_in_child=_IDS.clear)


def warc_id() -> str:
    """A ``WARC-Record-ID``: ``<urn:uuid:…>`` of a random (version 4) UUID, as warcio's.

    ``deque.popleft`` and ``extend`` are atomic: two threads drawing at once each get
    their own IDs."""
    try:
        return _IDS.popleft()
    except IndexError:
        pass
    random = os.urandom(16 * IDS_PER_DRAW)
    ids = [
        f"<urn:uuid:{uuid.UUID(bytes=random[at : at + 16], version=4)}>"
        for at in range(0, len(random), 16)
    ]
    _IDS.extend(ids[1:])
    return ids[0]


def sha1_value(hasher: Any) -> str:
    """``sha1:<base32>``, as warcio's ``Digester`` writes a digest."""
    return "sha1:" + base64.b32encode(hasher.digest()).decode("ascii")


class WholeDigests:
    """``ensure_digest`` in one hash call per digest, for payloads held in a ``BytesIO``."""

    header_filter: Any
    NO_PAYLOAD_DIGEST_TYPES: Any

    @classmethod
    def _make_warc_id(cls) -> str:
        return warc_id()

    def ensure_digest(self, record: Any, block: bool = True, payload: bool = True) -> None:
        stream = record.raw_stream
        if record.length is None or type(stream) is not BytesIO:
            super().ensure_digest(record, block, payload)  # type: ignore[misc]
            return
        headers = record.rec_headers
        block = block and not headers.get_header(BLOCK_DIGEST)
        payload = payload and not (
            headers.get_header(PAYLOAD_DIGEST) or record.rec_type in self.NO_PAYLOAD_DIGEST_TYPES
        )
        if not block and not payload:
            return
        # The payload from the stream's position on, as warcio reads it (not moved).
        data = stream.getvalue()[stream.tell() :]
        if payload:
            headers.add_header(PAYLOAD_DIGEST, sha1_value(hashlib.sha1(data)))
        if block:
            digester = hashlib.sha1()
            if record.http_headers:
                if not record.http_headers.headers_buff:
                    record.http_headers.compute_headers_buffer(self.header_filter)
                digester.update(record.http_headers.headers_buff)
            digester.update(data)
            headers.add_header(BLOCK_DIGEST, sha1_value(digester))


class Builder(WholeDigests, RecordBuilder):
    """warcio's ``RecordBuilder``, digests in one call (see the module doc)."""


class Writer(WholeDigests, WARCWriter):
    """warcio's ``WARCWriter``, digests in one call (see the module doc)."""
