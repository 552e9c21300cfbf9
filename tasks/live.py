"""The streams behind the subscriptions: one topic's events from this process's feed, resumed
after an event id the client saw last, ending when the caller's token expires.

A subscription registers on the feed before it reads what it resumes from (replayed events,
or a snapshot), and skips live events it has already given: event ids grow in commit order,
so "not after the last one given" is exactly "already given".
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from resolvers.context import RequestContext
from resolvers.errors import ApiError, bad_input
from store import events
from store import tasks as store
from store.events import Event, Kind
from store.feed import Closed, EventFeed, Overflow, inspector_topic, task_topic, visit_topic
from tasks.common import not_found, parse_id, reading
from tasks.notices import progress_data

REPLAY_MAX = 500  # a resumed subscription gets at most the newest this many missed events
VISIT_KINDS = (Kind.VISIT_STATE, Kind.ASSIGNMENT)


def _feed(ctx: RequestContext) -> EventFeed:
    return ctx.request.app.state.feed


def _after(ref: str | None) -> int | None:
    if ref is None:
        return None
    try:
        value = int(ref)
    except ValueError:
        raise bad_input(f"{ref!r} is not an event id", "INVALID_EVENT_ID") from None
    if value < 0:
        raise bad_input(f"{ref!r} is not an event id", "INVALID_EVENT_ID")
    return value


async def _stream(
    ctx: RequestContext,
    topic: str,
    kinds: Sequence[Kind],
    after: str | None,
    snapshot: Callable[[], Awaitable[Event]] | None = None,
    **where: Any,
) -> AsyncIterator[Event]:
    """`snapshot` (the state now, as of an event id) is given before live events; `after`
    replays missed ones."""
    since = _after(after)
    sub = _feed(ctx).subscribe([topic])
    try:
        first = await snapshot() if snapshot is not None else None
        last = first.id if first is not None else 0
        if since is not None:
            async with reading(ctx) as pool:
                missed = await events.replay(pool, kinds, since, REPLAY_MAX, **where)
            for e in missed:
                last = max(last, e.id)
                yield e
        if first is not None:
            yield first
        expires = ctx.principal.expires_at(ctx.request.app.state.auth.leeway)
        while True:
            wait = None if expires is None else expires - time.time()
            if wait is not None and wait <= 0:
                raise ApiError("token expired", "UNAUTHENTICATED")
            try:
                e = await sub.get(wait)
            except Overflow as o:
                raise ApiError(f"subscription dropped: {o}", "SUBSCRIBER_TOO_SLOW") from None
            except Closed:
                return
            if e is not None and e.id > last and e.kind in kinds:
                last = e.id
                yield e
    finally:
        _feed(ctx).unsubscribe(sub)


def assignments(
    ctx: RequestContext, department: str, inspector_id: str, after: str | None
) -> AsyncIterator[Event]:
    """An inspector's assignments: drawn onto a team, substituted on or off, teammates."""
    key = events.inspector_key(department, inspector_id)
    return _stream(
        ctx, inspector_topic(department, inspector_id), (Kind.ASSIGNMENT,), after, inspector=key
    )


async def task_progress(ctx: RequestContext, task_ref: str) -> AsyncIterator[Event]:
    """A task's progress: now, then at every change (the latest supersedes what was missed,
    so there is nothing to resume)."""
    task_id = parse_id(task_ref, "task")

    async def now() -> Event:
        async with reading(ctx) as pool:
            row = await events.progress_of(pool, task_id)
        if row is None:
            raise not_found("task", task_id)
        data = progress_data(row)
        return Event(Kind.TASK_PROGRESS, data, task_id, id=row["last_event"], at=datetime.now(UTC))

    async for e in _stream(ctx, task_topic(task_id), (Kind.TASK_PROGRESS,), None, now):
        yield e


async def visit_changes(
    ctx: RequestContext, visit_ref: str, after: str | None
) -> AsyncIterator[Event]:
    """A visit's state changes and team changes."""
    visit_id = parse_id(visit_ref, "visit")
    async with reading(ctx) as pool:
        if await store.get_visit(pool, visit_id) is None:
            raise not_found("visit", visit_id)
    async for e in _stream(ctx, visit_topic(visit_id), VISIT_KINDS, after, visit_id=visit_id):
        yield e
