"""The dedupe store (``rfi_spider.archive.state.SeenStore``): inserts and lookups at size.

Opened as the crawl opens it (``RFI_STATE_CACHE_KIB``, ``RFI_STATE_MMAP_MIB``).
Inserts the way ``ArchivePipeline`` records exports: ``add_many`` in batches of
``RFI_STATE_BATCH``, the JSON Lines size in the same transaction; for comparison,
``add`` (one transaction per URL, as the pipeline did before batching) over the
first ``one_by_one`` rows only. Lookups (``url in store``, as the spider asks before
requesting an article: ``store.probably_known(url)``, digests in memory) are timed at a small
size and at full size, half hits and half misses, in random order, with the time the
digests take to load; and the exact lookup (``url in store``, SQL, what the pipeline
asks before an export) the same way.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

from rfi_spider import settings
from rfi_spider.archive.state import SeenStore

_SECTIONS = ["国际", "中国", "法国", "欧洲", "亚洲", "港澳台", "专栏检索/法国报纸摘要"]
_SLUG = "瑞典正式加入北约-成为第32个成员国"
OFFSET_KEY = "jsonl_size:/srv/rfi/output/items.jsonl"


def url(n: int) -> str:
    """A canonical article URL of realistic length (~180 characters), unique per ``n``."""
    section = _SECTIONS[n % len(_SECTIONS)]
    day = date(2024, 3, 7) - timedelta(days=(n // 20) % 7000)
    return "https://www.rfi.fr/cn/" + quote(f"{section}/{day:%Y%m%d}-{_SLUG}-{n}")


def chunks(start: int, stop: int, size: int) -> Iterator[list[str]]:
    """The URLs ``start`` to ``stop`` in lists of ``size`` (made outside the timings)."""
    for first in range(start, stop, size):
        yield [url(n) for n in range(first, min(stop, first + size))]


@dataclass
class StoreResult:
    rows: int
    small: int
    batch: int
    batched_seconds: float  # all rows, batches of ``batch`` (the crawl's way)
    one_by_one: int
    add_seconds: float  # the first ``one_by_one`` rows, one transaction each
    lookup_us_small: float  # known(): the spider's check
    lookup_us_full: float
    load_seconds: float  # known()'s digests read at full size
    exact_us_small: float  # url in store: SQL
    exact_us_full: float
    lookups: int
    file_mb: float

    @property
    def lookup_ratio(self) -> float:
        return self.lookup_us_full / self.lookup_us_small

    @property
    def exact_ratio(self) -> float:
        return self.exact_us_full / self.exact_us_small


def time_lookups(check: Callable[[str], bool], size: int, count: int, rng: random.Random) -> float:
    """Microseconds per ``check(url)``: half present, half absent, in random order."""
    probes = [url(rng.randrange(size)) for _ in range(count // 2)]
    probes += [url(size + 10_000_000 + n) for n in range(count - len(probes))]
    rng.shuffle(probes)
    start = time.perf_counter()
    found = sum(1 for probe in probes if check(probe))
    seconds = time.perf_counter() - start
    if found != count // 2:
        raise AssertionError(f"{found} of {count // 2} stored URLs found")
    return seconds / count * 1e6


def open_store(path: Path) -> SeenStore:
    """A store with the crawl's settings."""
    return SeenStore(
        path,
        cache_kib=settings.RFI_STATE_CACHE_KIB or None,
        mmap_mib=settings.RFI_STATE_MMAP_MIB,
    )


def bench_store(
    rows: int,
    workdir: Path,
    small: int = 10_000,
    lookups: int = 100_000,
    one_by_one: int = 100_000,
) -> StoreResult:
    small = min(small, rows)
    one_by_one = min(one_by_one, rows)
    batch = settings.RFI_STATE_BATCH
    rng = random.Random(8)
    store = open_store(workdir / "batched.sqlite3")
    batched_seconds = 0.0
    lookup_small = exact_small = 0.0
    size = 0
    for start, stop in ((0, small), (small, rows)):
        for chunk in chunks(start, stop, batch):
            pairs = [(one, "rfi.fr") for one in chunk]
            size += 9000 * len(chunk)
            began = time.perf_counter()
            store.add_many(pairs, at_least={OFFSET_KEY: size})
            batched_seconds += time.perf_counter() - began
        if stop == small:
            exact_small = time_lookups(store.__contains__, small, lookups, rng)
            small_reader = open_store(store.path)
            lookup_small = time_lookups(small_reader.known, small, lookups, rng)
            small_reader.close()
    exact_full = time_lookups(store.__contains__, rows, lookups, rng)
    reader = open_store(store.path)  # a new connection: its digests are read at first use
    began = time.perf_counter()
    reader.probably_known(url(0))
    load_seconds = time.perf_counter() - began
    lookup_full = time_lookups(reader.known, rows, lookups, rng)
    reader.close()
    if len(store) != rows:
        raise AssertionError(f"{len(store)} rows stored, {rows} added")
    store.close()
    file_mb = sum(p.stat().st_size for p in workdir.glob("batched.sqlite3*")) / 1e6

    single = open_store(workdir / "one_by_one.sqlite3")
    add_seconds = 0.0
    for chunk in chunks(0, one_by_one, 10_000):
        began = time.perf_counter()
        for n, one in enumerate(chunk, 1):
            single.add(one, "rfi.fr", meta={OFFSET_KEY: str(n * 9000)})
        add_seconds += time.perf_counter() - began
    single.close()
    return StoreResult(
        rows=rows,
        small=small,
        batch=batch,
        batched_seconds=batched_seconds,
        one_by_one=one_by_one,
        add_seconds=add_seconds,
        lookup_us_small=lookup_small,
        lookup_us_full=lookup_full,
        load_seconds=load_seconds,
        exact_us_small=exact_small,
        exact_us_full=exact_full,
        lookups=lookups,
        file_mb=file_mb,
    )
