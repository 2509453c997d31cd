"""``python -m benchmarks``: measure the project against its limits and print one table.

    python -m benchmarks                 # full sizes: 1,000 + 20,000 pages, 1M store rows
    python -m benchmarks --quick         # small sizes, a smoke run (about a minute)
    python -m benchmarks --pages 1000 --big-pages 20000 --store 1000000 --redis 1000000

See BENCHMARKS.md for what each row measures and the recorded results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lxml.etree
import scrapy

from benchmarks.crawl import (
    CrawlRun,
    crawl_null,
    crawl_project,
    exported_urls,
    reextract,
    serve,
    server_alone,
)
from benchmarks.extraction import bench_extraction
from benchmarks.pages import BenchSite
from benchmarks.redis_memory import RedisMemory, bench_redis
from benchmarks.sitemaps import bench_sitemaps
from benchmarks.store import bench_store
from benchmarks.warc_gzip import WARCIO, GzipResult, bench_warc_gzip
from rfi_spider import settings as project_settings
from rfi_spider.extract.workers import default_workers

QUICK = {
    "pages": 100,
    "big_pages": 300,
    "store": 20_000,
    "redis": 20_000,
    "extract_pages": 20,
    "rounds": 1,
    "crawl_rounds": 1,
    "sitemap_urls": 2_000,
    "big_sitemap_urls": 20_000,
}
FULL = {
    "pages": 1000,
    "big_pages": 20_000,
    "store": 1_000_000,
    "redis": 1_000_000,
    "extract_pages": 100,
    "rounds": 3,
    "crawl_rounds": 3,
    "sitemap_urls": 20_000,
    "big_sitemap_urls": 200_000,
}
RSS_LIMIT_MB = 300
# The crawl's process alone, the single-process mode (the "before" of the workers).
ONE_PROCESS = {"RFI_EXTRACT_WORKERS": "0"}
# A crawl without WARC capture (in one process, the crawl's default).
NO_WARC = {**ONE_PROCESS, "RFI_WARC": "False"}
# The same two without the archive.db child (issue 29's search database, kept current by a
# child process that segments every article with jieba: CPU the 2 cores share with the
# crawl, which issue 26's budget of about 12 ms a page did not count).
NO_DB = {**ONE_PROCESS, "RFI_ARCHIVE_DB": "False"}
NO_WARC_NO_DB = {**NO_WARC, "RFI_ARCHIVE_DB": "False"}
# The workers, named (a crawl's default is one process): one per CPU, as from_warc's default.
WORKERS = {"RFI_EXTRACT_WORKERS": str(default_workers())}


def machine() -> dict[str, str]:
    """What the figures came from."""
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = next(
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        )
        ram = f"{int(memory) / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        ram = "?"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "python": platform.python_version(),
        "scrapy": scrapy.__version__,
        "lxml": ".".join(map(str, lxml.etree.LXML_VERSION[:3])),
        "libxml2": ".".join(map(str, lxml.etree.LIBXML_VERSION)),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Benchmark rfi-spider against its limits."
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--pages", type=int, help="pages of the crawl vs null spider (1000)")
    parser.add_argument(
        "--big-pages", type=int, help="pages of the large crawl, for RSS (20000; 0 skips it)"
    )
    parser.add_argument("--store", type=int, help="rows of the dedupe store (1000000; 0 skips it)")
    parser.add_argument(
        "--redis", type=int, help="URLs known to Redis, distributed crawl (1000000; 0 skips it)"
    )
    parser.add_argument("--extract-pages", type=int, help="pages timed for extraction (100)")
    parser.add_argument("--rounds", type=int, help="extraction rounds, best kept (3)")
    parser.add_argument(
        "--crawl-rounds", type=int, help="null + project crawl pairs, fastest of each kept (2)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        help="CONCURRENT_REQUESTS and _PER_DOMAIN of both spiders (default: the project's)",
    )
    parser.add_argument(
        "--sitemap-urls", type=int, help="URLs of the small sitemap walk (20000; 0 skips both)"
    )
    parser.add_argument("--big-sitemap-urls", type=int, help="URLs of the big one (200000)")
    parser.add_argument("--workdir", type=Path, help="keep crawl outputs and logs here")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def fmt_ratio(value: float) -> str:
    return f"{value:.2f}×"


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def cpu_split(run: CrawlRun, pages: int) -> str:
    """CPU ms a page from the spider's opening: the crawl's main thread, its process, then
    with its workers' (when it has any)."""
    pages = max(pages, 1)
    main, process = run.main_thread_cpu_seconds, run.crawl_cpu_seconds
    figures = [main, process]
    if run.children_cpu_seconds:
        figures.append(process + run.children_cpu_seconds)
    return " / ".join(f"{seconds / pages * 1000:.1f}" for seconds in figures)


