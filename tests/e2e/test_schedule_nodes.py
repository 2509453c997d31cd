"""``scripts/schedule-crawl`` with several ``--scrapyd``: the same job on each node.

Two loopback stand-ins for Scrapyd's ``schedule.json`` record what they are sent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from conftest import ROOT

SCHEDULE_CRAWL = ROOT / "scripts" / "schedule-crawl"
ENV_FILE = "/etc/rfi-spider/scrapyd.env"


class FakeScrapyd:
    """Answers ``schedule.json`` with a job id and keeps each form it was sent."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.forms: list[list[tuple[str, str]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                fake.forms.append(parse_qsl(self.rfile.read(length).decode()))
                body = json.dumps({"status": "ok", "jobid": f"job-{fake.name}"}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # listjobs.json: nothing pending or running
                body = json.dumps({"status": "ok", "pending": [], "running": []}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def nodes() -> Iterator[tuple[FakeScrapyd, FakeScrapyd]]:
    a, b = FakeScrapyd("a"), FakeScrapyd("b")
    yield a, b
    a.close()
    b.close()


def schedule(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCHEDULE_CRAWL), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_one_crawl_is_scheduled_on_two_nodes(nodes: tuple[FakeScrapyd, FakeScrapyd]) -> None:
    a, b = nodes
    redis = "REDIS_URL=redis://10.0.0.5:6379/0"
    done = schedule("--scrapyd", a.url, "--scrapyd", b.url, "-s", redis)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"{a.url} job-a", f"{b.url} job-b"]
    for node in (a, b):
        (form,) = node.forms
        assert ("spider", "rfi_cn") in form and ("setting", redis) in form


def test_the_two_node_cron_line_schedules_on_both(
    nodes: tuple[FakeScrapyd, FakeScrapyd], tmp_path: Path
) -> None:
    """``deploy/cron/rfi-spider-two-nodes`` as cron runs it (paths and addresses changed):
    one job on each node; Redis's address, password included, is in no job's settings."""
    a, b = nodes
    text = (ROOT / "deploy" / "cron" / "rfi-spider-two-nodes").read_text(encoding="utf-8")
    (line,) = [x for x in text.splitlines() if x and x[0] != "#" and "=" not in x.split()[0]]
    *_when, user, command = line.split(None, 6)
    assert user == "root" and ENV_FILE in command
    readable = Path(tempfile.mkdtemp(prefix="rfi-cron-"))  # the script, readable by nobody
    try:
        readable.chmod(0o755)
        shutil.copy(SCHEDULE_CRAWL, readable / "schedule-crawl")
        env_file = tmp_path / "scrapyd.env"
        env_file.write_text(
            "SCRAPYD_USERNAME=rfi-spider\nSCRAPYD_PASSWORD=x\n"
            "REDIS_URL=redis://:s3cret@10.0.0.5:6379/0\n",
            encoding="utf-8",
        )
        command = (
            command.replace(ENV_FILE, str(env_file))
            .replace("/opt/rfi-spider/scripts", str(readable))
            .replace("| logger -t rfi-spider-schedule", "| cat")
        )
        if not Path("/usr/bin/python3").exists():
            command = command.replace("/usr/bin/python3", sys.executable)
        if os.geteuid() != 0:  # setpriv needs root
            command = re.sub(r"setpriv( --\S+)* ", "", command)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SCRAPYD_NODE_A": a.url}
        env["SCRAPYD_NODE_B"] = b.url
        done = subprocess.run(
            ["/bin/sh", "-c", command], env=env, capture_output=True, text=True, timeout=60
        )
    finally:
        shutil.rmtree(readable)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [f"{a.url} job-a", f"{b.url} job-b"]
    for node in (a, b):
        (form,) = node.forms
        assert ("spider", "rfi_cn") in form
        assert not any("s3cret" in value for _, value in form)
