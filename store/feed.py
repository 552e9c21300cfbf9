"""Every hub process's view of the event outbox, and its local fan-out to subscribers.

One connection per process LISTENs on the outbox's channel. PostgreSQL delivers a NOTIFY only
when the transaction that sent it commits, so a rolled-back change never wakes anyone; on each
notification (and every `poll` seconds, which also notices a lost connection) the feed reads
the events after the last one it has seen. Ids grow in commit order (store/events.py), so
after a reconnect the same read catches up exactly: no event is skipped, none is seen twice.

Subscribers register for topics ("inspector:<department>/<id>", "task:<id>", "visit:<id>")
and get their events in order on a bounded queue; one that falls `queue_size` events behind
is dropped (its stream ends with an error) rather than holding memory for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import asyncpg

from store import events
from store.events import Event, Kind
from telemetry import metrics

log = logging.getLogger(__name__)
NAME = "jsh-event-feed"  # its connection's application_name, for operators
BATCH = 1000  # events read per statement while catching up
_CLOSED = object()  # the feed stopped: streams end
_OVERFLOW = object()  # the subscriber fell too far behind


def inspector_topic(department: str, inspector_id: str) -> str:
    return "inspector:" + events.inspector_key(department, inspector_id)


def task_topic(task_id: uuid.UUID) -> str:
    return f"task:{task_id}"


def visit_topic(visit_id: uuid.UUID) -> str:
    return f"visit:{visit_id}"


def topics(e: Event) -> list[str]:
    """Where an event goes: the inspectors it concerns, its task or its visit."""
    if e.kind == Kind.ASSIGNMENT:
        return [*("inspector:" + k for k in e.inspectors), visit_topic(e.visit_id)]  # type: ignore[arg-type]
    if e.kind == Kind.VISIT_STATE:
        return [visit_topic(e.visit_id)]  # type: ignore[arg-type]
    if e.kind == Kind.TASK_PROGRESS:
        return [task_topic(e.task_id)]  # type: ignore[arg-type]
    return []


class Overflow(Exception):
    """The subscriber did not keep up with its events."""


class Closed(Exception):
    """The feed stopped (the process is shutting down)."""


class Subscriber:
    """One subscription's queue of events; iterate with `async for`."""

    __slots__ = ("_queue", "topics")

    def __init__(self, topics: tuple[str, ...], size: int) -> None:
        self.topics = topics
        self._queue: asyncio.Queue[Any] = asyncio.Queue(size + 1)  # + room for a marker

    def put(self, item: Any) -> None:
        if self._queue.full():
            return  # already marked
        if self._queue.qsize() == self._queue.maxsize - 1 and item is not _CLOSED:
            item = _OVERFLOW
        self._queue.put_nowait(item)

    async def get(self, timeout: float | None = None) -> Event | None:
        """The next event, None after `timeout` seconds; raises Overflow or Closed."""
        try:
            item = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None
        if item is _OVERFLOW:
            raise Overflow(f"more than {self._queue.maxsize - 1} events behind")
        if item is _CLOSED:
            raise Closed("the hub is shutting down")
        return item


class EventFeed:
    def __init__(self, dsn: str, poll: float = 5.0, queue_size: int = 1000) -> None:
        self.dsn = dsn
        self.poll = poll
        self.queue_size = queue_size
        self.last_id: int | None = None  # the last event handed out
        self._subs: dict[str, set[Subscriber]] = {}
        self._watchers: list[Callable[[list[Event]], None]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    # -- subscribers ------------------------------------------------------------------------
    def subscribe(self, topics: Iterable[str]) -> Subscriber:
        sub = Subscriber(tuple(topics), self.queue_size)
        for t in sub.topics:
            self._subs.setdefault(t, set()).add(sub)
        metrics.SUBSCRIBERS.inc()
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        for t in sub.topics:
            subs = self._subs.get(t)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[t]
        metrics.SUBSCRIBERS.dec()

    def watch(self, callback: Callable[[list[Event]], None]) -> None:
        """Call `callback` with every batch of new events (the delivery worker's wake-up)."""
        self._watchers.append(callback)

    # -- life -------------------------------------------------------------------------------
    async def start(self, wait: float = 2.0) -> None:
        """Start listening in the background, waiting up to `wait` seconds for the first
        connection (so that no subscription opens before the feed knows where it starts);
        a hub store that is down is retried."""
        self._task = asyncio.create_task(self._run(), name="event-feed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), wait)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for subs in list(self._subs.values()):
            for sub in subs:
                sub.put(_CLOSED)

    async def _run(self) -> None:
        backoff = 0.5
        while True:
            try:
                conn = await asyncpg.connect(self.dsn, server_settings={"application_name": NAME})
            except (OSError, asyncpg.PostgresError) as e:
                log.warning("event feed cannot connect", extra={"reason": type(e).__name__})
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)
                continue
            try:
                await conn.add_listener(events.CHANNEL, self._notified)
                if self.last_id is None:
                    self.last_id = await events.last_id(conn)
                self.connected.set()
                backoff = 0.5
                while True:
                    self._wake.clear()
                    await self._catch_up(conn)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.poll)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
                log.warning("event feed lost its connection", extra={"reason": type(e).__name__})
            except Exception as e:  # a bug must not end live updates for good
                log.error("event feed failed; reconnecting", exc_info=e)
                await asyncio.sleep(backoff)
            finally:
                self.connected.clear()
                with contextlib.suppress(Exception):
                    await asyncio.shield(conn.close(timeout=2))

    def _notified(self, *_: Any) -> None:
        self._wake.set()

    async def _catch_up(self, conn: asyncpg.Connection) -> None:
        while True:
            batch = await events.after(conn, self.last_id or 0, BATCH)
            if not batch:
                return
            self.last_id = batch[-1].id
            self._dispatch(batch)
            if len(batch) < BATCH:
                return

    def _dispatch(self, batch: list[Event]) -> None:
        now = time.time()
        for e in batch:
            if e.at is not None:
                metrics.EVENT_LAG.observe(max(0.0, now - e.at.timestamp()))
            for topic in topics(e):
                for sub in self._subs.get(topic, ()):
                    sub.put(e)
        for watcher in self._watchers:
            watcher(batch)
