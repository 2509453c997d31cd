"""Whole crawls: ``scrapy crawl rfi_cn`` and the null spider, against the benchmark server.

Each crawl is a subprocess started the way a user starts it, with a fresh output
folder, the project's settings (robots.txt obeyed, the project's concurrency)
but the politeness delays off, and its final stats written as JSON by
:class:`benchmarks.stats.JsonStatsCollector` (the project's crawls: ``CrawlJsonStats``, on
the project's collector). The null spider runs with its own
minimal settings (``null_settings.py``: no WARC, no project component), the same
concurrency. A crawl is timed from its engine's start to the end of its process, so
that what it does after ``spider_closed`` (the WARC writer draining) counts. Peak RSS is
the crawl process's ``ru_maxrss`` from ``os.wait4``, taken by a tiny launcher (``launch.py``: see
there why); VmRSS is also sampled from ``/proc`` while it runs, to show whether
it climbs.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import aiohttp

from benchmarks.pages import BenchSite

ROOT = Path(__file__).resolve().parents[1]
NULL_SPIDER = Path(__file__).resolve().with_name("null_spider.py")
# The null spider's settings module: Scrapy's defaults, not the project's.
NULL_SETTINGS = {"SCRAPY_SETTINGS_MODULE": "benchmarks.null_settings"}
LAUNCHER = Path(__file__).resolve().with_name("launch.py")
# What every benchmark crawl sets: offline (no mirrors), no politeness delays on loopback.
BASE_SETTINGS = {
    "RFI_MIRRORS": "",
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "STATS_CLASS": "benchmarks.stats.JsonStatsCollector",
}
# The project's crawls: the same dump on the project's own collector (its STATS_CLASS).
PROJECT_STATS = {"STATS_CLASS": "benchmarks.stats.CrawlJsonStats"}


@contextmanager
def serve(pages: int, challenge: bool = False) -> Iterator[str]:
    """Run ``python -m benchmarks.server`` in its own process; yields its base URL.

    ``challenge``: articles answer 403 and a JavaScript challenge (see the server)."""
    options = ["--challenge"] if challenge else []
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.server", "--pages", str(pages), *options],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line.startswith("READY "):
            raise RuntimeError(f"the benchmark server did not start: {line!r}")
        yield line.split()[1]
    finally:
        process.terminate()
        process.wait(timeout=30)


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RFI_OUTPUT_DIR", None)
    env.pop("RFI_STATE_DIR", None)
    return env


def site_settings(site: BenchSite) -> dict[str, str]:
    """Start points of both spiders: the home page, our section listings, the feed."""
    return {"RFI_HOME": "/cn/", "RFI_SECTIONS": ",".join(site.sections), "RFI_FEEDS": "/cn/rss"}


@dataclass
class CrawlRun:
    """What one crawl process did."""

    name: str
    returncode: int
    wall_seconds: float
    peak_rss_mb: float  # ru_maxrss of the child (VmHWM)
    cpu_seconds: float  # user + system time of the child and of the children it reaped
    rss_samples_mb: list[tuple[float, float]] = field(default_factory=list)  # (s, VmRSS)
    # (s, PSS of all the crawl's child processes: the browser, the extraction workers),
    # when asked for; and their CPU time (user + system, as last seen in /proc).
    children_samples_mb: list[tuple[float, float]] = field(default_factory=list)
    children_cpu_seconds: float = 0.0
    own_cpu_seconds: float = 0.0  # the crawl's process alone, as last seen in /proc
    stats: dict[str, object] = field(default_factory=dict)
    log: Path | None = None
    output: Path | None = None
    ended: float = 0.0  # time.time() when the process ended

    @property
    def elapsed(self) -> float:
        """From the engine's start (Scrapy's ``start_time``) to the end of the process,
        the WARC writer's drain and the exit included; else the launcher's wall time."""
        started = self.stats.get("start_time")
        if not isinstance(started, str) or not self.ended:
            return self.wall_seconds
        try:
            start = datetime.fromisoformat(started)
        except ValueError:
            return self.wall_seconds
        return self.ended - start.timestamp()

    @property
    def main_thread_cpu_seconds(self) -> float:
        """The CPU time of the crawl's main thread (the reactor's) from the spider's opening
        to the stats' close."""
        value = self.stats.get("bench/cpu_main_thread")
        return float(value) if isinstance(value, int | float) else 0.0

    @property
    def crawl_cpu_seconds(self) -> float:
        """The CPU time of the crawl's process (its threads, not its workers) from the
        spider's opening to the stats' close (the WARC writer drained); else as sampled."""
        value = self.stats.get("bench/cpu_process")
        return float(value) if isinstance(value, int | float) else self.main_cpu_seconds

    def warc_bytes(self) -> int:
        """The size of the WARC files the crawl wrote."""
        folder = (self.output or Path()) / "warc"
        return sum(path.stat().st_size for path in folder.glob("*.warc.gz*"))

    def count(self, key: str) -> int:
        value = self.stats.get(key, 0)
        return value if isinstance(value, int) else 0

    @property
    def children_peak_mb(self) -> float:
        """The highest sampled PSS of the crawl's child processes together (MB)."""
        return max((mb for _, mb in self.children_samples_mb), default=0.0)

    @property
    def main_cpu_seconds(self) -> float:
        """The CPU time of the crawl's process alone (its workers' not included)."""
        return self.own_cpu_seconds or self.cpu_seconds

    @property
    def total_cpu_seconds(self) -> float:
        """The crawl's CPU time with its child processes': ``os.wait4`` counts the children
        the crawl reaped (its extraction workers), the samples those it did not."""
        return max(self.cpu_seconds, self.own_cpu_seconds + self.children_cpu_seconds)

    def rss_at(self, fraction: float) -> float:
        """Sampled VmRSS (MB) at a fraction of the run's duration."""
        if not self.rss_samples_mb:
            return 0.0
        moment = self.wall_seconds * fraction
        return min(self.rss_samples_mb, key=lambda s: abs(s[0] - moment))[1]


