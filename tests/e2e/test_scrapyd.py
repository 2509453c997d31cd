"""Scrapyd end to end: deploy the egg, schedule rfi_cn, keep state between jobs, run jobs at once.

A real Scrapyd (from this interpreter's environment) runs on a free loopback
port with every folder in a temporary directory, configured by the shipped
``deploy/scrapyd/scrapyd.conf`` and with a username and password from an
environment file in the shape of ``deploy/scrapyd/scrapyd.env.example``; the
project is deployed with scrapyd-client and jobs are scheduled with
``scripts/schedule-crawl``, as the manual (docs/scrapyd.md) tells operators to do, with the same
credentials. Scrapyd's ``items_dir`` is set: each job also writes a feed.
"""

from __future__ import annotations

import base64
import configparser
import contextlib
import json
import logging
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from conftest import BARE, FAST, FIXTURES, OFFLINE, ROOT, CrawlResult
from scrapy.utils.test import get_crawler
from test_crawl import comparable

from rfi_spider.archive import pipelines, seedfile
from rfi_spider.demo.localsite import LocalSite, Page, route_key

PROJECT = "rfi_spider"
SPIDER = "rfi_cn"
SCHEDULE_CRAWL = ROOT / "scripts" / "schedule-crawl"
DEPLOY = ROOT / "deploy"
ENV_FILE = "/etc/rfi-spider/scrapyd.env"  # where the units read Scrapyd's credentials
DEADLINE = 120.0  # seconds a Scrapyd step may take before the test gives up

