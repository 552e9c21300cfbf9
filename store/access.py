"""API keys, registered (persisted) operations and the access log, in the hub store."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

KEY_PREFIX = "jsh"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    owner: str
    scopes: frozenset[str]
    revoked_at: datetime | None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_key(pool: asyncpg.Pool, owner: str, scopes: Sequence[str]) -> str:
    """A new key, returned once in full (jsh_<id>_<secret>); only its hash is stored."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(24)
    await pool.execute(
        "INSERT INTO api_key (id, secret_hash, owner, scopes) VALUES ($1, $2, $3, $4)",
        key_id,
        _digest(secret),
        owner,
        list(scopes),
    )
    return f"{KEY_PREFIX}_{key_id}_{secret}"


async def revoke_key(pool: asyncpg.Pool, key_id: str) -> bool:
    status = await pool.execute(
        "UPDATE api_key SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", key_id
    )
    return status.endswith("1")


async def check_key(pool: asyncpg.Pool, presented: str) -> ApiKey | None:
    """The key if the secret matches (compared in constant time), else None."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    row = await pool.fetchrow("SELECT * FROM api_key WHERE id = $1", parts[1])
    if row is None or not hmac.compare_digest(row["secret_hash"], _digest(parts[2])):
        return None
    return ApiKey(row["id"], row["owner"], frozenset(row["scopes"]), row["revoked_at"])


def document_hash(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


async def register_operation(
    pool: asyncpg.Pool, name: str, document: str, scopes: Sequence[str]
) -> str:
    digest = document_hash(document)
    await pool.execute(
        "INSERT INTO persisted_operation (sha256, name, document, scopes) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (sha256) DO UPDATE SET name = EXCLUDED.name, scopes = EXCLUDED.scopes",
        digest,
        name,
        document,
        list(scopes),
    )
    return digest


async def operation(pool: asyncpg.Pool, digest: str) -> asyncpg.Record | None:
    return await pool.fetchrow("SELECT * FROM persisted_operation WHERE sha256 = $1", digest)


async def log_access(pool: asyncpg.Pool, entries: list[dict[str, Any]]) -> None:
    """Entries (request_id, client_kind, subject, department, operation, entities,
    departments) in one statement."""
    await pool.execute(
        "INSERT INTO access_log (request_id, client_kind, subject, department, operation,"
        " entities, departments) SELECT * FROM jsonb_to_recordset($1::jsonb) AS e("
        "request_id text, client_kind text, subject text, department text, operation text,"
        " entities text[], departments text[])",
        orjson.dumps(entries).decode(),
    )


class AccessLogWriter:
    """Group commit: the entries of requests that finish while a write is under way go in
    together with the next write, and each request still returns only once its entry is
    stored (or the write has failed, which the caller logs)."""

    def __init__(self, pool: Callable[[], asyncpg.Pool], merge_every: int = 1000) -> None:
        self._pool = pool
        self._queue: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._writing: asyncio.Future[None] | None = None
        self._merge_every = merge_every
        self._unmerged = 0
        self._merging: asyncio.Task[None] | None = None

    async def write(self, entry: dict[str, Any]) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((entry, done))
        if self._writing is None:
            self._writing = asyncio.ensure_future(self._drain())
        await done

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    await log_access(self._pool(), [entry for entry, _ in batch])
                except Exception as e:  # each waiting request reports it
                    for _, done in batch:
                        done.set_exception(e)
                else:
                    for _, done in batch:
                        done.set_result(None)
                    self._count(len(batch))
        finally:
            self._writing = None

    # The entity index takes new entries on its pending list (cheap appends); merged in bulk
    # they cost a fraction of inserting each. Vacuum merges them where autovacuum runs; the
    # writer does not count on it: every `merge_every` rows it merges them itself, in the
    # background, before the list fills up and the insert that overflows it has to.
    def _count(self, rows: int) -> None:
        self._unmerged += rows
        if self._unmerged >= self._merge_every and self._merging is None:
            self._unmerged = 0
            self._merging = asyncio.create_task(self._merge())

    async def _merge(self) -> None:
        try:
            await self._pool().execute(
                "SELECT gin_clean_pending_list('access_log_entities'::regclass)"
            )
        except Exception as e:  # the next merge, or an overflowing insert, takes them
            log.warning("access-log index not merged", extra={"reason": type(e).__name__})
        finally:
            self._merging = None


async def read_log(
    pool: asyncpg.Pool, department: str | None, uscc: str | None, limit: int
) -> list[asyncpg.Record]:
    """Who read this department's data (or this entity's record), newest first."""
    return await pool.fetch(
        "SELECT * FROM access_log WHERE ($1::text IS NULL OR $1 = ANY(departments))"
        " AND ($2::text IS NULL OR $2 = ANY(entities)) ORDER BY at DESC, id DESC LIMIT $3",
        department,
        uscc,
        limit,
    )
