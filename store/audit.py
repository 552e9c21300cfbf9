"""The audit log: every state change of a task, built like a transparency log.

Each entry belongs to two chains. Its task's trail: hash = sha256(prev_hash + leaf), with
leaf = sha256(canonical JSON of task, at, actor, action, detail, content, format), the first
entry of a task chaining from sha256("task:" + id); `content` is the digest of the content
hashes of the rows the change wrote (store/content.py), kept one per row in audit_anchor.
And the one log of all tasks: log_hash = sha256(log_prev + hash), entry #1 chaining from
sha256("jsh-audit-log"). After each entry the hub signs a checkpoint of both
(store/checkpoints.py) in the same transaction. Entries written before anchoring (format 1)
hash without content and stand outside the log; they keep verifying as they were written.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from store import checkpoints, content, signing

ANCHORED = 2  # the entry format with content hashes and a place in the log
LOG_GENESIS = hashlib.sha256(b"jsh-audit-log").hexdigest()
_LOG_LOCK = 4_216_002  # advisory lock: one appender at a time extends the log


class AuditKeyMissing(Exception):
    code = "AUDIT_KEY_MISSING"

    def __init__(self) -> None:
        super().__init__(
            "the hub has no audit signing key (HUB_AUDIT_KEY_FILE or HUB_AUDIT_KEY): state "
            "changes are refused until one is configured"
        )


def genesis(task_id: str) -> str:
    return hashlib.sha256(f"task:{task_id}".encode()).hexdigest()


def entry_leaf(
    task_id: str,
    at: datetime,
    actor: str,
    action: str,
    detail: Any,
    content_digest: str | None,
    fmt: int = ANCHORED,
) -> str:
    """sha256 of an anchored entry's canonical JSON: what a public proof shows of an entry."""
    body = {
        "task": task_id,
        "at": at.isoformat(),
        "actor": actor,
        "action": action,
        "detail": detail,
        "content": content_digest,
        "format": fmt,
    }
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def entry_hash(
    prev: str,
    task_id: str,
    at: datetime,
    actor: str,
    action: str,
    detail: Any,
    content_digest: str | None = None,
    fmt: int = ANCHORED,
) -> str:
    if fmt >= ANCHORED:
        leaf = entry_leaf(task_id, at, actor, action, detail, content_digest, fmt)
        return chain(prev, leaf)
    # Format 1 (before anchoring): the previous hash and the JSON of these five fields.
    body = {"task": task_id, "at": at.isoformat(), "actor": actor, "action": action}
    body["detail"] = detail
    return hashlib.sha256(
        prev.encode() + orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


def chain(prev: str, leaf: str) -> str:
    """The next head of a chain of hex hashes (a task's trail, and the log)."""
    return hashlib.sha256((prev + leaf).encode()).hexdigest()


def log_hash(log_prev: str, entry: str) -> str:
    return chain(log_prev, entry)


def stored_leaf(row: asyncpg.Record) -> str:
    """The leaf of a stored anchored entry, from its stored fields."""
    return entry_leaf(
        str(row["task_id"]),
        row["at"],
        row["actor"],
        row["action"],
        orjson.loads(row["detail"]),
        row["content"],
        row["format"],
    )


def stored_entry_hash(row: asyncpg.Record) -> str:
    """What a stored row's hash must be, from its stored fields and its own prev_hash."""
    if row["format"] >= ANCHORED:
        return chain(row["prev_hash"], stored_leaf(row))
    detail = orjson.loads(row["detail"])
    return entry_hash(
        row["prev_hash"], str(row["task_id"]), row["at"], row["actor"], row["action"], detail, fmt=1
    )


async def append(
    conn: asyncpg.Connection,
    signer: signing.Signer | None,
    task_id: Any,
    actor: str,
    action: str,
    detail: dict[str, Any],
    changed: content.Changed,
) -> str:
    """Append inside the caller's transaction, which holds the task row lock, anchoring the
    rows `changed` names as they now are; sign both checkpoints. Returns the entry's hash."""
    if signer is None:
        raise AuditKeyMissing
    # The rows are hashed where they lie, before the log lock (a draw anchors every visit).
    seq = await conn.fetchval("SELECT nextval(pg_get_serial_sequence('audit', 'seq'))")
    digest = await content.anchor(conn, seq, task_id, changed)
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOG_LOCK)
    prev = await conn.fetchrow(
        "SELECT hash, task_index FROM audit WHERE task_id = $1 ORDER BY seq DESC LIMIT 1", task_id
    )
    if prev is None:
        prev_hash, index = genesis(str(task_id)), 1
    else:
        prev_hash = prev["hash"]
        index = prev["task_index"] or await conn.fetchval(
            "SELECT count(*) FROM audit WHERE task_id = $1", task_id
        )
        index += 1
    last = await conn.fetchrow(
        "SELECT log_index, log_hash FROM audit WHERE log_index IS NOT NULL"
        " ORDER BY log_index DESC LIMIT 1"
    )
    log_index, log_prev = (1, LOG_GENESIS) if last is None else (last[0] + 1, last[1])
    at = await conn.fetchval("SELECT date_trunc('milliseconds', clock_timestamp())")
    entry = entry_hash(prev_hash, str(task_id), at, actor, action, detail, digest)
    head = log_hash(log_prev, entry)
    await conn.execute(
        "INSERT INTO audit (seq, task_id, at, actor, action, detail, prev_hash, hash, format,"
        " content, task_index, log_index, log_prev, log_hash)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        seq,
        task_id,
        at,
        actor,
        action,
        orjson.dumps(detail).decode(),
        prev_hash,
        entry,
        ANCHORED,
        digest,
        index,
        log_index,
        log_prev,
        head,
    )
    await checkpoints.sign(conn, signer, str(task_id), index, entry, at)
    await checkpoints.sign(conn, signer, checkpoints.LOG, log_index, head, at)
    return entry


async def trail(conn: asyncpg.Connection | asyncpg.Pool, task_id: Any) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT * FROM audit WHERE task_id = $1 ORDER BY seq", task_id)


async def anchors_of(
    conn: asyncpg.Connection | asyncpg.Pool, seqs: list[int]
) -> dict[int, dict[tuple[str, str], str]]:
    out: dict[int, dict[tuple[str, str], str]] = {s: {} for s in seqs}
    for r in await conn.fetch("SELECT * FROM audit_anchor WHERE seq = ANY($1)", seqs):
        out[r["seq"]][(r["kind"], r["ref"])] = r["hash"]
    return out
