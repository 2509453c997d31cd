"""A throwaway ``redis-server`` for tests: a free loopback port, a temporary folder, AOF on.

``redis-server`` is Debian's (``.ci/run`` installs it). The server answers PING before
:meth:`RedisServer.start` returns; :meth:`stop` terminates it and waits for it.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

START_DEADLINE = 20.0  # seconds a server has to answer PING


def free_port() -> int:
    """A loopback port no one listens on now (the kernel's choice)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1, its data (the AOF) in ``directory``."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is missing: apt-get install redis-server (.ci/run does)"
        self.directory.mkdir(parents=True, exist_ok=True)
        log = self.directory / "redis.log"
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "yes", "--dir", str(self.directory)]
        command += ["--logfile", str(log)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + START_DEADLINE
        client = self.client()
        try:
            while True:  # a condition with a deadline: the server answers PING
                assert self.process.poll() is None, log.read_text(errors="replace")[-2000:]
                try:
                    if client.ping():
                        return self
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    self.process_wait(0.02)
        finally:
            client.close()

    def process_wait(self, seconds: float) -> None:
        """Wait for the process to end, at most ``seconds`` (it normally does not)."""
        assert self.process is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(seconds)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