def without_db_rows(
    runs: tuple[CrawlRun, CrawlRun] | None, null_rate: float, pages: int
) -> list[list[str]]:
    """The WARC on and off crawls again without the archive.db child: what the crawl itself
    costs, apart from keeping the search database current (a child's CPU on the same 2
    cores), with the main thread's and the process's CPU a page."""
    if runs is None:
        return []
    rows = []
    for run, label in zip(runs, ("WARC on", "WARC off"), strict=True):
        rate = pages / run.elapsed
        rows.append(
            [
                f"  {label}, without archive.db (RFI_ARCHIVE_DB=False), one process",
                f"{rate:.1f}",
                f"null spider {null_rate:.1f}",
                fmt_ratio(rate / null_rate),
                "",
                "",
            ]
        )
        rows.append(
            ["    CPU a page (ms, main thread / process)", cpu_split(run, pages)] + [""] * 4
        )
    return rows


def crawl_rows(
    small: CrawlRun,
    single: CrawlRun,
    dry: CrawlRun,
    null: CrawlRun,
    big: CrawlRun | None,
    exported: tuple[int, int],
    pages: int,
    rounds: int,
    without_db: tuple[CrawlRun, CrawlRun] | None = None,
) -> list[list[str]]:
    """``small``: workers, WARC on; ``single``: the default (one process, WARC on);
    ``dry``: one process, WARC off; ``null``: the download-only null spider;
    ``without_db``: ``single`` and ``dry`` without the archive.db child."""
    project_rate = pages / small.elapsed
    single_rate = pages / single.elapsed
    dry_rate = pages / dry.elapsed
    null_pages = null.count("null/articles")
    null_rate = null_pages / null.elapsed
    ratio = single_rate / null_rate
    dry_ratio = dry_rate / null_rate
    warc_mb = single.warc_bytes() / 1e6
    rows = [
        [
            f"crawl, {pages:,} pages (pages/s, best of {rounds}), WARC on, one process",
            f"{single_rate:.1f}",
            f"null spider {null_rate:.1f}",
            fmt_ratio(ratio),
            "≥ 0.5×",
            verdict(ratio >= 0.5),
        ],
        [
            "  the same with extraction workers",
            f"{project_rate:.1f}",
            f"null spider {null_rate:.1f}",
            fmt_ratio(project_rate / null_rate),
            "",
            "",
        ],
        [
            "  WARC off (RFI_WARC=False), one process",
            f"{dry_rate:.1f}",
            f"null spider {null_rate:.1f}",
            fmt_ratio(dry_ratio),
            "≥ 0.6×",
            verdict(dry_ratio >= 0.6),
        ],
        *without_db_rows(without_db, null_rate, pages),
        [
            "  CPU a page (ms, main thread / process), WARC on",
            cpu_split(single, pages),
            f"null spider {cpu_split(null, null_pages)}",
            fmt_ratio(single.crawl_cpu_seconds / pages / (null.crawl_cpu_seconds / null_pages)),
            "",
            "",
        ],
        [
            "  CPU a page (ms, main thread / process / + workers)",
            cpu_split(small, pages),
            f"null spider {cpu_split(null, null_pages)}",
            fmt_ratio(
                (small.crawl_cpu_seconds + small.children_cpu_seconds)
                / pages
                / (null.crawl_cpu_seconds / null_pages)
            ),
            "",
            "",
        ],
        [
            "  CPU a page (ms, main thread / process), WARC off",
            cpu_split(dry, pages),
            f"null spider {cpu_split(null, null_pages)}",
            fmt_ratio(dry.crawl_cpu_seconds / pages / (null.crawl_cpu_seconds / null_pages)),
            "",
            "",
        ],
        [
            f"  WARC files, {pages:,} pages (MB; KB a page)",
            f"{warc_mb:.1f}; {warc_mb * 1000 / max(pages, 1):.1f}",
            "",
            "",
            "",
            "",
        ],
        [
            "  items exported (distinct) / pages",
            f"{exported[1]:,} / {pages:,}",
            "",
            "",
            "all",
            verdict(exported[0] == exported[1] == pages),
        ],
        [
            f"peak RSS, {pages:,} pages (MB)",
            f"{small.peak_rss_mb:.0f}",
            f"null spider {null.peak_rss_mb:.0f}",
            fmt_ratio(small.peak_rss_mb / null.peak_rss_mb),
            f"< {RSS_LIMIT_MB}",
            verdict(small.peak_rss_mb < RSS_LIMIT_MB),
        ],
        [
            "  extraction workers, peak PSS together (MB)",
            f"{small.children_peak_mb:.0f}",
            f"one process {single.peak_rss_mb:.0f}",
            "",
            "",
            "",
        ],
    ]
    if big is not None:
        big_pages = big.count("rfi/exported")
        growth = big.peak_rss_mb / small.peak_rss_mb
        rows += [
            [
                f"peak RSS, {big_pages:,} pages (MB)",
                f"{big.peak_rss_mb:.0f}",
                f"{pages:,} pages {small.peak_rss_mb:.0f}",
                fmt_ratio(growth),
                f"< {RSS_LIMIT_MB}, flat",
                verdict(big.peak_rss_mb < RSS_LIMIT_MB and growth < 1.2),
            ],
            [
                "  extraction workers, peak PSS together (MB)",
                f"{big.children_peak_mb:.0f}",
                f"{pages:,} pages {small.children_peak_mb:.0f}",
                fmt_ratio(big.children_peak_mb / max(small.children_peak_mb, 1.0)),
                "flat",
                verdict(big.children_peak_mb < 1.2 * small.children_peak_mb),
            ],
            [
                "  VmRSS at 25/50/75/100% of run (MB)",
                " / ".join(f"{big.rss_at(f):.0f}" for f in (0.25, 0.5, 0.75, 1.0)),
                "",
                "",
                "",
                "",
            ],
            [
                f"crawl, {big_pages:,} pages (pages/s)",
                f"{big_pages / big.elapsed:.1f}",
                f"{pages:,} pages {project_rate:.1f}",
                fmt_ratio(big_pages / big.elapsed / project_rate),
                "",
                "",
            ],
            [
                "  CPU per page (ms, crawl's process + workers)",
                f"{big.total_cpu_seconds / big_pages * 1000:.1f}",
                f"{pages:,} pages {small.total_cpu_seconds / pages * 1000:.1f}",
                fmt_ratio(big.total_cpu_seconds / big_pages / (small.total_cpu_seconds / pages)),
                "",
                "",
            ],
        ]
    return rows


