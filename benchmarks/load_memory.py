"""``python -m benchmarks.load_memory``: memory under load (issue 7's limits), one table.

    python -m benchmarks.load_memory                 # 1,000 + 20,000 pages, 500 in the browser
    python -m benchmarks.load_memory --quick         # a smoke run (about a minute)
    python -m benchmarks.load_memory --compare-contexts   # also: one browser context throughout

Two measurements, on the benchmark's generated site (``benchmarks/pages.py``: pages
of live-site weight, served by ``benchmarks/server.py`` in its own process), with
the project's settings but the politeness delays off:

- **crawl**: ``scrapy crawl rfi_cn`` of ``--pages`` and of ``--big-pages`` articles.
  Peak RSS is the crawl process's ``ru_maxrss`` (``benchmarks/launch.py``), VmRSS is
  sampled along the run. Target: the peak grows less than 10% from the small crawl
  to the big one (memory flat in the number of pages).
- **browser**: every article answers 403 and a JavaScript challenge
  (``server.py --challenge``), so each of ``--browser-pages`` articles goes through
  the browser fallback (headless Chromium), its context renewed every
  ``--context-pages`` pages (``RFI_BROWSER_CONTEXT_PAGES``). The browser's processes
  (the Playwright driver, Chromium and its renderers) are measured by PSS, summed,
  every 0.2 s. Target: the crawl's and the browser's memory at the end of the run
  within 10% of what they were a fifth of the way in.

Results are reported, not raised: the exit status is non-zero only when a crawl
failed or did not export every page. ``--json FILE`` keeps every figure.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.crawl import CrawlRun, crawl_project, exported_urls, serve
from benchmarks.pages import BenchSite
from rfi_spider import settings as project_settings

GROWTH_LIMIT = 0.10
QUICK = {"pages": 50, "big_pages": 200, "browser_pages": 20, "context_pages": 5}
FULL = {"pages": 1000, "big_pages": 20_000, "browser_pages": 500, "context_pages": 100}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load_memory", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--pages", type=int, help="the small crawl (default 1,000; 0: skip)")
    parser.add_argument("--big-pages", type=int, help="the big crawl (default 20,000)")
    parser.add_argument(
        "--browser-pages", type=int, help="pages through the browser (default 500; 0: skip)"
    )
    parser.add_argument(
        "--context-pages", type=int, help="RFI_BROWSER_CONTEXT_PAGES for the browser run"
    )
    parser.add_argument(
        "--compare-contexts",
        action="store_true",
        help="also run the browser with one context for all pages (RFI_BROWSER_CONTEXT_PAGES=0)",
    )
    parser.add_argument("--workdir", type=Path, help="keep the crawls' outputs and logs here")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def log(message: str) -> None:
    print(f"[load_memory] {message}", file=sys.stderr, flush=True)


def growth(before: float, after: float) -> float:
    return (after - before) / before if before else 0.0


def at(samples: list[tuple[float, float]], wall: float, fraction: float) -> float:
    """The sample nearest to a fraction of the run (MB)."""
    if not samples:
        return 0.0
    moment = wall * fraction
    return min(samples, key=lambda sample: abs(sample[0] - moment))[1]


def peak_between(
    samples: list[tuple[float, float]], wall: float, start: float, end: float
) -> float:
    """The highest sample between two fractions of the run (MB)."""
    inside = [mb for moment, mb in samples if start * wall <= moment <= end * wall]
    return max(inside, default=0.0)


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def complete(run: CrawlRun, pages: int) -> bool:
    """The crawl ended well and exported every page once."""
    urls = exported_urls(run)
    return run.returncode == 0 and len(urls) == pages == len(set(urls))


def crawl_rows(args: argparse.Namespace, workdir: Path) -> tuple[list[list[str]], bool, dict]:
    """The small and the big crawl: peak RSS and its growth."""
    runs: dict[str, CrawlRun] = {}
    for pages in (args.pages, args.big_pages):
        log(f"crawl of {pages:,} pages")
        site = BenchSite(pages)
        with serve(pages) as base_url:
            runs[str(pages)] = crawl_project(base_url, site, workdir, f"crawl-{pages}", {})
    small, big = runs[str(args.pages)], runs[str(args.big_pages)]
    ok = complete(small, args.pages) and complete(big, args.big_pages)
    grew = growth(small.peak_rss_mb, big.peak_rss_mb)
    shape = " / ".join(f"{big.rss_at(f):.0f}" for f in (0.1, 0.25, 0.5, 0.75, 1.0))
    rows = [
        [f"crawl, {args.pages:,} pages: peak RSS (MB)", f"{small.peak_rss_mb:.0f}", "", "", ""],
        [
            f"crawl, {args.big_pages:,} pages: peak RSS (MB)",
            f"{big.peak_rss_mb:.0f}",
            f"{grew:+.1%}",
            f"< +{GROWTH_LIMIT:.0%}",
            verdict(grew < GROWTH_LIMIT),
        ],
        ["  VmRSS at 10/25/50/75/100% of the run (MB)", shape, "", "", ""],
        [
            f"  pages/s ({args.pages:,} / {args.big_pages:,} pages)",
            f"{args.pages / small.elapsed:.0f} / {args.big_pages / big.elapsed:.0f}",
            "",
            "",
            "",
        ],
        [
            "  every page exported once",
            f"{len(exported_urls(small)):,} / {len(exported_urls(big)):,}",
            "",
            "all",
            verdict(ok),
        ],
    ]
    return rows, ok, {name: summary(run) for name, run in runs.items()}


def browser_run(
    args: argparse.Namespace, workdir: Path, context_pages: int
) -> tuple[list[list[str]], bool, dict]:
    """Every article through the browser fallback; memory along the run."""
    pages = args.browser_pages
    label = f"every {context_pages}" if context_pages else "never (one context)"
    log(f"browser fallback for {pages} pages, contexts renewed {label}")
    site = BenchSite(pages)
    extra = {
        "RFI_BROWSER_CONTEXT_PAGES": str(context_pages),
        "RFI_BACKOFF_START": "0",  # a 403 is expected here: no back-off delay
    }
    with serve(pages, challenge=True) as base_url:
        run = crawl_project(
            base_url, site, workdir, f"browser-{pages}-{context_pages}", extra, children=True
        )
    ok = complete(run, pages) and run.count("rfi/browser/succeeded/article") == pages
    wall = run.wall_seconds
    crawl_early = peak_between(run.rss_samples_mb, wall, 0.1, 0.2)
    crawl_late = peak_between(run.rss_samples_mb, wall, 0.8, 1.0)
    browser_early = peak_between(run.children_samples_mb, wall, 0.1, 0.2)
    browser_late = peak_between(run.children_samples_mb, wall, 0.8, 1.0)
    browser_peak = max((mb for _, mb in run.children_samples_mb), default=0.0)
    shape = " / ".join(f"{at(run.children_samples_mb, wall, f):.0f}" for f in (0.2, 0.4, 0.6, 0.8))
    name = f"browser, {pages} pages, contexts renewed {label}"
    rows = [
        [name, "", "", "", ""],
        [
            "  crawl process: peak in 10-20% / 80-100% of the run (MB)",
            f"{crawl_early:.0f} / {crawl_late:.0f}",
            f"{growth(crawl_early, crawl_late):+.1%}",
            f"< +{GROWTH_LIMIT:.0%}",
            verdict(growth(crawl_early, crawl_late) < GROWTH_LIMIT),
        ],
        [
            "  browser processes (PSS): peak in 10-20% / 80-100% (MB)",
            f"{browser_early:.0f} / {browser_late:.0f}",
            f"{growth(browser_early, browser_late):+.1%}",
            f"< +{GROWTH_LIMIT:.0%}",
            verdict(growth(browser_early, browser_late) < GROWTH_LIMIT),
        ],
        ["  browser PSS at 20/40/60/80% of the run (MB)", shape, "", "", ""],
        [
            "  crawl VmRSS / browser PSS, highest sample (MB)",
            f"{max((mb for _, mb in run.rss_samples_mb), default=0):.0f} / {browser_peak:.0f}",
            "",
            "",
            "",
        ],
        [
            "  pages through the browser, contexts closed, pages/s",
            f"{run.count('rfi/browser/succeeded/article')} / {pages}, "
            f"{run.count('rfi/browser/contexts_recycled')}, {pages / run.elapsed:.1f}",
            "",
            "all",
            verdict(ok),
        ],
    ]
    return rows, ok, {"browser": summary(run)}


def summary(run: CrawlRun) -> dict[str, Any]:
    kept = asdict(run)
    kept["log"] = str(run.log)
    kept["output"] = str(run.output)
    kept["stats"] = {k: v for k, v in run.stats.items() if k.startswith(("rfi/", "playwright/"))}
    return kept


def render(rows: list[list[str]]) -> str:
    header = ["measure", "value", "growth", "target", "meets"]
    table = [header, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
             for row in table]  # fmt: skip
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="rfi-load-"))
    workdir.mkdir(parents=True, exist_ok=True)
    rows: list[list[str]] = []
    figures: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    all_ok = True
    try:
        if args.pages and args.big_pages:
            crawl, ok, runs = crawl_rows(args, workdir)
            rows += crawl
            figures.update(runs)
            all_ok &= ok
        browser = Path(project_settings.RFI_BROWSER_PATH)
        if args.browser_pages and not shutil.which(str(browser)):
            rows.append(["browser runs skipped: no Chromium at " + str(browser), "", "", "", ""])
        elif args.browser_pages:
            contexts = [args.context_pages, *([0] if args.compare_contexts else [])]
            for context_pages in contexts:
                found, ok, runs = browser_run(args, workdir, context_pages)
                rows += found
                figures[f"browser-{context_pages}"] = runs["browser"]
                all_ok &= ok
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(render(rows))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, default=str), encoding="utf-8")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
