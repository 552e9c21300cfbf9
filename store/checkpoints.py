"""Signed checkpoints of the audit log: after each entry the hub signs (entry count, head
hash) of the task's trail and of the whole log, with its Ed25519 key.

The signed message is UTF-8 text, five lines joined by "\\n" (no trailing newline):

    jsh-audit-checkpoint v1
    scope <task id | log>
    count <entries covered>
    head <hex hash of the last of them>
    signed-at <signedAt exactly as published, ISO 8601 in UTC>

Checkpoints are public: anyone may keep them, and a kept one later proves whether the trail
still holds what it covered.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from store import signing

LOG = "log"  # the scope of the whole log's checkpoints (a task's scope is its id)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    scope: str
    count: int
    head: str
    signed_at: str  # ISO 8601, exactly as signed
    public_key: str  # base64 of the raw Ed25519 public key
    signature: str  # base64

    def message(self) -> bytes:
        return message(self.scope, self.count, self.head, self.signed_at)

    def valid(self, trusted: frozenset[str]) -> str | None:
        """Why this checkpoint cannot be trusted, or None when it can."""
        if self.public_key not in trusted:
            return "is signed by a key the hub does not trust"
        if not signing.verify(self.public_key, self.message(), self.signature):
            return "has a signature that does not verify"
        return None

    def public(self) -> dict[str, Any]:
        """The published form (what auditCheckpoint answers and what a kept file holds)."""
        return {
            "taskId": None if self.scope == LOG else self.scope,
            "count": self.count,
            "headHash": self.head,
            "signature": self.signature,
            "publicKey": self.public_key,
            "signedAt": self.signed_at,
        }


def message(scope: str, count: int, head: str, signed_at: str) -> bytes:
    return (
        f"jsh-audit-checkpoint v1\nscope {scope}\ncount {count}\nhead {head}\nsigned-at {signed_at}"
    ).encode()


def signed_at_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


class BadCheckpoint(ValueError):
    """A kept checkpoint file that is not a checkpoint."""


def from_public(data: Mapping[str, Any], scope: str | None = None) -> Checkpoint:
    """A checkpoint as published (a kept file): the object itself, or a whole GraphQL answer
    holding it under data.auditCheckpoint / data.auditLogCheckpoint."""
    if isinstance(data.get("data"), Mapping):
        inner = data["data"]
        data = inner.get("auditCheckpoint") or inner.get("auditLogCheckpoint") or {}
    try:
        task = data.get("taskId")
        if int(data["count"]) < 1:
            raise ValueError("count must be at least 1")
        return Checkpoint(
            scope=str(uuid.UUID(str(task))) if task else (scope or LOG),
            count=int(data["count"]),
            head=str(data["headHash"]),
            signed_at=str(data["signedAt"]),
            public_key=str(data["publicKey"]),
            signature=str(data["signature"]),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise BadCheckpoint(
            "not a checkpoint: expected count, headHash, signature, publicKey, signedAt "
            f"(and taskId) as auditCheckpoint answers them ({type(e).__name__}: {e})"
        ) from None


def _row(r: asyncpg.Record) -> Checkpoint:
    return Checkpoint(
        r["scope"], r["count"], r["head"], r["signed_at"], r["public_key"], r["signature"]
    )


async def sign(
    conn: asyncpg.Connection,
    signer: signing.Signer,
    scope: str,
    count: int,
    head: str,
    at: datetime,
) -> Checkpoint:
    """Sign and store a checkpoint in the caller's transaction (it commits with the entry)."""
    when = signed_at_text(at)
    cp = Checkpoint(
        scope,
        count,
        head,
        when,
        signer.public_key,
        signer.sign(message(scope, count, head, when)),
    )
    await conn.execute(
        "INSERT INTO audit_checkpoint (scope, count, head, signed_at, public_key, signature)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        cp.scope,
        cp.count,
        cp.head,
        cp.signed_at,
        cp.public_key,
        cp.signature,
    )
    return cp


async def latest(conn: asyncpg.Connection | asyncpg.Pool, scope: str) -> Checkpoint | None:
    row = await conn.fetchrow(
        "SELECT * FROM audit_checkpoint WHERE scope = $1 ORDER BY count DESC LIMIT 1", scope
    )
    return None if row is None else _row(row)


async def latest_of(
    conn: asyncpg.Connection | asyncpg.Pool, scopes: Iterable[str]
) -> dict[str, Checkpoint]:
    rows = await conn.fetch(
        "SELECT DISTINCT ON (scope) * FROM audit_checkpoint WHERE scope = ANY($1)"
        " ORDER BY scope, count DESC",
        list(scopes),
    )
    return {r["scope"]: _row(r) for r in rows}


async def history(conn: asyncpg.Connection | asyncpg.Pool, scope: str) -> list[Checkpoint]:
    rows = await conn.fetch("SELECT * FROM audit_checkpoint WHERE scope = $1 ORDER BY count", scope)
    return [_row(r) for r in rows]


async def at_count(
    conn: asyncpg.Connection | asyncpg.Pool, scope: str, count: int
) -> Checkpoint | None:
    row = await conn.fetchrow(
        "SELECT * FROM audit_checkpoint WHERE scope = $1 AND count = $2", scope, count
    )
    return None if row is None else _row(row)
