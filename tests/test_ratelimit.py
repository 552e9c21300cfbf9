"""Sliding-window rate limits against the real Redis named by REDIS_URL.

Every key lives under a prefix unique to this run, deleted (SCAN + DEL) at the end, so concurrent
runs and other data never interfere.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from gateway.ratelimit import (
    RATES_BY_CLIENT,
    Decision,
    Rate,
    RateLimiter,
    client_key,
    fail_open_from_env,
    parse_rate,
    rates_from_env,
)

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parent.parent
RUN_PREFIX = f"test:rl:{uuid.uuid4().hex[:10]}:"


@pytest.fixture(scope="module")
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(REDIS_URL, socket_timeout=0.2, socket_connect_timeout=0.2)
    try:
        yield client
    finally:
        keys = [k async for k in client.scan_iter(match=RUN_PREFIX + "*", count=500)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture
def limiter(redis_client: aioredis.Redis, request: pytest.FixtureRequest) -> RateLimiter:
    # One prefix per test as well, so tests cannot count each other's hits.
    return RateLimiter(redis_client, prefix=f"{RUN_PREFIX}{request.node.name}:")


async def test_exactly_n_allowed_then_refused(limiter: RateLimiter) -> None:
    rate = Rate(10, 2.0)
    decisions = [await limiter.hit("officer:sub:a", rate) for _ in range(10)]
    assert all(d.allowed and not d.degraded for d in decisions)
    assert [d.remaining for d in decisions] == list(range(9, -1, -1))

    refused = await limiter.hit("officer:sub:a", rate)
    assert not refused.allowed and not refused.degraded
    assert refused.remaining == 0
    assert 0 < refused.retry_after <= 2.0
    assert refused.retry_after_header in ("1", "2")
    # Refusals are not recorded, and other clients have their own budget.
    assert (await limiter.hit("officer:sub:b", rate)).allowed


async def test_window_slides(limiter: RateLimiter) -> None:
    rate = Rate(4, 0.6)
    key = "public:ip:192.0.2.1"
    assert all([(await limiter.hit(key, rate)).allowed for _ in range(2)])
    await asyncio.sleep(0.3)
    assert all([(await limiter.hit(key, rate)).allowed for _ in range(2)])
    refused = await limiter.hit(key, rate)
    assert not refused.allowed
    # The first pair frees its slots about 0.3 s from now, the second pair 0.3 s later.
    assert 0 < refused.retry_after <= 0.3

    await asyncio.sleep(refused.retry_after + 0.05)
    # A fixed window would now allow 4; a sliding one frees only the first pair's 2 slots.
    assert [(await limiter.hit(key, rate)).allowed for _ in range(3)] == [True, True, False]


async def test_keys_expire(limiter: RateLimiter, redis_client: aioredis.Redis) -> None:
    rate = Rate(3, 0.3)
    await limiter.hit("partner:key:k1", rate)
    key = limiter.prefix + "partner:key:k1"
    assert 0 < await redis_client.pttl(key) <= 300
    await asyncio.sleep(0.35)
    assert await redis_client.exists(key) == 0


async def test_script_reloads_when_unknown_to_server(limiter: RateLimiter) -> None:
    rate = Rate(2, 5.0)
    assert (await limiter.hit("officer:sub:reload", rate)).allowed
    # As after a restart or failover to a server without the script (no SCRIPT FLUSH here: the
    # Redis is shared); EVALSHA gets NOSCRIPT and the script is loaded again.
    limiter._script.sha = "0" * 40
    decision = await limiter.hit("officer:sub:reload", rate)
    assert decision.allowed and not decision.degraded and decision.remaining == 0


# A worker process: opens its connections, says "ready", then at the wall-clock instant given on
# stdin (the same for both) fires all its hits at once and prints how many were allowed/degraded.
WORKER = """
import asyncio, sys, time
import redis.asyncio as aioredis
from gateway.ratelimit import Rate, RateLimiter

async def main(url, prefix, tries):
    client = aioredis.from_url(url, socket_timeout=2)
    limiter = RateLimiter(client, prefix=prefix, timeout=2)
    await asyncio.gather(*(client.ping() for _ in range(tries)))  # warm the pool
    print("ready", flush=True)
    start_at = float(sys.stdin.readline())
    await asyncio.sleep(start_at - time.time())
    rate = Rate(50, 30.0)
    decisions = await asyncio.gather(*(limiter.hit("partner:key:shared", rate)
                                       for _ in range(tries)))
    print(sum(d.allowed for d in decisions), sum(d.degraded for d in decisions), flush=True)
    await client.aclose()

