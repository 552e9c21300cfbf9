"""The hub's Redis clients: every command bounded to tens of milliseconds, every client of
one process behind one circuit breaker.

Redis answers in well under a millisecond, so a command that takes tens of milliseconds is
a Redis in trouble. A stopped Redis refuses connections at once; a hung one (overloaded,
paused, a network that drops packets) accepts them and never answers: with redis-py's
defaults each read then waited seconds. Here a command — the wait for a pooled connection,
connecting, sending, the reply — gets HUB_REDIS_TIMEOUT_MS (50 ms), nothing is retried, and
after two failures in a row the breaker opens: commands are refused at once (a cache miss,
the rate limiter's fail-open/closed answer) while a background PING probes Redis every
second; the first answer closes the breaker. No request ever waits on a probe.

The 50 ms count time the hub spent waiting for Redis, not time it spent working. When the
hub itself is busy (a burst, a worker's first requests) its event loop reads a reply late; a
plain timer would blame Redis, open its breaker, and let a flood switch the rate limits off
(fail-open). So the deadline leaves out the CPU time the loop's thread used meanwhile and how
late the loop was, up to five budgets in all; redis-py's own socket timeouts stay as a
backstop at that outer bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from adapters.breaker import REDIS, BreakerState, CircuitBreaker

TIMEOUT_ENV = "HUB_REDIS_TIMEOUT_MS"
# What says Redis is unwell; a reply error (a wrong type, a script not loaded) is an answer.
_FAILURES = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class RedisUnavailable(redis.exceptions.ConnectionError):
    """The circuit is open: the command was not sent."""


def timeout_from_env() -> float:
    """Seconds; HUB_REDIS_TIMEOUT_MS, default 50."""
    value = os.environ.get(TIMEOUT_ENV, "50")
    try:
        ms = float(value)
    except ValueError:
        raise ValueError(f"{TIMEOUT_ENV} must be milliseconds, not {value!r}") from None
    if not ms > 0:
        raise ValueError(f"{TIMEOUT_ENV} must be positive, not {value!r}")
    return ms / 1000


_NOISE = 0.1  # of a budget: timer slack, not lateness
_MAX_STRETCH = 5  # a command never takes longer than this many budgets, however late the loop


@contextlib.asynccontextmanager
async def deadline(budget: float) -> AsyncIterator[None]:
    """asyncio.timeout(budget) for time spent waiting: at the deadline, the CPU time this
    thread used since the start, and how late the checks ran, do not count; if what is left
    is under the budget, the deadline moves on by the difference (never past _MAX_STRETCH
    budgets)."""
    loop = asyncio.get_running_loop()
    start, cpu = loop.time(), time.thread_time()
    late = 0.0
    async with asyncio.timeout_at(start + _MAX_STRETCH * budget) as bound:

        def check(due: float) -> None:
            nonlocal handle, late
            now = loop.time()
            if now - due > _NOISE * budget:  # the loop's own timer slack is not lateness
                late += now - due
            waited = (now - start) - (time.thread_time() - cpu) - late
            if waited < (1 - _NOISE) * budget:
                handle = loop.call_at(now + budget - waited, check, now + budget - waited)
            else:
                bound.reschedule(now)  # expires on the loop's next turn

        handle = loop.call_at(start + budget, check, start + budget)
        try:
            yield
        finally:
            handle.cancel()


def breaker() -> CircuitBreaker:
    return CircuitBreaker("redis", failure_threshold=2, reset_seconds=1.0, reports=REDIS)


class GuardedRedis(aioredis.Redis):
    """redis-py's asyncio client whose every command (scripts, reads, writes) goes through
    the breaker and a hard time bound."""

    def __init__(self, *, breaker: CircuitBreaker, budget: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.breaker = breaker
        self.budget = budget
        self._prober: asyncio.Task[None] | None = None

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        if self.breaker.state != BreakerState.CLOSED:
            self._keep_probing()
            raise RedisUnavailable(f"circuit open; probing every {self.breaker.reset_seconds:g}s")
        return await self._judged(*args, **options)

    async def probe(self) -> None:
        """PING whatever the breaker says (readiness checks ask Redis itself); an answer
        closes the breaker."""
        await self._judged("PING")

    def _keep_probing(self) -> None:
        if self._prober is None or self._prober.done():
            self._prober = asyncio.get_running_loop().create_task(self._probe_until_closed())

    async def _probe_until_closed(self) -> None:
        while self.breaker.state != BreakerState.CLOSED:
            await asyncio.sleep(self.breaker.retry_in())
            with contextlib.suppress(Exception):  # the breaker has recorded the failure
                await self.probe()

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        if self._prober is not None:
            self._prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prober
        await super().aclose(close_connection_pool)

    async def _judged(self, *args: Any, **options: Any) -> Any:
        start = time.perf_counter()
        try:
            async with deadline(self.budget):
                result = await super().execute_command(*args, **options)
        except redis.exceptions.ResponseError:
            self.breaker.success(time.perf_counter() - start)
            raise
        except _FAILURES as e:  # asyncio's TimeoutError is an OSError
            self.breaker.failure(type(e).__name__)
            raise
        except BaseException:
            self.breaker.release()
            raise
        self.breaker.success(time.perf_counter() - start)
        return result


def connect(
    url: str, shared: CircuitBreaker, timeout: float, max_connections: int = 64
) -> GuardedRedis:
    """A client with its own pool whose commands each get `timeout` (see `deadline`)."""
    backstop = _MAX_STRETCH * timeout
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=backstop,
        socket_timeout=backstop,
        socket_connect_timeout=backstop,
        retry=Retry(NoBackoff(), 0),
    )
    return GuardedRedis(connection_pool=pool, breaker=shared, budget=timeout)
