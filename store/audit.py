"""The audit chain: every state change of a task, each entry hashed with the one before.

hash = sha256(prev_hash + canonical JSON of (task, at, actor, action, detail)); the first entry
of a task chains from sha256("task:" + id). Altering, deleting or reordering a row breaks the
chain at that row, and `verify` names it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson


def genesis(task_id: str) -> str:
    return hashlib.sha256(f"task:{task_id}".encode()).hexdigest()


def entry_hash(prev: str, task_id: str, at: datetime, actor: str, action: str, detail: Any) -> str:
    body = orjson.dumps(
        {"task": task_id, "at": at.isoformat(), "actor": actor, "action": action, "detail": detail},
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(prev.encode() + body).hexdigest()


async def append(
    conn: asyncpg.Connection, task_id: str, actor: str, action: str, detail: dict[str, Any]
) -> str:
    """Append inside the caller's transaction; the caller holds the task row lock, so the
    chain of one task never forks."""
    prev = await conn.fetchval(
        "SELECT hash FROM audit WHERE task_id = $1 ORDER BY seq DESC LIMIT 1", task_id
    )
    prev = prev or genesis(str(task_id))
    at = await conn.fetchval("SELECT date_trunc('milliseconds', clock_timestamp())")
    digest = entry_hash(prev, str(task_id), at, actor, action, detail)
    await conn.execute(
        "INSERT INTO audit (task_id, at, actor, action, detail, prev_hash, hash)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        task_id,
        at,
        actor,
        action,
        orjson.dumps(detail).decode(),
        prev,
        digest,
    )
    return digest


@dataclass(frozen=True, slots=True)
class ChainCheck:
    ok: bool
    entries: int
    first_broken_seq: int | None
    reason: str | None


async def trail(conn: asyncpg.Connection | asyncpg.Pool, task_id: str) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT * FROM audit WHERE task_id = $1 ORDER BY seq", task_id)


async def verify(conn: asyncpg.Connection | asyncpg.Pool, task_id: str) -> ChainCheck:
    rows = await trail(conn, task_id)
    prev = genesis(str(task_id))
    for row in rows:
        if row["prev_hash"] != prev:
            return ChainCheck(False, len(rows), row["seq"], "does not follow the entry before")
        detail = orjson.loads(row["detail"])
        expected = entry_hash(prev, str(task_id), row["at"], row["actor"], row["action"], detail)
        if row["hash"] != expected:
            return ChainCheck(False, len(rows), row["seq"], "content does not match its hash")
        prev = row["hash"]
    return ChainCheck(True, len(rows), None, None)
