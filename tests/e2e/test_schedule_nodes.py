"""``scripts/schedule-crawl`` with several ``--scrapyd``: the same job on each node.

Two loopback stand-ins for Scrapyd's ``schedule.json`` record what they are sent.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
from conftest import ROOT

SCHEDULE_CRAWL = ROOT / "scripts" / "schedule-crawl"


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