EXPECTED = json.loads((FIXTURES / "sample_site_expected.json").read_text(encoding="utf-8"))
BY_URL = {a["url"]: a for a in EXPECTED["articles"]}
MIRROR = EXPECTED["demo_mirror"]  # the sample site's mirror feed, and its mirror-only article


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of an environment file (as systemd's EnvironmentFile reads it)."""
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value.strip()
    return pairs


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Scrapyd:
    """A real Scrapyd on a free loopback port; its folders, HOME and XDG_DATA_HOME in ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cwd = root / "cwd"  # Scrapyd's working directory: nothing of ours may land here
        self.data_home = root / "data"
        self.eggs = root / "eggs"
        self.logs = root / "logs"
        self.items = root / "items"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.process: subprocess.Popen[bytes] | None = None
        # The operator's environment file: the shipped example with a password filled in.
        example = (DEPLOY / "scrapyd" / "scrapyd.env.example").read_text(encoding="utf-8")
        self.env_file = root / "scrapyd.env"
        password = secrets.token_urlsafe(16)
        root.mkdir(parents=True, exist_ok=True)
        self.env_file.write_text(
            example.replace("\nSCRAPYD_PASSWORD=\n", f"\nSCRAPYD_PASSWORD={password}\n"),
            encoding="utf-8",
        )
        self.credentials = read_env_file(self.env_file)
        assert self.credentials == {"SCRAPYD_USERNAME": "rfi-spider", "SCRAPYD_PASSWORD": password}

    @property
    def env(self) -> dict[str, str]:
        """The environment of Scrapyd and its jobs: the project only importable from the egg.

        It holds the credentials, as the systemd drop-in's EnvironmentFile gives them.
        """
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RFI_", "SCRAPY"))}
        env.pop("PYTHONPATH", None)
        env.update(
            HOME=str(self.root / "home"), XDG_DATA_HOME=str(self.data_home), PYTHONUNBUFFERED="1"
        )
        env.update(self.credentials)
        return env

    def start(self) -> None:
        for folder in (self.cwd, self.data_home, self.eggs, self.logs, self.root / "home"):
            folder.mkdir(parents=True)
        # The shipped configuration (read after /etc/scrapyd's), then the test's folders and
        # port in ~/.scrapyd.conf, read after it; the credentials come from the environment.
        shutil.copy(DEPLOY / "scrapyd" / "scrapyd.conf", self.cwd / "scrapyd.conf")
        (self.root / "home" / ".scrapyd.conf").write_text(
            "[scrapyd]\n"
            f"http_port = {self.port}\n"
            f"eggs_dir = {self.eggs}\n"
            f"logs_dir = {self.logs}\n"
            f"dbs_dir = {self.root / 'dbs'}\n"
            f"items_dir = {self.items}\n"
            "poll_interval = 0.1\n"
            "max_proc = 4\n"
            "jobs_to_keep = 100\n",
            encoding="utf-8",
        )
        with (self.root / "scrapyd.log").open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "scrapyd"],
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: jobs included, stopped as one
            )
        self.until(lambda: self.answers(), "Scrapyd to start")

    def stop(self) -> None:
        """Stop Scrapyd and any job still running (its own process group: pgid == pid)."""
        if self.process is None:
            return
        group = self.process.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def answers(self) -> bool:
        try:
            return self.api("daemonstatus.json")["status"] == "ok"
        except OSError:
            return False

    def until(self, done: Callable[[], bool], what: str) -> None:
        """Poll ``done`` until it is true; fail after :data:`DEADLINE` or if Scrapyd died."""
        deadline = time.monotonic() + DEADLINE
        while not done():
            assert self.process is not None and self.process.poll() is None, self.log()[-3000:]
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.05)

    def api(self, endpoint: str, auth: bool = True, **query: str) -> dict[str, Any]:
        url = self.url + endpoint + ("?" + urllib.parse.urlencode(query) if query else "")
        request = urllib.request.Request(url)
        if auth:
            pair = f"{self.credentials['SCRAPYD_USERNAME']}:{self.credentials['SCRAPYD_PASSWORD']}"
            request.add_header("Authorization", "Basic " + base64.b64encode(pair.encode()).decode())
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def log(self) -> str:
        return (self.root / "scrapyd.log").read_text(encoding="utf-8", errors="replace")

    def deploy(self, version: str = "1") -> None:
        """``scrapyd-deploy`` a copy of the project, its ``[deploy]`` target pointed here."""
        project = self.root / "project"
        shutil.copytree(
            ROOT / "rfi_spider",
            project / "rfi_spider",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        shutil.copy(ROOT / "setup.py", project)
        config = configparser.ConfigParser()
        config.read(ROOT / "scrapy.cfg", encoding="utf-8")
        # The shipped target: docs/scrapyd.md's local Scrapyd, credentials from the environment.
        assert dict(config["deploy"]) == {
            "url": "http://localhost:6800/",
            "project": PROJECT,
            "username": "${SCRAPYD_USERNAME}",
            "password": "${SCRAPYD_PASSWORD}",
        }
        config["deploy"]["url"] = self.url
        with (project / "scrapy.cfg").open("w", encoding="utf-8") as handle:
            config.write(handle)
        done = subprocess.run(
            [sys.executable, "-m", "scrapyd_client.deploy", "-v", version],
            cwd=project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=DEADLINE,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert json.loads(done.stdout)["status"] == "ok", done.stdout

    def egg(self) -> Path:
        (egg,) = (self.eggs / PROJECT).glob("*.egg")
        return egg

    def schedule(
        self, *options: str, credentials: dict[str, str] | None = None, **settings: str
    ) -> subprocess.CompletedProcess[str]:
        """``scripts/schedule-crawl`` with ``options`` and test settings (offline, fast).

        ``credentials``: its ``SCRAPYD_*`` variables; by default, the right ones.
        """
        command = [sys.executable, str(SCHEDULE_CRAWL), "--scrapyd", self.url, *options]
        command += job_settings(**settings)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPYD_")}
        env.update(self.credentials if credentials is None else credentials)
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=DEADLINE)

    def start_job(self, *options: str, **settings: str) -> str:
        done = self.schedule(*options, **settings)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def finished(self, *jobs: str) -> bool:
        done = {job["id"] for job in self.api("listjobs.json", project=PROJECT)["finished"]}
        return done.issuperset(jobs)

    def wait(self, *jobs: str) -> None:
        self.until(lambda: self.finished(*jobs), f"jobs {jobs} to finish")

    def result(self, job: str, output: Path) -> CrawlResult:
        """What job ``job`` left: its exit status (from Scrapyd's log), its log, its exports."""
        ends = [line for line in self.log().splitlines() if f"job='{job}'" in line]
        returncode = 0 if any("Process finished:" in line for line in ends) else 1
        log = (self.logs / PROJECT / SPIDER / f"{job}.log").read_text(encoding="utf-8")
        return CrawlResult(returncode, log, output)


def job_settings(**settings: str) -> list[str]:
    """``-s NAME=value`` options: offline, fast, then ``settings``."""
    return [arg for n, v in {**OFFLINE, **FAST, **settings}.items() for arg in ("-s", f"{n}={v}")]


def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def assert_clean(result: CrawlResult) -> None:
    assert result.returncode == 0, result.log[-3000:]
    assert "Traceback" not in result.log
    assert result.stat("log_count/ERROR") == 0
    assert "'finish_reason': 'finished'" in result.log


def assert_each_article_once(result: CrawlResult) -> None:
    """items.jsonl holds each sample article exactly once, as expected, with its seed-style file."""
    items = result.items
    assert sorted(item["url"] for item in items) == sorted(BY_URL)
    for item in items:
        assert comparable(item) == BY_URL[item["url"]]
    files = result.article_files
    assert sorted(seedfile.read(p.read_text(encoding="utf-8")).url for p in files) == sorted(BY_URL)
    assert not any((result.output / "articles" / ".tmp").iterdir())


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scrapyd]:
    server = Scrapyd(tmp_path_factory.mktemp("scrapyd"))
    try:
        server.start()
        server.deploy()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def site() -> Iterator[LocalSite]:
    with LocalSite.sample() as served:
        yield served


@pytest.fixture(scope="module")
def first_job(scrapyd: Scrapyd, site: LocalSite) -> CrawlResult:
    """A job with the operator's defaults: no RFI_OUTPUT_DIR anywhere."""
    before = tree(scrapyd.cwd)
    job = scrapyd.start_job("-a", f"base_url={site.url}", "-a", "mirrors=")
    scrapyd.wait(job)
    assert tree(scrapyd.cwd) == before  # nothing written into Scrapyd's working directory
    return scrapyd.result(job, scrapyd.data_home / "rfi-spider" / "output")


def test_deployed_egg_holds_what_a_crawl_reads(scrapyd: Scrapyd) -> None:
    egg = scrapyd.egg()
    names = set(zipfile.ZipFile(egg).namelist())
    package = ROOT / "rfi_spider"
    shipped = {
        f"rfi_spider/{path.relative_to(package).as_posix()}"
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert shipped - names == set()  # every module and data file, the sample site included
    entry_points = zipfile.ZipFile(egg).read("EGG-INFO/entry_points.txt").decode()
    assert "settings = rfi_spider.settings" in entry_points
    # From the zipped egg alone (no checkout on the path), package resources still read.
    probe = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); "
        "from rfi_spider import runtime; from rfi_spider.demo import localsite; "
        "site = localsite.load_site('rfi_spider.demo.sample_site'); "
        "print(json.dumps([runtime.from_egg(), sorted(site)]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(egg)],
        cwd=scrapyd.root,
        env=scrapyd.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    in_egg, routes = json.loads(done.stdout)
    assert in_egg is True
    routes_file = package / "demo" / "sample_site" / "routes.json"
    expected = json.loads(routes_file.read_text(encoding="utf-8"))
    assert routes == sorted(expected)


def test_job_exports_each_article_once_into_the_default_data_folder(first_job: CrawlResult) -> None:
    assert_clean(first_job)
    assert_each_article_once(first_job)
    assert f"exports go to {first_job.output}, the state to {first_job.output / '.state'}" in (
        first_job.log
    )
    assert first_job.stat("rfi/exported") == len(BY_URL)
    assert first_job.stat("rfi/config/relative_dir") == 0


def test_next_job_exports_nothing_new(
    scrapyd: Scrapyd, site: LocalSite, first_job: CrawlResult
) -> None:
    jsonl = first_job.output / "items.jsonl"
    before, files_before = jsonl.read_bytes(), first_job.article_files
    job = scrapyd.start_job("-a", f"base_url={site.url}", "-a", "mirrors=")
    scrapyd.wait(job)
    again = scrapyd.result(job, first_job.output)
    assert_clean(again)
    assert jsonl.read_bytes() == before
    assert again.article_files == files_before
    assert again.stat("rfi/exported") == 0
    assert again.stat("rfi/skipped/already_exported") == len(BY_URL)


def rendezvous(parties: int, keys: set[str]) -> tuple[Callable[..., Page | None], list[str]]:
    """A site hook that answers a request for one of ``keys`` only once ``parties`` crawls asked.

    On robots.txt (Scrapy opens the pipelines, with their store and lock, before
    it fetches anything) it proves the jobs run at once; on the articles it hands
    every article to both jobs at the same moment, so that both pipelines race
    to export it.
    """
    guard = threading.Lock()
    barriers: dict[str, threading.Barrier] = {}
    broken: list[str] = []

    def hook(handler: BaseHTTPRequestHandler, key: str) -> Page | None:
        if key in keys:
            with guard:
                barrier = barriers.setdefault(key, threading.Barrier(parties, timeout=30))
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                broken.append(key)
        return None

    return hook, broken


def test_two_jobs_at_once_export_each_article_once(
    scrapyd: Scrapyd, site: LocalSite, tmp_path: Path
) -> None:
    output, state = tmp_path / "output", tmp_path / "state"
    articles = {route_key(url.removeprefix("https://www.rfi.fr")) for url in BY_URL}
    site.hook, broken = rendezvous(2, {"/robots.txt", *articles})
    try:
        args = ("-a", f"base_url={site.url}", "-a", "mirrors=")
        where = {"RFI_OUTPUT_DIR": str(output), "RFI_STATE_DIR": str(state)}
        # Every request of a job in flight at once: none waits for a slot behind a held one.
        wide = {"CONCURRENT_REQUESTS": "64", "CONCURRENT_REQUESTS_PER_DOMAIN": "64"}
        jobs = [scrapyd.start_job(*args, **where, **wide) for _ in range(2)]
        scrapyd.wait(*jobs)
    finally:
        site.hook = None
    assert not broken, f"the two jobs did not both ask for {broken}"
    results = [scrapyd.result(job, output) for job in jobs]
    for result in results:
        assert_clean(result)
        assert f"the state to {state}" in result.log
    assert_each_article_once(results[0])
    assert sum(r.stat("rfi/exported") for r in results) == len(BY_URL)
    # Both jobs fetched every article: the one that lost each race dropped it as a duplicate.
    assert sum(r.stat("rfi/duplicates") for r in results) == len(BY_URL)
    assert (state / "seen.sqlite3").exists() and not (output / ".state").exists()


def test_schedule_crawl_unless_busy_does_not_pile_jobs_up(
    scrapyd: Scrapyd, site: LocalSite, tmp_path: Path
) -> None:
    release = threading.Event()

    def hold_robots(handler: BaseHTTPRequestHandler, key: str) -> Page | None:
        if key == "/robots.txt":
            release.wait(DEADLINE)
        return None

    url = EXPECTED["articles"][0]["url"]
    output = tmp_path / "output"
    site.hook = hold_robots
    try:
        job = scrapyd.start_job(
            "-a", f"base_url={site.url}", "-a", f"url={url}", RFI_OUTPUT_DIR=str(output)
        )
        busy = scrapyd.schedule("--unless-busy", "-a", f"base_url={site.url}")
        assert busy.returncode == 0, busy.stderr
        assert busy.stdout.startswith(f"not scheduled: {SPIDER} job {job}")
        jobs = scrapyd.api("listjobs.json", project=PROJECT)
        assert {j["id"] for j in jobs["pending"] + jobs["running"]} == {job}
    finally:
        release.set()
        site.hook = None
    scrapyd.wait(job)
    result = scrapyd.result(job, output)
    assert_clean(result)
    assert [item["url"] for item in result.items] == [url]  # -a url= went through schedule.json


def test_schedule_crawl_reports_what_scrapyd_refuses(scrapyd: Scrapyd) -> None:
    done = scrapyd.schedule("--spider", "no_such_spider")
    assert done.returncode == 1
    assert "spider 'no_such_spider' not found" in done.stderr


def test_relative_output_under_scrapyd_is_warned_about(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    crawler = get_crawler(settings_dict={**BARE, "RFI_OUTPUT_DIR": "archive"})
    crawler.stats.open_spider()
    pipeline = pipelines.ArchivePipeline.from_crawler(crawler)
    monkeypatch.setattr(pipelines, "from_egg", lambda: True)
    with caplog.at_level(logging.INFO, logger="rfi_spider.archive.pipelines"):
        pipeline.log_where()
    assert "RFI_OUTPUT_DIR=archive is relative to Scrapyd's working directory" in caplog.text
    assert crawler.stats.get_value("rfi/config/relative_dir") == 2  # the output and its state


def test_items_dir_feed_holds_every_item_mirror_items_included(
    scrapyd: Scrapyd, site: LocalSite, tmp_path: Path
) -> None:
    output = tmp_path / "output"
    job = scrapyd.start_job(
        "-a", f"base_url={site.url}", "-a", f"mirrors={site.url}{MIRROR['feed']}",
        RFI_OUTPUT_DIR=str(output),
    )  # fmt: skip
    scrapyd.wait(job)
    result = scrapyd.result(job, output)
    assert_clean(result)
    (only_mirror,) = MIRROR["from_mirror"]
    assert {i["url"]: i["source"] for i in result.items}[only_mirror] == "127.0.0.1"
    feed = scrapyd.items / PROJECT / SPIDER / f"{job}.jl"
    # Scrapyd's feed (FEEDS) holds the same lines as the archive's items.jsonl, the
    # mirror's article included: the spec's fields only, in the spec's order.
    lines = feed.read_bytes().splitlines()
    assert sorted(lines) == sorted((output / "items.jsonl").read_bytes().splitlines())
    assert len(lines) == len(BY_URL) + 1


def test_scrapyd_answers_only_with_the_credentials(scrapyd: Scrapyd) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        scrapyd.api("listjobs.json", auth=False, project=PROJECT)
    assert refused.value.code == 401
    jobs_before = scrapyd.api("listjobs.json", project=PROJECT)
    none = scrapyd.schedule("-a", "url=https://www.rfi.fr/cn/x", credentials={})
    assert none.returncode == 1
    assert none.stderr.strip() == (
        f"schedule-crawl: {scrapyd.url}schedule.json: HTTP 401: Scrapyd asks for a username"
        " and password: set $SCRAPYD_USERNAME and $SCRAPYD_PASSWORD"
    )
    wrong = {**scrapyd.credentials, "SCRAPYD_PASSWORD": "not-the-password"}
    busy = scrapyd.schedule("--unless-busy", credentials=wrong)
    assert busy.returncode == 1
    assert busy.stderr.strip() == (
        f"schedule-crawl: {scrapyd.url}listjobs.json?project={PROJECT}: HTTP 401: Scrapyd"
        " refused $SCRAPYD_USERNAME='rfi-spider' and $SCRAPYD_PASSWORD"
    )
    assert "not-the-password" not in busy.stderr + busy.stdout
    assert scrapyd.api("listjobs.json", project=PROJECT) == jobs_before  # nothing scheduled


def test_shipped_scrapyd_conf_listens_on_loopback_only() -> None:
    config = configparser.ConfigParser()
    config.read(DEPLOY / "scrapyd" / "scrapyd.conf", encoding="utf-8")
    assert config["scrapyd"]["bind_address"] == "127.0.0.1"
    assert config["scrapyd"]["username"] == "rfi-spider"


def test_cron_line_schedules_with_the_credentials_file(
    scrapyd: Scrapyd, site: LocalSite, tmp_path: Path
) -> None:
    """``deploy/cron/rfi-spider`` as cron runs it: only the paths and Scrapyd's address changed."""
    text = (DEPLOY / "cron" / "rfi-spider").read_text(encoding="utf-8")
    (line,) = [x for x in text.splitlines() if x and x[0] not in "#" and "=" not in x.split()[0]]
    *_when, user, command = line.split(None, 6)
    assert user == "root" and ENV_FILE in command
    # The script where the unprivileged user can read it (pytest's folders are root's).
    readable = Path(tempfile.mkdtemp(prefix="rfi-cron-"))
    try:
        readable.chmod(0o755)
        shutil.copy(SCHEDULE_CRAWL, readable / "schedule-crawl")
        (readable / "schedule-crawl").chmod(0o755)
        url = EXPECTED["articles"][0]["url"]
        extra = ["-a", f"base_url={site.url}", "-a", f"url={url}"]
        extra += job_settings(RFI_OUTPUT_DIR=str(tmp_path / "output"))
        command = (
            command.replace(ENV_FILE, str(scrapyd.env_file))
            .replace("/opt/rfi-spider/scripts", str(readable))
            .replace("--unless-busy", "--unless-busy " + shlex.join(extra))
            .replace("| logger -t rfi-spider-schedule", "| cat")
        )
        if not Path("/usr/bin/python3").exists():
            command = command.replace("/usr/bin/python3", sys.executable)
        if os.geteuid() != 0:  # setpriv needs root; the credentials' path is the same
            command = re.sub(r"setpriv( --\S+)* ", "", command)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SCRAPYD_URL": scrapyd.url}
        done = subprocess.run(
            ["/bin/sh", "-c", command], env=env, capture_output=True, text=True, timeout=DEADLINE
        )
    finally:
        shutil.rmtree(readable)
    assert done.returncode == 0, done.stdout + done.stderr
    job = done.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{32}", job), done.stdout
    scrapyd.wait(job)
    result = scrapyd.result(job, tmp_path / "output")
    assert_clean(result)
    assert [item["url"] for item in result.items] == [url]


def test_systemd_units_read_the_credentials_file(tmp_path: Path) -> None:
    """Scrapyd's drop-in and the schedule unit read one file; Scrapyd never starts without it."""
    drop_in = (DEPLOY / "systemd" / "scrapyd-rfi-spider.conf").read_text(encoding="utf-8")
    unit = (DEPLOY / "systemd" / "rfi-spider-schedule.service").read_text(encoding="utf-8")
    assert f"\nEnvironmentFile={ENV_FILE}\n" in drop_in
    assert f"\nEnvironmentFile={ENV_FILE}\n" in unit
    (check,) = [x.partition("=")[2] for x in drop_in.splitlines() if x.startswith("ExecStartPre=")]
    argv = [arg.replace("$$", "$") for arg in shlex.split(check)]  # systemd's $$ is a $
    base = {"PATH": "/usr/bin:/bin"}
    for env in ({}, {"SCRAPYD_USERNAME": "rfi-spider"}, {"SCRAPYD_PASSWORD": "x"}):
        refused = subprocess.run(argv, env={**base, **env}, capture_output=True, text=True)
        assert refused.returncode == 1
        assert "set SCRAPYD_USERNAME and SCRAPYD_PASSWORD" in refused.stderr
    both = {"SCRAPYD_USERNAME": "rfi-spider", "SCRAPYD_PASSWORD": "x"}
    assert subprocess.run(argv, env={**base, **both}).returncode == 0