def warc_gzip_rows(results: list[GzipResult]) -> list[list[str]]:
    """A WARC record's CPU time and the file's size at each gzip level, and warcio's own."""
    by_name = {result.name: result for result in results}
    nine, default = by_name["9"], by_name[str(project_settings.RFI_WARC_GZIP_LEVEL)]
    rows = []
    for result in results:
        label = (
            "warcio's gzip writer (9, 16 KB pieces)"
            if result.name == WARCIO
            else f"gzip level {result.name}"
        )
        rows.append(
            [
                f"WARC record, {label} (ms a record; MB)",
                f"{result.ms_per_record:.2f}; {result.size / 1e6:.1f}",
                f"level 9 {nine.ms_per_record:.2f}; {nine.size / 1e6:.1f}",
                fmt_ratio(result.ms_per_record / nine.ms_per_record),
                "",
                "",
            ]
        )
    growth = default.size / nine.size
    rows.append(
        [
            f"  WARC size at the default level {default.name} / level 9",
            f"{default.size / 1e6:.1f} MB",
            f"level 9 {nine.size / 1e6:.1f} MB",
            fmt_ratio(growth),
            "≤ 1.1×",
            verdict(growth <= 1.1),
        ]
    )
    return rows


def reextraction_rows(multi: CrawlRun, single: CrawlRun) -> list[list[str]]:
    """``-a from_warc=`` with the workers against the same in one process."""
    pages = multi.count("rfi/exported")
    multi_rate = pages / multi.elapsed
    single_rate = single.count("rfi/exported") / single.elapsed
    speedup = multi_rate / single_rate
    return [
        [
            f"re-extraction from WARC, {pages:,} pages (pages/s), workers",
            f"{multi_rate:.1f}",
            f"one process {single_rate:.1f}",
            fmt_ratio(speedup),
            "≥ 1.6×",
            verdict(speedup >= 1.6),
        ],
        [
            "  CPU per page (ms, crawl's process / + workers)",
            cpu_split(multi, pages),
            f"one process {single.cpu_seconds / max(pages, 1) * 1000:.1f}",
            "",
            "",
            "",
        ],
        [
            "  peak RSS (MB): crawl's process, workers (PSS)",
            f"{multi.peak_rss_mb:.0f}, {multi.children_peak_mb:.0f}",
            f"one process {single.peak_rss_mb:.0f}",
            "",
            "",
            "",
        ],
        [
            "  items exported, workers / one process",
            f"{pages:,} / {single.count('rfi/exported'):,}",
            "",
            "",
            "same",
            verdict(pages == single.count("rfi/exported") > 0),
        ],
    ]


