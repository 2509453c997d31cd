"""Shared test helpers: paths, the seed, and crawls run the way a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redisserver import RedisServer

from rfi_spider import settings as project_settings

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CRASH_HOOKS = Path(__file__).resolve().parent / "crashhooks.py"
SEED = ROOT.parent / "shared" / "seed" / "000_61a0efc48b56a91e.txt"
SEED_COPY = FIXTURES / "seed" / "000_61a0efc48b56a91e.txt"

# The project's RFI_* settings (settings.py), which every component of the project reads
# (RfiSettings): for a test crawler that takes none of the project's other settings.
RFI_DEFAULTS = {
    name: getattr(project_settings, name)
    for name in dir(project_settings)
    if name.startswith("RFI_")
}
# A test crawler of one component, with no other of the project's settings: the RFI_* ones,
# with each export committed at once, no archive.db and no WARC capture.
BARE = {
    **RFI_DEFAULTS,
    "RFI_STATE_BATCH": 1,
    "RFI_STATE_BATCH_SECONDS": 0,
    "RFI_ARCHIVE_DB": False,
    "RFI_WARC": False,
}
# Settings every test crawl uses: nothing may reach a real host (no default mirrors).
OFFLINE = {"RFI_MIRRORS": "", "LOG_LEVEL": "INFO"}
# And, unless a test says otherwise: loopback needs no politeness delay.
# (The back-off on blocks, issue 4, likewise: tests of it set their own values.)
FAST = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "RFI_BACKOFF_START": "0",
}


@pytest.fixture
def seed_text() -> str:
    return SEED_COPY.read_text(encoding="utf-8")


@dataclass
class CrawlResult:
    """What a crawl left behind."""

    returncode: int
    log: str
    output: Path

    @property
    def items(self) -> list[dict[str, Any]]:
        path = self.output / "items.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    @property
    def article_files(self) -> list[Path]:
        folder = self.output / "articles"
        return sorted(p for p in folder.rglob("*.txt") if ".tmp" not in p.parts)

    def stat(self, name: str) -> int:
        """A stats counter from Scrapy's final stats dump (0 when absent)."""
        marker = f"'{name}': "
        for line in self.log.splitlines():
            stripped = line.strip()
            if stripped.startswith(marker):
                return int(stripped[len(marker) :].rstrip(",}"))
        return 0


# The sample site without its sitemaps: home, sections and feed give the six articles the
# QA tests count (the news sitemap adds a seventh, and the sitemap tests cover it).
LISTINGS_ONLY = {"RFI_SITEMAPS": "False"}


def first_version(item: dict[str, Any]) -> dict[str, Any]:
    """An exported item of a first crawl without its version fields, once they are checked:
    version 1, no previous digest, and the digest of what the item says (issue 28). What
    is left is what the page says, to compare with a fixture's expected item."""
    from rfi_spider.archive.versions import content_digest

    assert item["version"] == 1, item["url"]
    assert item["previous_digest"] is None, item["url"]
    assert item["content_digest"] == content_digest(item), item["url"]
    versions = ("version", "content_digest", "previous_digest")
    return {k: v for k, v in item.items() if k not in versions}


def crawl_command(
    output: Path,
    *args: str,
    settings: dict[str, str] | None = None,
    fast: bool = True,
    env: dict[str, str] | None = None,
    spider: str = "rfi_cn",
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of :func:`run_crawl` (and :func:`start_crawl`)."""
    # The crash tests' hooks (RFI_TEST_CRASH_AT) run scrapy through tests/crashhooks.py.
    scrapy = [str(CRASH_HOOKS)] if "RFI_TEST_CRASH_AT" in (env or {}) else ["-m", "scrapy"]
    command = [sys.executable, *scrapy, "crawl", spider]
    base = {**OFFLINE, **(FAST if fast else {})}
    for name, value in {**base, "RFI_OUTPUT_DIR": str(output), **(settings or {})}.items():
        command += ["-s", f"{name}={value}"]
    for arg in args:
        command += ["-a", arg]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    environment.pop("RFI_OUTPUT_DIR", None)
    environment.pop("RFI_STATE_DIR", None)
    environment.pop("REDIS_URL", None)  # a distributed crawl only where a test asks for one
    return command, environment


def run_crawl(
    output: Path,
    *args: str,
    settings: dict[str, str] | None = None,
    fast: bool = True,
    env: dict[str, str] | None = None,
    spider: str = "rfi_cn",
) -> CrawlResult:
    """``scrapy crawl rfi_cn`` in a subprocess, as a user runs it, into ``output``.

    ``fast`` turns the politeness delays off (loopback); without it the crawl
    runs with the project's own settings. ``env``: extra environment variables.
    ``spider``: another edition's spider (``rfi_tw``).
    """
    command, environment = crawl_command(
        output, *args, settings=settings, fast=fast, env=env, spider=spider
    )
    done = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
    )
    return CrawlResult(done.returncode, done.stdout + done.stderr, output)


def start_crawl(
    output: Path, *args: str, settings: dict[str, str] | None = None, log: Path
) -> subprocess.Popen[bytes]:
    """:func:`run_crawl` started in the background (to be stopped or killed), logging to ``log``."""
    command, environment = crawl_command(output, *args, settings=settings)
    with log.open("wb") as sink:
        return subprocess.Popen(command, cwd=ROOT, env=environment, stdout=sink, stderr=sink)


E2E = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under ``tests/e2e/`` (subprocess crawls, servers, the browser) ``e2e``."""
    for item in items:
        if E2E in Path(item.fspath).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A ``redis-server`` of its own on a free loopback port (AOF in a temporary folder)."""
    with RedisServer(tmp_path / "redis") as server:
        yield server
