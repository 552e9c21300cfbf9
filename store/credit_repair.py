"""SQL of credit-repair applications in the hub store. Callers pass a connection inside their
transaction (or the pool, for reads)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg

COLUMNS = "r.*"  # delivered_at: when an approval reached the credit platform


class AlreadyOpen(Exception):
    """The record has a pending or an approved repair already."""


async def insert(conn: asyncpg.Connection, repair: dict[str, Any]) -> None:
    names = list(repair)
    marks = ", ".join(f"${i}" for i in range(1, len(names) + 1))
    try:
        await conn.execute(
            f"INSERT INTO credit_repair ({', '.join(names)}) VALUES ({marks})",
            *repair.values(),
        )
    except asyncpg.UniqueViolationError:
        raise AlreadyOpen(repair["record_id"]) from None


async def get(conn: asyncpg.Connection | asyncpg.Pool, repair_id: uuid.UUID) -> Any:
    return await conn.fetchrow(f"SELECT {COLUMNS} FROM credit_repair r WHERE id = $1", repair_id)


async def lock(conn: asyncpg.Connection, repair_id: uuid.UUID) -> Any:
    return await conn.fetchrow("SELECT * FROM credit_repair WHERE id = $1 FOR UPDATE", repair_id)


async def decide(
    conn: asyncpg.Connection,
    repair_id: uuid.UUID,
    approve: bool,
    actor: str,
    on: date,
    comment: str,
    share_by: date | None,
    share_by_provisional: bool | None,
) -> None:
    await conn.execute(
        "UPDATE credit_repair SET state = $2, reviewed_by = $3, reviewed_on = $4,"
        " review_comment = $5, share_by = $6, share_by_provisional = $7 WHERE id = $1",
        repair_id,
        "APPROVED" if approve else "REJECTED",
        actor,
        on,
        comment,
        share_by,
        share_by_provisional,
    )


async def delivered(pool: asyncpg.Pool, repair_id: uuid.UUID) -> None:
    """The approval reached the credit platform (the delivery worker says so)."""
    await pool.execute(
        "UPDATE credit_repair SET delivered_at = coalesce(delivered_at, now()) WHERE id = $1",
        repair_id,
    )


async def listed(
    pool: asyncpg.Pool,
    states: Sequence[str] | None,
    uscc: str | None,
    limit: int,
    offset: int,
) -> list[Any]:
    """Applications, those due first (pending ones by review deadline)."""
    return await pool.fetch(
        f"SELECT {COLUMNS} FROM credit_repair r"
        " WHERE ($1::text[] IS NULL OR state = ANY($1)) AND ($2::text IS NULL OR uscc = $2)"
        " ORDER BY review_due, created_at, id LIMIT $3 OFFSET $4",
        list(states) if states else None,
        uscc,
        limit,
        offset,
    )