def descendants(pid: int) -> list[int]:
    """The processes started by ``pid``, their children, and so on (from ``/proc``)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                parent = int(stat.read().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parents.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def pss_mb(pid: int) -> float:
    """Proportional set size of a process (MB): shared pages split among their users, so
    that the processes of one browser add up to what they really take."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return 0.0
    return 0.0


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (from ``/proc/<pid>/stat``)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            fields = stat.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _vm_rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_scrapy(
    name: str,
    args: list[str],
    settings: dict[str, str],
    workdir: Path,
    timeout: float = 7200,
    prefix: tuple[str, ...] = (),
    children: bool = False,
    env: dict[str, str] | None = None,
) -> CrawlRun:
    """Run ``python -m scrapy <args>`` with ``settings`` into ``workdir/name``.

    ``prefix`` goes before the command (a profiler: ``py-spy record ... --``);
    ``children``: also sample the memory of the processes the crawl starts;
    ``env``: added to the environment.
    """
    folder = workdir / name
    folder.mkdir(parents=True, exist_ok=False)
    stats_file = folder / "stats.json"
    every = {
        **BASE_SETTINGS,
        **settings,
        "RFI_OUTPUT_DIR": str(folder / "output"),
        "BENCH_STATS_FILE": str(stats_file),
    }
    command = [*prefix, sys.executable, "-m", "scrapy", *args]
    for key, value in every.items():
        command += ["-s", f"{key}={value}"]
    log = folder / "crawl.log"
    samples: list[tuple[float, float]] = []
    children_samples: list[tuple[float, float]] = []
    children_cpu: dict[int, float] = {}  # the last CPU time seen of each child process
    own_cpu = 0.0
    start = time.perf_counter()
    launcher = subprocess.Popen(
        [sys.executable, "-S", str(LAUNCHER), str(log), *command],
        cwd=ROOT,
        env={**_env(), **(env or {})},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert launcher.stdout is not None
    pid = int(launcher.stdout.readline())
    while launcher.poll() is None:
        now = time.perf_counter() - start
        rss = _vm_rss_mb(pid)
        if rss is not None:
            samples.append((now, rss))
        own_cpu = cpu_seconds(pid) or own_cpu
        if children:
            kids = descendants(pid)
            children_samples.append((now, sum(pss_mb(c) for c in kids)))
            for kid in kids:
                seen = cpu_seconds(kid)
                if seen is not None:
                    children_cpu[kid] = seen
        if now > timeout:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
    now = time.perf_counter() - start
    report = json.loads(launcher.stdout.read().strip().splitlines()[-1])
    stats = json.loads(stats_file.read_text(encoding="utf-8")) if stats_file.exists() else {}
    return CrawlRun(
        name=name,
        returncode=report["returncode"],
        wall_seconds=now,
        peak_rss_mb=report["maxrss_kb"] / 1024,
        cpu_seconds=report["cpu_seconds"],
        rss_samples_mb=samples,
        children_samples_mb=children_samples,
        children_cpu_seconds=sum(children_cpu.values()),
        own_cpu_seconds=own_cpu,
        stats=stats,
        log=log,
        output=folder / "output",
        ended=float(report.get("ended", 0.0)),
    )


def crawl_project(
    base_url: str,
    site: BenchSite,
    workdir: Path,
    name: str,
    extra: dict[str, str],
    prefix: tuple[str, ...] = (),
    children: bool = False,
) -> CrawlRun:
    """``scrapy crawl rfi_cn -a base_url=...``: the project's whole crawl."""
    args = ["crawl", "rfi_cn", "-a", f"base_url={base_url}"]
    settings = {**site_settings(site), **PROJECT_STATS, **extra}
    return run_scrapy(name, args, settings, workdir, prefix=prefix, children=children)


def reextract(
    warc: Path,
    site: BenchSite,
    workdir: Path,
    name: str,
    extra: dict[str, str],
) -> CrawlRun:
    """``scrapy crawl rfi_cn -a from_warc=...``: a crawl's archive extracted again, into a
    fresh folder, with no network (the same start points as the crawl that wrote it)."""
    args = ["crawl", "rfi_cn", "-a", f"from_warc={warc}"]
    settings = {**site_settings(site), **PROJECT_STATS, **extra}
    return run_scrapy(name, args, settings, workdir, children=True)


def crawl_null(
    base_url: str, site: BenchSite, workdir: Path, name: str, extra: dict[str, str]
) -> CrawlRun:
    """The null spider: same start points and concurrency, its own minimal settings."""
    args = ["runspider", str(NULL_SPIDER), "-a", f"base_url={base_url}"]
    settings = {**site_settings(site), **extra}
    return run_scrapy(name, args, settings, workdir, env=NULL_SETTINGS)


def exported_urls(run: CrawlRun) -> list[str]:
    """The URLs in the crawl's ``items.jsonl``."""
    path = (run.output or Path()) / "items.jsonl"
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line)["url"] for line in lines]


async def _fetch_all(base_url: str, paths: list[str], concurrency: int) -> int:
    queue = iter(paths)
    received = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal received
        for path in queue:
            async with session.get(base_url + path) as response:
                received += len(await response.read())

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return received


def server_alone(base_url: str, site: BenchSite, concurrency: int) -> tuple[float, float]:
    """The server's rate with a bare aiohttp client: (pages/s, MB/s)."""
    paths = [site.article(i).path for i in range(site.count)]
    start = time.perf_counter()
    received = asyncio.run(_fetch_all(base_url, paths, concurrency))
    seconds = time.perf_counter() - start
    return len(paths) / seconds, received / seconds / 1e6