def redis_rows(mem: RedisMemory) -> list[list[str]]:
    """Redis memory per URL of a distributed crawl (``benchmarks/redis_memory.py``)."""
    at_scale = mem.urls >= 1_000_000
    return [
        [
            f"redis: exported URLs, {mem.urls:,} known (bytes/URL)",
            f"{mem.digest_bytes:.1f}",
            f"one set, 8-byte strings {mem.string_bytes:.1f}",
            fmt_ratio(mem.digest_bytes / mem.string_bytes),
            "< 32 at 1M",
            verdict(mem.digest_bytes < 32) if at_scale else "",
        ],
        [
            "  the URLs as text in one set (bytes/URL)",
            f"{mem.text_bytes:.1f}",
            "",
            "",
            "(not kept)",
            "",
        ],
        [
            f"  pending articles, {mem.pending:,} queued (bytes/URL)",
            f"{mem.pending_bytes:.1f}",
            "",
            "",
            "(while a crawl runs)",
            "",
        ],
        [
            f"  marking {mem.urls:,} URLs exported (s)",
            f"{mem.insert_seconds:.1f}",
            f"redis-server {mem.version}",
            "",
            "",
            "",
        ],
    ]


def render(rows: list[list[str]]) -> str:
    header = ["measure", "project", "reference", "ratio", "target", "meets"]
    table = [header, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = []
    for n, row in enumerate(table):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def store_rows(
    count: int, workdir: Path, quick: bool = False
) -> tuple[dict[str, Any] | None, list[list[str]]]:
    """The dedupe store's figures and table rows; ``count`` 0 skips it (as ``--redis 0``)."""
    if not count:
        log("dedupe store: skipped (--store 0)")
        return None, []
    log(f"dedupe store: {count:,} rows")
    store_dir = workdir / "store"
    store_dir.mkdir(exist_ok=True)
    lookups = 100_000 if not quick else 10_000
    st = bench_store(count, store_dir, small=min(10_000, count), lookups=lookups)
    scale = 1_000_000 / st.rows
    add_target = "1M < 30 s"
    if st.rows != 1_000_000:
        add_target += f" (×{scale:g}: {st.batched_seconds * scale:.0f})"
    return asdict(st), [
        [
            f"store: {st.rows:,} inserts, batches of {st.batch} as the crawl (s)",
            f"{st.batched_seconds:.1f}",
            "",
            "",
            add_target,
            verdict(st.batched_seconds * scale < 30),
        ],
        [
            f"store: first {st.one_by_one:,} inserts, 1 txn each (s)",
            f"{st.add_seconds:.1f}",
            f"batched, per row: {st.batched_seconds / st.rows * 1e6:.0f} µs",
            f"{st.add_seconds / st.one_by_one * 1e6:.0f} µs/row",
            "(before batching)",
            "",
        ],
        [
            f"store: spider's lookup (known) at {st.rows:,} rows (µs)",
            f"{st.lookup_us_full:.1f}",
            f"at {st.small:,} rows {st.lookup_us_small:.1f}",
            fmt_ratio(st.lookup_ratio),
            "flat",
            verdict(st.lookup_ratio < 1.5),
        ],
        [
            f"  its digests read at the first lookup, {st.rows:,} rows (s)",
            f"{st.load_seconds:.1f}",
            "",
            "",
            "",
            "",
        ],
        [
            f"  exact lookup (url in store, SQL) at {st.rows:,} rows (µs)",
            f"{st.exact_us_full:.1f}",
            f"at {st.small:,} rows {st.exact_us_small:.1f}",
            fmt_ratio(st.exact_ratio),
            "(the pipeline's)",
            "",
        ],
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    info = machine()
    concurrency = args.concurrency or min(
        project_settings.CONCURRENT_REQUESTS, project_settings.CONCURRENT_REQUESTS_PER_DOMAIN
    )
    extra = (
        {
            "CONCURRENT_REQUESTS": str(args.concurrency),
            "CONCURRENT_REQUESTS_PER_DOMAIN": str(args.concurrency),
        }
        if args.concurrency
        else {}
    )
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="rfi-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": info, "args": {k: str(v) for k, v in vars(args).items()}}
    rows: list[list[str]] = []
    failed = False
    try:
        site = BenchSite(args.pages)
        log(f"extraction: {args.extract_pages} pages, best of {args.rounds} rounds")
        ext = bench_extraction(site, args.extract_pages, args.rounds)
        results["extraction"] = asdict(ext)
        ms = ext.ms_per_page
        exact = not ext.mismatches and not ext.wrong
        failed |= not exact
        rows += [
            [
                f"extraction, project (ms/page, {ext.mean_kb:.0f} KB pages)",
                f"{ms['project']:.2f}",
                f"lxml parse {ms['lxml']:.2f}",
                fmt_ratio(ext.ratio("project")),
                "≤ 1.5×",
                verdict(ext.ratio("project") <= 1.5),
            ],
            [
                "  of which the parse (parse_html)",
                f"{ms['project_parse']:.2f}",
                f"lxml parse {ms['lxml']:.2f}",
                fmt_ratio(ext.ratio("project_parse")),
                "",
                "",
            ],
            [
                "extraction, trafilatura.extract (ms/page)",
                f"{ms['trafilatura']:.2f}",
                f"lxml parse {ms['lxml']:.2f}",
                fmt_ratio(ext.ratio("trafilatura")),
                "(reference)",
                "",
            ],
            [
                "  fields: padded page = unpadded page",
                f"{ext.checked - len(ext.mismatches) - len(ext.wrong)} / {ext.checked} pages",
                "",
                "",
                "all exact",
                verdict(exact),
            ],
        ]

        log(f"WARC gzip levels: {args.extract_pages} pages, best of {args.rounds} rounds")
        gz = bench_warc_gzip(args.extract_pages, args.rounds)
        results["warc_gzip"] = [asdict(result) for result in gz]
        rows += warc_gzip_rows(gz)

        log(f"crawls: {args.pages:,} pages, concurrency {concurrency} (one host)")
        with serve(args.pages) as base_url:
            alone = server_alone(base_url, site, concurrency)
            nulls, smalls, singles, drys, no_dbs, dry_no_dbs = [], [], [], [], [], []
            # The null spider's concurrency, the project's (its own settings are Scrapy's).
            null_extra = {
                "CONCURRENT_REQUESTS": str(
                    args.concurrency or project_settings.CONCURRENT_REQUESTS
                ),
                "CONCURRENT_REQUESTS_PER_DOMAIN": str(concurrency),
            }
            for n in range(args.crawl_rounds):  # alternated: a busy moment hits all alike
                nulls.append(crawl_null(base_url, site, workdir, f"null-{n + 1}", null_extra))
                smalls.append(
                    crawl_project(
                        base_url,
                        site,
                        workdir,
                        f"project-{n + 1}",
                        {**extra, **WORKERS},
                        children=True,
                    )
                )
                singles.append(
                    crawl_project(
                        base_url, site, workdir, f"one-process-{n + 1}", {**extra, **ONE_PROCESS}
                    )
                )
                drys.append(
                    crawl_project(base_url, site, workdir, f"no-warc-{n + 1}", {**extra, **NO_WARC})
                )
                no_dbs.append(
                    crawl_project(base_url, site, workdir, f"no-db-{n + 1}", {**extra, **NO_DB})
                )
                dry_no_dbs.append(
                    crawl_project(
                        base_url,
                        site,
                        workdir,
                        f"no-warc-no-db-{n + 1}",
                        {**extra, **NO_WARC_NO_DB},
                    )
                )
        null = min(nulls, key=lambda run: run.elapsed)
        small = min(smalls, key=lambda run: run.elapsed)
        single = min(singles, key=lambda run: run.elapsed)
        dry = min(drys, key=lambda run: run.elapsed)
        no_db = min(no_dbs, key=lambda run: run.elapsed)
        dry_no_db = min(dry_no_dbs, key=lambda run: run.elapsed)
        big = None
        archived, archived_site = small, site
        if args.big_pages:
            log(f"crawl: {args.big_pages:,} pages (peak RSS)")
            big_site = BenchSite(args.big_pages)
            with serve(args.big_pages) as base_url:
                big = crawl_project(
                    base_url, big_site, workdir, "project-big", {**extra, **WORKERS}, children=True
                )
            archived, archived_site = big, big_site
        warc = (archived.output or Path()) / "warc"
        log(f"re-extraction from {warc}: one process, then the workers (no server)")
        redo_single = reextract(
            warc, archived_site, workdir, "from-warc-one-process", {**extra, **ONE_PROCESS}
        )
        redo_multi = reextract(
            warc, archived_site, workdir, "from-warc-workers", {**extra, **WORKERS}
        )
        runs = [
            *nulls,
            *smalls,
            *singles,
            *drys,
            *no_dbs,
            *dry_no_dbs,
            *([big] if big else []),
            redo_single,
            redo_multi,
        ]
        for run in runs:
            if run.returncode != 0:
                failed = True
                log(f"{run.name} crawl exited {run.returncode}: see {run.log}")
        urls = exported_urls(small)
        results["crawl"] = {
            "server_alone_pages_per_s": alone[0],
            "server_alone_mb_per_s": alone[1],
            **{
                run.name: {**asdict(run), "log": str(run.log), "output": str(run.output)}
                for run in runs
            },
        }
        exported = (len(urls), len(set(urls)))
        crawl = crawl_rows(
            small,
            single,
            dry,
            null,
            big,
            exported,
            args.pages,
            args.crawl_rounds,
            without_db=(no_db, dry_no_db),
        )
        crawl.insert(
            1,
            [
                "  server alone, bare aiohttp client",
                "",
                f"{alone[0]:.0f} pages/s",
                "",
                "not the limit",
                verdict(alone[0] > 2 * null.count("null/articles") / null.elapsed),
            ],
        )
        rows += crawl
        rows += reextraction_rows(redo_multi, redo_single)

        store_figures, store_table = store_rows(args.store, workdir, args.quick)
        if store_figures is not None:
            results["store"] = store_figures
        rows += store_table
        if args.sitemap_urls:
            log(f"sitemap walks: {args.sitemap_urls:,} and {args.big_sitemap_urls:,} URLs")
            rows += bench_sitemaps(args.sitemap_urls, args.big_sitemap_urls, workdir)
        if args.redis:
            log(f"redis: {args.redis:,} exported URLs")
            mem = bench_redis(args.redis, max(1, args.redis // 10))
            if mem is None:
                log("redis: no redis-server (apt-get install redis-server): skipped")
            else:
                results["redis"] = asdict(mem)
                rows += redis_rows(mem)
    finally:
        if args.json:
            args.json.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)

    print(" · ".join(f"{k}: {v}" for k, v in info.items()))
    print(
        f"pages: {args.pages:,} (+{args.big_pages:,}) · store: {args.store:,} rows · "
        f"redis: {args.redis:,} URLs · "
        f"concurrency: {concurrency} · times are absolute on this machine; ratios are the figures"
    )
    print(render(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
