"""Re-extraction from WARC, variants side by side: ``python -m benchmarks.reextraction_ab``.

Issue 26's row "re-extraction from WARC with workers ≥ 1.6× one process" is one pair of
runs in the full benchmark; on a shared machine one pair says little. This crawls the
benchmark site once into a WARC, then runs ``-a from_warc=`` (the benchmark's
``reextract``) for each variant in turn, ``--rounds`` times alternated (a busy moment hits
all alike), and prints per run: wall pages/s, the CPU a page of the crawl's process and
of its children (the extraction workers, the archive.db child), the load average.

Variants are settings: ``--variant NAME:KEY=VALUE,KEY=VALUE`` (``env.KEY=VALUE``: in the
environment) (default: one process,
``RFI_EXTRACT_WORKERS=0``, against the default workers). ``--warc DIR`` reuses a WARC.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from benchmarks.crawl import (
    PROJECT_STATS,
    CrawlRun,
    crawl_project,
    run_scrapy,
    serve,
    site_settings,
)
from benchmarks.pages import BenchSite

DEFAULT_VARIANTS = ["one:RFI_EXTRACT_WORKERS=0", "workers:"]


def parse_variant(text: str) -> tuple[str, dict[str, str]]:
    """``NAME:KEY=VALUE,KEY=VALUE`` as (name, settings)."""
    name, _, rest = text.partition(":")
    settings = dict(pair.split("=", 1) for pair in rest.split(",") if pair)
    return name, settings


def load() -> str:
    """The load average (1 minute)."""
    return Path("/proc/loadavg").read_text().split()[0]


def row(run: CrawlRun, before: str) -> str:
    pages = max(run.count("rfi/exported"), 1)
    own = run.crawl_cpu_seconds / pages * 1000
    kids = run.children_cpu_seconds / pages * 1000
    waited = run.stats.get("bench/run_delay_main_thread", 0.0)
    delay = (waited if isinstance(waited, float) else 0.0) / pages * 1000
    preempted = run.count("bench/preempted_main_thread") / pages
    return (
        f"{run.name:<12} exit {run.returncode} {pages:>6} items "
        f"{pages / run.elapsed:6.1f} pages/s  CPU ms a page: process {own:5.2f}, "
        f"children {kids:5.2f}, all {own + kids:5.2f}; main thread waited {delay:5.2f} ms, "
        f"preempted {preempted:4.2f} a page (load {before} → {load()})"
    )


def reextract(
    warc: Path, site: BenchSite, workdir: Path, name: str, variant: dict[str, str]
) -> CrawlRun:
    """``benchmarks.crawl.reextract``, with the variant's ``env.NAME=VALUE`` entries in
    the environment and the others as settings."""
    env = {k[4:]: v for k, v in variant.items() if k.startswith("env.")}
    settings = {k: v for k, v in variant.items() if not k.startswith("env.")}
    args = ["crawl", "rfi_cn", "-a", f"from_warc={warc}"]
    return run_scrapy(
        name,
        args,
        {**site_settings(site), **PROJECT_STATS, **settings},
        workdir,
        children=True,
        env=env,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warc", type=Path, help="re-use this WARC folder")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--variant", action="append", help="NAME:KEY=VALUE,...")
    args = parser.parse_args(argv)
    site = BenchSite(args.pages)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="rfi-reextract-"))
    workdir.mkdir(parents=True, exist_ok=True)
    warc = args.warc
    if warc is None:
        with serve(args.pages) as base_url:
            settings = {"RFI_EXTRACT_WORKERS": "0", "RFI_ARCHIVE_DB": "False"}
            crawl = crawl_project(base_url, site, workdir, "crawl", settings)
        warc = (crawl.output or Path()) / "warc"
        print(f"WARC: {warc} ({crawl.count('rfi/exported')} items)", flush=True)
    variants = [parse_variant(v) for v in args.variant or DEFAULT_VARIANTS]
    rates: dict[str, list[float]] = {name: [] for name, _ in variants}
    for n in range(args.rounds):
        for name, settings in variants:
            before = load()
            run = reextract(warc, site, workdir, f"{name}-{n + 1}", settings)
            rates[name].append(run.count("rfi/exported") / run.elapsed)
            print(row(run, before), flush=True)
    first = variants[0][0]
    for name, values in rates.items():
        ratios = [v / f for v, f in zip(values, rates[first], strict=True)]
        print(
            f"{name}: median {statistics.median(values):.1f} pages/s; "
            f"÷ {first} per round: {', '.join(f'{r:.2f}' for r in ratios)}"
        )


if __name__ == "__main__":
    main()
