"""Delivery state of the outbox per consumer: lease what is due, record the outcome, list and
replay dead letters.

A consumer is named "credit" or "webhook:<id>"; where a function takes `consumer` it also
accepts the part before the colon ("webhook": every webhook). A worker leases rows in a short
transaction (FOR UPDATE SKIP LOCKED: two processes never lease the same row), delivers with
no transaction open, then records the outcome. A lease that runs out (the process died)
makes the row due again: delivery is at least once, and every consumer deduplicates by
event id.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from store.events import Event, from_row

_MATCH = "($1::text IS NULL OR d.consumer = $1 OR starts_with(d.consumer, $1 || ':'))"


@dataclass(frozen=True, slots=True)
class Delivery:
    event: Event
    consumer: str
    attempts: int  # made before this one


async def lease(
    pool: asyncpg.Pool,
    consumer: str | None,
    limit: int,
    lease_seconds: float,
    *,
    due_only: bool = True,
) -> list[Delivery]:
    """Lease up to `limit` undelivered rows (due ones, or all with due_only=False) for
    `lease_seconds`, oldest first."""
    rows = await pool.fetch(
        "WITH due AS (SELECT d.event_id, d.consumer FROM event_delivery d"
        "  WHERE d.delivered_at IS NULL AND d.dead_at IS NULL"
        f"  AND {_MATCH} AND (NOT $3 OR d.next_at <= now())"
        "  AND (d.leased_until IS NULL OR d.leased_until < now())"
        "  ORDER BY d.next_at, d.event_id LIMIT $2 FOR UPDATE SKIP LOCKED)"
        " UPDATE event_delivery d SET leased_until = now() + make_interval(secs => $4)"
        " FROM due, event e WHERE d.event_id = due.event_id AND d.consumer = due.consumer"
        " AND e.id = d.event_id"
        " RETURNING d.consumer, d.attempts, e.id, e.at, e.kind, e.task_id, e.visit_id,"
        " e.departments, e.inspectors, e.data",
        consumer,
        limit,
        due_only,
        lease_seconds,
    )
    out = [Delivery(from_row(r), r["consumer"], r["attempts"]) for r in rows]
    return sorted(out, key=lambda d: d.event.id)


async def delivered(pool: asyncpg.Pool, d: Delivery) -> None:
    await pool.execute(
        "UPDATE event_delivery SET delivered_at = now(), leased_until = NULL,"
        " attempts = attempts + 1, last_error = NULL WHERE event_id = $1 AND consumer = $2",
        d.event.id,
        d.consumer,
    )


async def failed(pool: asyncpg.Pool, d: Delivery, error: str, retry_in: float | None) -> None:
    """An attempt failed: due again in `retry_in` seconds, or a dead letter when None."""
    await pool.execute(
        "UPDATE event_delivery SET attempts = attempts + 1, last_error = $3, leased_until = NULL,"
        " next_at = now() + make_interval(secs => coalesce($4, 0)),"
        " dead_at = CASE WHEN $4::float8 IS NULL THEN now() END"
        " WHERE event_id = $1 AND consumer = $2",
        d.event.id,
        d.consumer,
        error[:500],
        retry_in,
    )


async def postpone(pool: asyncpg.Pool, ds: list[Delivery], seconds: float) -> None:
    """Give leased rows back unattempted, due in `seconds` (their consumer is known down)."""
    await pool.execute(
        "UPDATE event_delivery d SET leased_until = NULL,"
        " next_at = now() + make_interval(secs => $3)"
        " FROM unnest($1::bigint[], $2::text[]) AS x(event_id, consumer)"
        " WHERE d.event_id = x.event_id AND d.consumer = x.consumer",
        [d.event.id for d in ds],
        [d.consumer for d in ds],
        seconds,
    )


async def dead(pool: asyncpg.Pool, consumer: str | None, limit: int = 100) -> list[asyncpg.Record]:
    """Dead letters, newest first: consumer, event, attempts, the last error."""
    return await pool.fetch(
        "SELECT d.consumer, d.event_id, d.attempts, d.dead_at, d.last_error, e.kind, e.at,"
        " e.task_id, e.visit_id FROM event_delivery d JOIN event e ON e.id = d.event_id"
        f" WHERE d.dead_at IS NOT NULL AND {_MATCH} ORDER BY d.dead_at DESC, d.event_id DESC"
        " LIMIT $2",
        consumer,
        limit,
    )


async def replay(pool: asyncpg.Pool, consumer: str | None, event_id: int | None = None) -> int:
    """Make dead letters due again with a fresh count of attempts; returns how many."""
    status = await pool.execute(
        "UPDATE event_delivery d SET dead_at = NULL, attempts = 0, next_at = now(),"
        " last_error = NULL"
        f" WHERE d.dead_at IS NOT NULL AND {_MATCH} AND ($2::bigint IS NULL OR d.event_id = $2)",
        consumer,
        event_id,
    )
    return int(status.split()[-1])


async def backlog(pool: asyncpg.Pool) -> dict[str, tuple[int, int]]:
    """Per consumer kind ("credit", "webhook"): (pending, dead)."""
    rows = await pool.fetch(
        "SELECT split_part(consumer, ':', 1) AS kind,"
        " count(*) FILTER (WHERE dead_at IS NULL) AS pending,"
        " count(*) FILTER (WHERE dead_at IS NOT NULL) AS dead"
        " FROM event_delivery WHERE delivered_at IS NULL GROUP BY 1"
    )
    return {r["kind"]: (r["pending"], r["dead"]) for r in rows}
