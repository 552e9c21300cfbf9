"""Idempotency keys: a retried mutation gets its first answer again, within one transaction.

A key belongs to the actor who sent it (its kind and subject): the same key string from
another actor is another key, so nobody ever receives an answer stored for someone else.
"""

from __future__ import annotations

import hashlib
from typing import Any

import asyncpg
import orjson


class KeyReused(Exception):
    """The key was used before with a different input."""

    def __init__(self, key: str, operation: str) -> None:
        super().__init__(f"idempotency key {key!r} was already used for a different {operation}")
        self.key = key


def request_hash(operation: str, payload: Any) -> str:
    body = orjson.dumps({"op": operation, "input": payload}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()


async def lookup(
    conn: asyncpg.Connection, actor: str, key: str, operation: str, payload: Any
) -> dict[str, Any] | None:
    """The answer stored for this actor's key, None if new. Takes a transaction-scoped lock
    on the actor's key so that two concurrent retries run one after the other."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(10) || $2, 42))", actor, key
    )
    row = await conn.fetchrow(
        "SELECT operation, request_hash, response FROM idempotency WHERE actor = $1 AND key = $2",
        actor,
        key,
    )
    if row is None:
        return None
    if row["operation"] != operation or row["request_hash"] != request_hash(operation, payload):
        raise KeyReused(key, operation)
    return orjson.loads(row["response"])


async def remember(
    conn: asyncpg.Connection, actor: str, key: str, operation: str, payload: Any, response: Any
) -> None:
    await conn.execute(
        "INSERT INTO idempotency (actor, key, operation, request_hash, response)"
        " VALUES ($1, $2, $3, $4, $5)",
        actor,
        key,
        operation,
        request_hash(operation, payload),
        orjson.dumps(response).decode(),
    )
