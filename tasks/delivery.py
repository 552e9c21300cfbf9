"""The delivery worker: takes what the outbox owes each consumer (the credit platform, department
webhooks) and delivers it, with retries and dead letters.

It runs in every hub process (started and stopped with the app). Each round leases due rows
(store/deliveries.py: FOR UPDATE SKIP LOCKED, so two processes never take the same row),
delivers them with no transaction open, and records the outcome. Per consumer the rows go in
event order; when one fails the rest of that consumer's batch waits with it (a receiver that
is down is tried once per round, not once per event). A failed attempt is retried after an
exponential backoff with jitter; after `max_attempts` it becomes a dead letter, which an
operator lists and replays (`hub webhook dead|replay`, `hub deliver-credit --dead|--replay`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg

from store import deliveries, events
from store.deliveries import Delivery
from store.events import CREDIT
from telemetry import metrics

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """An attempt that did not reach its consumer; `final` ones are not retried."""

    def __init__(self, reason: str, final: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.final = final


Handler = Callable[[Delivery], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Policy:
    max_attempts: int = 12  # then a dead letter: a webhook receiver gets about an hour
    credit_attempts: int = 32  # credit feedback waits out a longer outage: about a day
    backoff: float = 2.0  # seconds before the second attempt, doubling after each failure
    backoff_max: float = 3600.0
    lease: float = 60.0  # a delivery taking longer is given to another worker
    batch: int = 100
    concurrency: int = 8  # consumers delivered to at once
    poll: float = 1.0  # seconds between looks for due retries when nothing wakes the worker
    retention_days: int = 30  # delivered events older than this are pruned

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Policy:
        env = dict(os.environ if env is None else env)
        return cls(
            max_attempts=max(1, int(env.get("HUB_DELIVERY_MAX_ATTEMPTS", "12"))),
            credit_attempts=max(1, int(env.get("HUB_CREDIT_MAX_ATTEMPTS", "32"))),
            backoff=float(env.get("HUB_DELIVERY_BACKOFF", "2")),
            backoff_max=float(env.get("HUB_DELIVERY_BACKOFF_MAX", "3600")),
            retention_days=int(env.get("HUB_EVENT_RETENTION_DAYS", "30")),
        )

    def retry_in(self, consumer_kind: str, attempts: int) -> float | None:
        """Seconds until the next try after `attempts` failed ones (None: give up).
        Exponential, with "equal jitter": half fixed, half random, so that receivers that come
        back are not hit by every hub process at the same instant."""
        limit = self.credit_attempts if consumer_kind == CREDIT else self.max_attempts
        if attempts >= limit:
            return None
        ceiling = min(self.backoff_max, self.backoff * 2 ** (attempts - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


@dataclass
class Round:
    leased: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


class DeliveryWorker:
    def __init__(
        self,
        pool: Callable[[], asyncpg.Pool],
        handlers: dict[str, Handler],
        policy: Policy | None = None,
    ) -> None:
        """`handlers` by consumer kind: "credit", "webhook" (the part before the colon)."""
        self._pool = pool
        self.handlers = handlers
        self.policy = policy or Policy()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._paused = False

    def wake(self, *_: object) -> None:
        """New events were committed: look now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="delivery-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        pruned = 0.0
        while True:
            self._wake.clear()
            try:
                while (await self.run_once()).leased == self.policy.batch:
                    pass  # a full batch: more may be due
                if time.monotonic() - pruned > 3600:
                    pruned = time.monotonic()
                    await events.prune(self._pool(), self.policy.retention_days)
                if self._paused:
                    log.info("deliveries resumed")
                    self._paused = False
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
                if not self._paused:  # once per outage, not once per poll
                    log.warning("deliveries paused: hub store", extra={"reason": type(e).__name__})
                    self._paused = True
            except Exception as e:  # a bug must not stop deliveries for good
                log.error("delivery round failed", exc_info=e)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.policy.poll)

    async def run_once(self, consumer: str | None = None, due_only: bool = True) -> Round:
        """One round: lease up to a batch of rows and deliver them. `consumer` narrows it
        ("credit", "webhook", "webhook:<id>"); due_only=False ignores backoff (deliver now)."""
        p = self.policy
        leased = await deliveries.lease(self._pool(), consumer, p.batch, p.lease, due_only=due_only)
        by_consumer: dict[str, list[Delivery]] = {}
        for d in leased:
            by_consumer.setdefault(d.consumer, []).append(d)
        outcome = Round(leased=len(leased))
        gate = asyncio.Semaphore(p.concurrency)

        async def one_consumer(rows: list[Delivery]) -> None:
            async with gate:
                await self._deliver_in_order(rows, outcome)

        await asyncio.gather(*(one_consumer(rows) for rows in by_consumer.values()))
        return outcome

    async def _deliver_in_order(self, rows: list[Delivery], outcome: Round) -> None:
        pool = self._pool()
        kind = rows[0].consumer.split(":", 1)[0]
        handler = self.handlers.get(kind)
        for i, d in enumerate(rows):
            try:
                if handler is None:
                    raise DeliveryFailed(f"no handler for {kind!r} in this process")
                await handler(d)
            except DeliveryFailed as e:
                retry = None if e.final else self.policy.retry_in(kind, d.attempts + 1)
                await deliveries.failed(pool, d, e.reason, retry)
                outcome.errors.append(e.reason)
                if retry is None:
                    outcome.dead += 1
                    metrics.DELIVERIES.labels(kind, "dead").inc()
                    log.warning(
                        "dead letter",
                        extra={"consumer": d.consumer, "event": d.event.id, "reason": e.reason},
                    )
                    continue  # the next ones go on
                outcome.failed += 1
                metrics.DELIVERIES.labels(kind, "retry").inc()
                # The consumer is failing: the rest of its batch waits with this one.
                if rows[i + 1 :]:
                    await deliveries.postpone(pool, rows[i + 1 :], retry)
                return
            await deliveries.delivered(pool, d)
            outcome.delivered += 1
            metrics.DELIVERIES.labels(kind, "delivered").inc()
