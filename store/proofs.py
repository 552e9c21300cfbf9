"""Public consistency proofs: what lets anyone who kept a checkpoint check, with nothing but
SHA-256, that the trail (or the whole log) still holds what it covered and has only grown.

A task's trail: each anchored entry's hash is sha256(previous hash + leaf), where the leaf is
the SHA-256 of the entry's canonical JSON (store/audit.py). Given the leaves of the entries
after a kept checkpoint, its head folds into the head of a later signed checkpoint — unless
an entry it covered was changed or removed. The whole log folds the same way, its leaves
being the entries' hashes. A proof covers at most `first` entries: longer ones are walked in
pages, each ending at the checkpoint signed with its last entry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from store import audit, checkpoints
from store.checkpoints import Checkpoint


class PreAnchoring(ValueError):
    """The range holds entries written before anchoring, which have no leaves."""


@dataclass(frozen=True, slots=True)
class Proof:
    from_count: int
    to_count: int  # below from_count when the trail now holds fewer entries than asked from
    leaves: list[str]
    checkpoint: Checkpoint | None  # signed with entry #to_count


async def proof(
    conn: asyncpg.Connection | asyncpg.Pool, scope: str, from_count: int, first: int
) -> Proof | None:
    """The leaves of entries from_count+1 … (at most `first` of them) of the trail `scope` (a
    task id, or checkpoints.LOG), and the checkpoint signed with the last; None when nothing
    of it was ever signed."""
    latest = await checkpoints.latest(conn, scope)
    if latest is None:
        return None
    if from_count >= latest.count:
        return Proof(from_count, latest.count, [], latest)
    to = min(latest.count, from_count + first)
    if scope == checkpoints.LOG:
        rows = await conn.fetch(
            "SELECT hash FROM audit WHERE log_index > $1 AND log_index <= $2 ORDER BY log_index",
            from_count,
            to,
        )
        leaves = [r["hash"] for r in rows]
    else:
        rows = await conn.fetch(
            "SELECT * FROM audit WHERE task_id = $1 ORDER BY seq OFFSET $2 LIMIT $3",
            uuid.UUID(scope),
            from_count,
            to - from_count,
        )
        if any(r["format"] < audit.ANCHORED for r in rows):
            raise PreAnchoring(
                f"entries after #{from_count} include some written before anchoring: start "
                "from a checkpoint kept since"
            )
        leaves = [audit.stored_leaf(r) for r in rows]
    return Proof(from_count, to, leaves, await checkpoints.at_count(conn, scope, to))
