"""The tests' own redis-server: it answers, keeps an AOF, and is gone after the test."""

from __future__ import annotations

from pathlib import Path

from redisserver import RedisServer


def test_a_redis_server_answers_with_aof_on(redis_server: RedisServer) -> None:
    client = redis_server.client()
    assert client.ping()
    assert client.config_get("appendonly") == {"appendonly": "yes"}
    assert client.config_get("save") == {"save": ""}
    client.set("k", "v")
    assert client.get("k") == b"v"
    client.close()


def test_the_server_stops_after_its_test(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "r").start()
    server.stop()
    assert server.process is not None and server.process.poll() is not None
