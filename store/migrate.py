"""Versioned migrations of the hub store: files NNNN_name.sql, applied once, in order."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from pathlib import Path

import asyncpg

MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK = 4_216_001  # advisory lock: two workers starting together apply each migration once

log = logging.getLogger(__name__)


def migrations() -> list[tuple[int, str, str]]:
    out = []
    for path in sorted(MIGRATIONS.glob("*.sql")):
        version = int(path.name.split("_", 1)[0])
        out.append((version, path.name, path.read_text()))
    return out


async def ensure_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            if not name.replace("_", "").isalnum():
                raise ValueError(f"unsafe database name {name!r}")
            # Another worker may make it first.
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def migrate(dsn: str, upto: int | None = None) -> list[str]:
    """Apply pending migrations (up to version `upto` when given); return the names applied.
    A changed applied file is an error."""
    conn = await asyncpg.connect(dsn)
    applied: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
            " name text NOT NULL, sha256 text NOT NULL, applied_at timestamptz DEFAULT now())"
        )
        done = {r["version"]: r for r in await conn.fetch("SELECT * FROM schema_migrations")}
        for version, name, sql in migrations():
            if upto is not None and version > upto:
                break
            digest = hashlib.sha256(sql.encode()).hexdigest()
            if version in done:
                if done[version]["sha256"] != digest:
                    raise RuntimeError(f"migration {name} changed after it was applied")
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, sha256) VALUES ($1, $2, $3)",
                    version,
                    name,
                    digest,
                )
            applied.append(name)
            log.info("migration applied", extra={"migration": name})
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK)
        await conn.close()
    return applied
