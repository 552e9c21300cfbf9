"""Department webhooks in the hub store: registered, listed, removed (kept, marked removed,
so that their deliveries and dead letters stay readable)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

COLUMNS = "id, department, url, kinds, secret, created_by, created_at, removed_at"


async def insert(
    pool: asyncpg.Pool,
    department: str,
    url: str,
    kinds: Sequence[str],
    sealed_secret: bytes,
    created_by: str,
) -> asyncpg.Record:
    return await pool.fetchrow(
        f"INSERT INTO webhook (id, department, url, kinds, secret, created_by)"
        f" VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}",
        uuid.uuid4(),
        department,
        url,
        list(kinds),
        sealed_secret,
        created_by,
    )


async def get(pool: asyncpg.Pool, webhook_id: uuid.UUID) -> asyncpg.Record | None:
    return await pool.fetchrow(f"SELECT {COLUMNS} FROM webhook WHERE id = $1", webhook_id)


async def listed(pool: asyncpg.Pool, department: str | None) -> list[asyncpg.Record]:
    """Active webhooks (of one department), oldest first."""
    return await pool.fetch(
        f"SELECT {COLUMNS} FROM webhook WHERE removed_at IS NULL"
        " AND ($1::text IS NULL OR department = $1) ORDER BY created_at, id",
        department,
    )


async def remove(pool: asyncpg.Pool, webhook_id: uuid.UUID) -> bool:
    """Stop matching new events; undelivered rows of it become dead letters (replayable)."""
    async with pool.acquire() as conn, conn.transaction():
        done = await conn.fetchval(
            "UPDATE webhook SET removed_at = now() WHERE id = $1 AND removed_at IS NULL"
            " RETURNING true",
            webhook_id,
        )
        if done:
            await conn.execute(
                "UPDATE event_delivery SET dead_at = now(), last_error = 'webhook removed'"
                " WHERE consumer = $1 AND delivered_at IS NULL AND dead_at IS NULL",
                f"webhook:{webhook_id}",
            )
    return bool(done)