asyncio.run(main(*sys.argv[1:3], int(sys.argv[3])))
"""


async def test_two_processes_never_exceed_limit(
    limiter: RateLimiter, redis_client: aioredis.Redis
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    pipe = asyncio.subprocess.PIPE
    args = (sys.executable, "-c", WORKER, REDIS_URL, limiter.prefix, "40")
    procs = [
        await asyncio.create_subprocess_exec(
            *args, stdin=pipe, stdout=pipe, stderr=pipe, cwd=ROOT, env=env
        )
        for _ in range(2)
    ]
    try:
        for p in procs:
            assert p.stdout is not None
            assert (await asyncio.wait_for(p.stdout.readline(), 10)).strip() == b"ready"
        start_at = f"{time.time() + 0.05}\n".encode()
        outputs = await asyncio.wait_for(
            asyncio.gather(*(p.communicate(start_at) for p in procs)), 10
        )
    finally:
        for p in procs:
            if p.returncode is None:
                p.kill()
                await p.wait()
    assert [p.returncode for p in procs] == [0, 0], outputs
    allowed, degraded = zip(*(map(int, out.split()) for out, _ in outputs), strict=True)
    assert degraded == (0, 0), outputs
    assert sum(allowed) == 50, allowed
    assert await redis_client.zcard(limiter.prefix + "partner:key:shared") == 50


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_redis_unreachable_fails_open_or_closed(caplog: pytest.LogCaptureFixture) -> None:
    client = aioredis.from_url(
        f"redis://127.0.0.1:{closed_port()}/0", socket_timeout=0.2, socket_connect_timeout=0.2
    )
    rate = Rate(5, 60.0)
    try:
        with caplog.at_level(logging.WARNING, logger="gateway.ratelimit"):
            opened = RateLimiter(client, prefix=RUN_PREFIX, fail_open=True)
            assert await opened.hit("public:ip:x", rate) == Decision(True, 5, 0.0, True)
            assert await opened.hit("public:ip:x", rate) == Decision(True, 5, 0.0, True)
            refused = await opened.hit("public:ip:x", rate, fail_open=False)
            assert refused.degraded and not refused.allowed and refused.retry_after > 0

            closed = RateLimiter(client, prefix=RUN_PREFIX, fail_open=False)
            decision = await closed.hit("public:ip:x", rate)
            assert decision.degraded and not decision.allowed and decision.retry_after > 0
    finally:
        await client.aclose()
    # Throttled: one warning per limiter per log_every, not one per request.
    warnings = [r for r in caplog.records if r.name == "gateway.ratelimit"]
    assert len(warnings) == 2


async def test_redis_hanging_times_out_degraded() -> None:
    # Accepts connections and never answers, like a Redis stuck or behind a dropped route.
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = aioredis.from_url(f"redis://127.0.0.1:{port}/0", socket_timeout=5)
    try:
        limiter = RateLimiter(client, prefix=RUN_PREFIX, timeout=0.2)
        loop = asyncio.get_running_loop()
        start = loop.time()
        decision = await limiter.hit("officer:sub:x", Rate(5, 60.0))
        # The limiter's own budget wins over the client's long socket timeout.
        assert loop.time() - start < 1.0
        assert decision.allowed and decision.degraded
    finally:
        await client.aclose()
        server.close()


def test_rates_from_env() -> None:
    assert rates_from_env({}) == RATES_BY_CLIENT
    rates = rates_from_env({"HUB_RATE_PUBLIC": "120/60", "HUB_RATE_FAIL": "closed"})
    assert rates["public"] == Rate(120, 60.0)
    assert rates["officer"] == RATES_BY_CLIENT["officer"]
    assert RATES_BY_CLIENT["public"] == Rate(60, 60.0)  # defaults untouched
    assert parse_rate(" 5/0.5 ") == Rate(5, 0.5)
    for bad in ("120", "x/60", "10/0", "-1/60", "10/abc"):
        with pytest.raises(ValueError):
            parse_rate(bad)
    kinds = [r for kind, r in RATES_BY_CLIENT.items() if kind != "auth_failures"]
    assert min(kinds, key=lambda r: r.requests / r.window_seconds) == Rate(60, 60.0)
    assert rates_from_env({"HUB_RATE_AUTH_FAILURES": "5/60"})["auth_failures"] == Rate(5, 60.0)


def test_fail_open_from_env() -> None:
    assert fail_open_from_env({}) is True
    assert fail_open_from_env({"HUB_RATE_FAIL": "Closed"}) is False
    with pytest.raises(ValueError):
        fail_open_from_env({"HUB_RATE_FAIL": "maybe"})


def test_client_key() -> None:
    assert client_key("officer", "u-17", None, "10.0.0.1") == "officer:sub:u-17"
    assert client_key("planner", "u-17", None, "10.0.0.1") == "planner:sub:u-17"
    assert client_key("partner", None, "key-3", "10.0.0.1") == "partner:key:key-3"
    assert client_key("public", None, None, "203.0.113.9") == "public:ip:203.0.113.9"
    # Missing identity falls back to the IP; IPv6 hosts are counted by /64.
    assert client_key("officer", None, None, "10.0.0.1") == "officer:ip:10.0.0.1"
    assert client_key("public", None, None, "2001:db8::1") == "public:ip:2001:db8::/64"
    assert client_key("public", None, None, "2001:db8::ffff") == "public:ip:2001:db8::/64"
    assert client_key("public", None, None, "::ffff:192.0.2.7") == "public:ip:192.0.2.7"
    assert client_key("public", None, None, "testclient") == "public:ip:testclient"
