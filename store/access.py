"""API keys, registered (persisted) operations and the access log, in the hub store."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

KEY_PREFIX = "jsh"


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


async def log_access(pool: asyncpg.Pool, entry: dict[str, Any]) -> None:
    await pool.execute(
        "INSERT INTO access_log (request_id, client_kind, subject, department, operation,"
        " entities, departments) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        entry["request_id"],
        entry["client_kind"],
        entry["subject"],
        entry["department"],
        entry["operation"],
        entry["entities"],
        entry["departments"],
    )


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
