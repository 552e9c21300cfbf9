"""Issue 11, item 4: a hung Redis (SIGSTOPped: connections accepted, nothing answered) costs
a read at most tens of milliseconds and a cache miss; the Redis breaker opens, so later
calls cost nothing; rate limits follow their fail-open/closed setting within the same bound;
SIGCONT brings caching back.

Each test starts a redis-server of its own on a free port: the machine's Redis is never
stopped.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from adapters.redis_client import TIMEOUT_ENV
from tests.conftest import Hub
from tests.test_partial import own_hub
from tests.test_resilience import ENTITY, _free_port, _redis

BOUND = 0.3  # seconds per read: generous, the machine is shared; the timeouts are 50 ms


@asynccontextmanager
async def hub_on_own_redis(settings, tmp_path) -> AsyncIterator[tuple[Hub, subprocess.Popen]]:
    """A hub with the default Redis bound (the suite raises it, see conftest)."""
    port = _free_port()
    redis = _redis(port, str(tmp_path))
    own = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{port}/0", cache=True)
    raised = os.environ.pop(TIMEOUT_ENV, None)
    try:
        async with own_hub(own) as hub:
            yield hub, redis
    finally:
        if raised is not None:
            os.environ[TIMEOUT_ENV] = raised
        os.kill(redis.pid, signal.SIGCONT)
        redis.terminate()
        redis.wait()


def _cache_hits(metrics: str) -> float:
    match = re.search(r'^jsh_cache_total\{result="hit"\} (\S+)$', metrics, re.M)
    return float(match.group(1)) if match else 0.0


async def _timed(hub: Hub, uscc: str) -> tuple[float, dict]:
    start = time.perf_counter()
    body = await hub.gql(ENTITY, {"u": uscc})
    return time.perf_counter() - start, body


async def test_hung_redis_costs_a_read_tens_of_ms_and_opens_the_breaker(
    settings, seeded, tmp_path
) -> None:
    async with hub_on_own_redis(settings, tmp_path) as (hub, redis):
        assert hub.app.state.redis.budget == 0.05
        await hub.gql(ENTITY, {"u": seeded.sample_uscc})  # cached
        os.kill(redis.pid, signal.SIGSTOP)
        try:
            timings = []
            for _ in range(8):
                elapsed, body = await _timed(hub, seeded.sample_uscc)
                assert body["data"]["entity"]["name"] and "errors" not in body, body
                timings.append(elapsed)
            print(f"reads with Redis hung: {', '.join(f'{t * 1000:.0f}' for t in timings)} ms")
            assert max(timings) < BOUND, timings
            breaker = hub.app.state.redis_breaker
            assert breaker.state == "OPEN"
            metrics = (await hub.client.get("/metrics")).text
            assert 'jsh_redis_breaker_state{server="redis"} 2.0' in metrics
            ready = (await hub.client.get("/readyz")).json()
            assert ready["redis"].startswith("DOWN")
        finally:
            os.kill(redis.pid, signal.SIGCONT)
        # Back: after the pause the next call probes, succeeds, and caching resumes.
        await asyncio.sleep(breaker.reset_seconds + 0.1)
        await hub.gql(ENTITY, {"u": seeded.sample_uscc})
        assert breaker.state == "CLOSED"
        before = _cache_hits((await hub.client.get("/metrics")).text)
        await hub.gql(ENTITY, {"u": seeded.sample_uscc})
        assert _cache_hits((await hub.client.get("/metrics")).text) > before


async def test_hung_redis_rate_limits_follow_their_fail_setting_within_the_bound(
    settings, seeded, tmp_path
) -> None:
    async with hub_on_own_redis(settings, tmp_path) as (hub, redis):
        os.kill(redis.pid, signal.SIGSTOP)
        limiter = hub.app.state.rate_limiter
        for fail_open, status in ((True, 200), (False, 429)):
            limiter.fail_open = fail_open
            for _ in range(4):
                start = time.perf_counter()
                r = await hub.client.post("/graphql", json={"query": "{ __typename }"})
                assert time.perf_counter() - start < BOUND
                assert r.status_code == status, r.text
        assert r.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert int(r.headers["retry-after"]) >= 1
