"""Reads of the audit log: a task's trail with its verification, and the signed checkpoints
anyone may keep (public)."""

from __future__ import annotations

import asyncpg

from resolvers.context import RequestContext
from store import audit, audit_verify, checkpoints
from store import tasks as store
from tasks.common import not_found, parse_id, reading
from tasks.queries import store_loaders


async def audit_trail(
    ctx: RequestContext, ref: str
) -> tuple[list[asyncpg.Record], audit_verify.AuditCheck]:
    task_id = parse_id(ref, "task")
    async with reading(ctx) as pool:
        if await store.get_task(pool, task_id) is None:
            raise not_found("task", task_id)
        rows = await audit.trail(pool, task_id)
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
