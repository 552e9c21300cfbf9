"""Reads of the audit log: a task's trail with its verification, and the signed checkpoints
anyone may keep (public)."""

from __future__ import annotations

import asyncpg

from resolvers.context import RequestContext
from resolvers.errors import bad_input
from store import audit, audit_verify, checkpoints, proofs
from store import tasks as store
from tasks.common import not_found, parse_id, reading
from tasks.queries import store_loaders


async def audit_trail(
    ctx: RequestContext, ref: str
) -> tuple[list[asyncpg.Record], audit_verify.AuditCheck]:
    task_id = parse_id(ref, "task")  # a task, or an entity's credit trail (auditTrailId)
    async with reading(ctx) as pool:
        rows = await audit.trail(pool, task_id)
        if not rows and await store.get_task(pool, task_id) is None:
            raise not_found("task", task_id)
        check = await audit_verify.verify(pool, task_id, ctx.store.trusted_keys)
    return rows, check


async def checkpoint(ctx: RequestContext, ref: str) -> checkpoints.Checkpoint | None:
    """The task's latest signed checkpoint; None for an unknown task or one whose trail
    predates signing."""
    task_id = parse_id(ref, "task")
    async with reading(ctx):
        return await store_loaders(ctx).checkpoint.load(str(task_id))


async def log_checkpoint(ctx: RequestContext) -> checkpoints.Checkpoint | None:
    async with reading(ctx) as pool:
        return await checkpoints.latest(pool, checkpoints.LOG)


MAX_PROOF = 1000  # leaves per proof; longer ones are walked in pages


async def proof(
    ctx: RequestContext, task_ref: str | None, from_count: int, first: int
) -> proofs.Proof | None:
    """A consistency proof from a kept checkpoint (count `from_count`; 0 from the start) of a
    task's trail, or of the whole log when `task_ref` is None."""
    scope = checkpoints.LOG if task_ref is None else str(parse_id(task_ref, "task"))
    if from_count < 0 or not 1 <= first <= MAX_PROOF:
        raise bad_input(
            f"fromCount must be >= 0 and first between 1 and {MAX_PROOF}",
            "INVALID_RANGE",
            max=MAX_PROOF,
        )
    async with reading(ctx) as pool:
        try:
            return await proofs.proof(pool, scope, from_count, first)
        except proofs.PreAnchoring as e:
            raise bad_input(str(e), "PRE_ANCHORING") from None
