"""The WARC writer's cost per record at each gzip level: ``python -m benchmarks.warc_gzip``.

Writes the same generated article pages (``benchmarks.pages``) as ``response`` records
through the crawl's own :class:`~rfi_spider.archive.warc_files.WarcFiles` at
``RFI_WARC_GZIP_LEVEL`` 1, 6 and 9, and through warcio's own gzip writer (level 9,
16 KB pieces: what the crawl did before issue 26), in one thread, and reports the
CPU time of a record and the file's size. Levels interleaved, best of the rounds.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from benchmarks.pages import BenchSite
from rfi_spider.archive.warc_files import WARC_VERSION, WarcFiles

LEVELS = (1, 6, 9)
WARCIO = "warcio"  # warcio's GzippingWrapper: level 9, 16 KB pieces


@dataclass
class GzipResult:
    """One way of writing: CPU ms a record (best round) and the bytes written."""

    name: str
    ms_per_record: float
    size: int
    raw: int  # the pages' bytes

    @property
    def ratio(self) -> float:
        return self.size / self.raw


def _record(files: WarcFiles, url: str, body: bytes) -> object:
    return files.builder.create_warc_record(
        url,
        "response",
        payload=BytesIO(body),
        length=len(body),
        http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], "HTTP/1.1"),
    )


def _write(name: str, pages: list[tuple[str, bytes]], folder: Path) -> tuple[float, int]:
    """Write every page; returns (thread CPU seconds, bytes on disk)."""
    shutil.rmtree(folder, ignore_errors=True)
    files = WarcFiles(folder, "bench", 1 << 40, {"software": "bench"}, level=6)
    start = time.thread_time()
    if name == WARCIO:
        folder.mkdir(parents=True)
        with (folder / "warcio.warc.gz").open("wb") as out:
            writer = WARCWriter(out, gzip=True, warc_version=WARC_VERSION)
            for url, body in pages:
                writer.write_record(_record(files, url, body))
    else:
        files.level = int(name)
        for url, body in pages:
            files.write(_record(files, url, body))
        files.close()
    seconds = time.thread_time() - start
    return seconds, sum(path.stat().st_size for path in folder.iterdir())


def bench_warc_gzip(count: int, rounds: int = 3) -> list[GzipResult]:
    """Each level and warcio's writer over ``count`` pages, best of ``rounds``."""
    site = BenchSite(count)
    pages = [(site.article(i).url, site.page(i).body) for i in range(count)]
    raw = sum(len(body) for _, body in pages)
    names = [str(level) for level in LEVELS] + [WARCIO]
    best: dict[str, tuple[float, int]] = {}
    workdir = Path(tempfile.mkdtemp(prefix="rfi-warc-gzip-"))
    try:
        for _ in range(rounds):
            for name in names:
                seconds, size = _write(name, pages, workdir / name)
                if name not in best or seconds < best[name][0]:
                    best[name] = (seconds, size)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return [GzipResult(name, best[name][0] / count * 1000, best[name][1], raw) for name in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for result in bench_warc_gzip(args.pages, args.rounds):
        label = "warcio (9, 16 KB pieces)" if result.name == WARCIO else f"level {result.name}"
        print(
            f"{label:26} {result.ms_per_record:6.2f} ms/record  "
            f"{result.size / 1e6:7.1f} MB ({result.ratio:.1%} of the pages)"
        )


if __name__ == "__main__":
    main()
