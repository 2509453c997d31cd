"""The shared state of a distributed crawl in Redis: claims, exports, pending, settings."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from redisserver import RedisServer

from rfi_spider.archive.redis_state import (
    CHUNK,
    KeyTypeError,
    RedisState,
    SharedCrawlError,
    digest,
    exported_slot,
)

URL = "https://www.rfi.fr/cn/国际/20240307-瑞典正式加入北约"
OTHER = "https://www.rfi.fr/cn/中国/20240308-两会"


def node(server: RedisServer, name: str, lease_ms: int = 60_000) -> RedisState:
    return RedisState(server.client(), "rfi", "crawl-1", name, lease_ms)


def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait for ``condition()`` with a deadline (Redis expires keys on its own clock)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


def test_one_node_claims_an_article_and_its_retries_keep_the_claim(
    redis_server: RedisServer,
) -> None:
    a, b = node(redis_server, "a"), node(redis_server, "b")
    token = a.claim(URL)
    assert token is not None and token.startswith("a:")
    assert b.claim(URL) is None  # another node works on it
    assert b.claim(URL, token) == token  # a retry of a's request, popped by b: same claim
    assert a.renew({URL: token}) == []
    assert not a.release(URL, "not-the-token")
    assert a.holder(URL) == token
    assert a.release(URL, token)
    assert a.holder(URL) is None
    assert b.claim(URL) is not None


def test_a_claim_of_a_killed_node_expires_and_another_takes_over(
    redis_server: RedisServer,
) -> None:
    # A lease long enough to outlast any pause of a loaded machine while b is refused
    # (50 ms could run out between a's claim and b's), then one that runs out at once.
    a, b = node(redis_server, "a"), node(redis_server, "b")
    assert a.claim(URL) and b.claim(URL) is None
    short = node(redis_server, "a", lease_ms=50)
    token = short.claim(OTHER)
    assert token
    wait_until(lambda: short.holder(OTHER) is None)  # a renews nothing: it was killed
    assert b.claim(OTHER) is not None
    assert short.renew({OTHER: token}) == [OTHER]  # a's claim is not a's any more


def test_an_article_is_exported_once_and_marked_only_after_the_write(
    redis_server: RedisServer,
) -> None:
    a, b = node(redis_server, "a"), node(redis_server, "b")
    a.add_pending([URL])
    token = a.claim(URL)
    assert a.begin_export(URL, token)[0] == 1
    assert not a.is_exported(URL)  # begun, not written: not exported yet
    assert redis_server.client().pttl(a.claim_key(URL)) == -1  # no lease while exporting
    assert b.begin_export(URL, None)[0] == 0  # a exports it
    a.end_export(URL)
    assert a.is_exported(URL) and b.is_exported(URL)
    assert a.holder(URL) is None and a.pending_count() == 0
    assert b.begin_export(URL, None)[0] == -1  # exported already
    key, member = exported_slot("rfi", URL)  # 16 bits name the set, 48 are the member
    assert redis_server.client().smembers(key) == {str(member).encode()}
    assert redis_server.client().object("encoding", key) == b"intset"  # 8 bytes a member
    assert a.exported_count() == 1 and int.from_bytes(digest(URL)) >> 48 == int(key[-4:], 16)


def test_versions_are_read_with_the_claim_and_never_lowered(redis_server: RedisServer) -> None:
    """A revisit's export reads the crawl's latest version in the same atomic step: the same
    digest is unchanged (-2, the check's time raised), another goes on with that version."""
    a, b = node(redis_server, "a"), node(redis_server, "b")
    d1, d2 = "1" * 64, "2" * 64
    assert a.begin_export(URL, a.claim(URL), True, d1, "2024-03-07T10:00:00+00:00")[0] == 1
    a.end_export(URL, (1, d1, "2024-03-07T10:00:00+00:00"))
    assert b.begin_export(URL, None)[0] == -1  # found again, no revisit: a duplicate
    verdict, latest = b.begin_export(URL, None, True, d1, "2024-03-09T10:00:00+00:00")
    assert verdict == -2 and latest is not None and latest.digest == d1
    assert b.latest_version(URL).checked_at == "2024-03-09T10:00:00+00:00"
    verdict, latest = b.begin_export(URL, b.claim(URL), True, d2, "2024-03-10T10:00:00+00:00")
    assert verdict == 1 and latest is not None and (latest.number, latest.digest) == (1, d1)
    assert a.begin_export(URL, None, True, d2, "2024-03-10T10:00:00+00:00")[0] == 0  # b's
    b.end_export(URL, (2, d2, "2024-03-10T10:00:00+00:00"))
    a.set_versions([(URL, 1, d1, "2024-03-07T10:00:00+00:00")])  # a's folder, reopened
    assert (a.latest_version(URL).number, a.latest_version(URL).digest) == (2, d2)


def test_an_export_a_kill_interrupted_waits_for_its_node(redis_server: RedisServer) -> None:
    a, b = node(redis_server, "a", lease_ms=50), node(redis_server, "b")
    a.add_pending([URL, OTHER])
    assert a.begin_export(URL, a.claim(URL))[0] == 1  # then a is killed
    restarted = node(redis_server, "a")
    assert restarted.unsettled_exports() == [URL]
    status = b.pending_status(live_nodes={"b"})
    assert status.orphaned == [(URL, "a")]  # never taken over: a's folder knows
    assert status.unclaimed == [OTHER]
    assert b.pending_status(live_nodes={"a", "b"}).claimed == 1
    restarted.abort_export(URL)  # a's items.jsonl has no line for it
    assert restarted.unsettled_exports() == []
    assert sorted(b.pending_status(live_nodes={"b"}).unclaimed) == sorted([URL, OTHER])


def test_pending_articles_are_queued_once_and_exported_ones_leave(
    redis_server: RedisServer,
) -> None:
    a, b = node(redis_server, "a"), node(redis_server, "b")
    assert a.add_pending([URL, URL]) == [URL]
    assert b.add_pending([URL, OTHER]) == [OTHER]
    b.add_exported([OTHER])
    assert a.pending_status(live_nodes={"a"}).unclaimed == [URL]
    assert a.pending_count() == 1  # the exported one left the queue


def test_the_first_node_starts_the_crawl(redis_server: RedisServer) -> None:
    a, b = node(redis_server, "a"), node(redis_server, "b")
    assert a.start_once() and not b.start_once()
    assert b.start_in_progress({"a", "b"})
    assert not b.start_in_progress({"b"})  # a is gone: nobody to wait for
    a.finish_start()
    assert not b.start_in_progress({"a", "b"})


def test_a_node_with_other_settings_is_refused(redis_server: RedisServer) -> None:
    a, b = node(redis_server, "a"), node(redis_server, "b")
    a.check_config({"edition": "cn", "layout": "v1"})
    a.check_config({"edition": "cn", "layout": "v1"})
    with pytest.raises(SharedCrawlError, match=r"edition='cn' there, 'tw' here") as error:
        b.check_config({"edition": "tw", "layout": "v1"})
    assert "RFI_CRAWL_ID" in str(error.value) and "\n" not in str(error.value)


def test_nodes_say_whether_they_are_busy(redis_server: RedisServer) -> None:
    a, b = node(redis_server, "a"), node(redis_server, "b")
    a.heartbeat(busy=True)
    b.heartbeat(busy=False)
    assert b.nodes() == {"a": "busy", "b": "idle"}
    a.leave()
    assert b.nodes() == {"b": "idle"}


def test_a_complete_crawl_is_cleared_and_the_exported_urls_stay(
    redis_server: RedisServer,
) -> None:
    a = node(redis_server, "a")
    a.check_config({"edition": "cn"})
    assert a.start_once()
    a.finish_start()
    a.add_exported([URL])
    a.finish_crawl()
    b = node(redis_server, "b")
    assert b.start_once()  # a new crawl under the same id
    b.check_config({"edition": "tw"})  # whose settings are its own
    assert b.is_exported(URL)


def test_a_page_a_killed_node_was_reading_is_taken_over(redis_server: RedisServer) -> None:
    a, b = node(redis_server, "a"), node(redis_server, "b")
    a.add_page("p1", b"request 1")
    a.add_page("p2", b"request 2")
    assert a.claim("page:p1") is not None  # a reads p1, then is killed
    unclaimed, claimed = b.pages_status()
    assert (unclaimed, claimed) == ([("p2", b"request 2")], 1)
    # Its lease runs out: the remaining 60 s cut to 1 ms (a lease of 50 ms from the start
    # could run out before the status above, on a loaded machine).
    assert 0 < redis_server.client().pttl(a.claim_key("page:p1")) <= 60_000
    redis_server.client().pexpire(a.claim_key("page:p1"), 1)
    wait_until(lambda: a.holder("page:p1") is None)
    assert sorted(b.pages_status()[0]) == [("p1", b"request 1"), ("p2", b"request 2")]
    b.page_done("p1")
    assert not b.page_pending("p1") and b.page_pending("p2")


def test_takeovers_of_a_page_are_counted(redis_server: RedisServer) -> None:
    a = node(redis_server, "a")
    assert [a.count_takeover("p1") for _ in range(3)] == [1, 2, 3]
    a.finish_crawl()
    assert a.count_takeover("p1") == 1


def test_more_than_a_chunk_of_exported_articles_hides_no_waiting_one(
    redis_server: RedisServer,
) -> None:
    """The pending queue is read a chunk (1,000) at a time and exported articles leave it
    as it is read: the next chunk starts that many earlier, or the articles behind them
    would be skipped, the crawl found complete and its queue deleted while they wait."""
    a = node(redis_server, "a")
    exported = [f"{URL}-a{n:04d}" for n in range(CHUNK + 50)]
    waiting = [f"{URL}-z{n}" for n in range(5)]
    a.add_pending(exported)
    a.add_pending(waiting)  # found after: behind the exported ones in the queue
    a.add_exported(exported)
    status = a.pending_status(live_nodes={"a"}, limit=100)
    assert sorted(status.unclaimed) == waiting
    assert status.waiting
    assert a.pending_count() == len(waiting)


@pytest.mark.parametrize(
    ("key", "make", "found", "wanted"),
    [
        ("rfi:crawl-1:requests", lambda c, k: c.set(k, "x"), "string", "zset"),
        ("rfi:crawl-1:pages", lambda c, k: c.rpush(k, "x"), "list", "hash"),
        ("rfi:crawl-1:config", lambda c, k: c.sadd(k, "x"), "set", "string"),
        ("rfi:crawl-1:exporting:a", lambda c, k: c.set(k, "x"), "string", "set"),
    ],
)
def test_a_key_of_another_type_is_named_with_its_type(
    redis_server: RedisServer, key: str, make: Callable[..., object], found: str, wanted: str
) -> None:
    a = node(redis_server, "a")
    a.check_types()  # no key yet: fine
    make(redis_server.client(), key)
    with pytest.raises(KeyTypeError) as error:
        a.check_types()
    message = str(error.value)
    assert f"Redis key {key!r} is a {found}, not the {wanted}" in message
    assert "RFI_REDIS_PREFIX" in message and "\n" not in message


def test_settings_in_redis_that_are_not_json_are_refused_in_one_line(
    redis_server: RedisServer,
) -> None:
    a = node(redis_server, "a")
    redis_server.client().set("rfi:crawl-1:config", b"\x80\x04planted")
    with pytest.raises(SharedCrawlError, match="not this project's JSON") as error:
        a.check_config({"edition": "cn"})
    assert not isinstance(error.value, KeyTypeError)
