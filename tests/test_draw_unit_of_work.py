"""The draw command reads first and locks briefly: while it reads the departments no hub-store
lock is held, and the unit of work that freezes re-checks that the task is still a DRAFT."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from tests.conftest import Hub
from tests.test_joint_tasks import DRAW, create, store_conn


@asynccontextmanager
async def reading_held(hub: Hub, dsn: str, task_id: str) -> AsyncIterator[asyncio.Task]:
    """Start a draw and hold it while it reads the credit platform's ratings (an exclusive
    lock there makes its read wait); the draw goes on when the block is left."""
    conn = await asyncpg.connect(dsn)
    tx = conn.transaction()
    await tx.start()
    try:
        await conn.execute("LOCK TABLE credit_rating IN ACCESS EXCLUSIVE MODE")
        drawing = asyncio.create_task(hub.gql(DRAW, {"id": task_id}))
        for _ in range(600):
            waiting = await conn.fetchval(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE NOT l.granted AND a.datname = current_database()"
            )
            if waiting:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the draw never read the credit platform")
        yield drawing
    finally:
        await tx.rollback()
        await conn.close()


async def test_no_hub_store_lock_while_the_draw_reads_departments(hub: Hub, dept_dsn) -> None:
    task = await create(hub)
    task_id = uuid.UUID(task["id"])
    async with reading_held(hub, dept_dsn("credit"), task["id"]) as drawing:
        conn = await store_conn(hub)
        try:
            async with conn.transaction():
                # NOWAIT fails at once if the draw held the task row (or any lock on it).
                status = await conn.fetchval(
                    "SELECT status FROM task WHERE id = $1 FOR UPDATE NOWAIT", task_id
                )
        finally:
            await conn.close()
        assert status == "DRAFT"
    body = await drawing
    assert body["data"]["drawJointInspection"]["status"] == "DRAWN", body


async def test_draw_rechecks_the_task_is_a_draft_before_freezing(hub: Hub, dept_dsn) -> None:
    task = await create(hub)
    task_id = uuid.UUID(task["id"])
    async with reading_held(hub, dept_dsn("credit"), task["id"]) as drawing:
        conn = await store_conn(hub)
        try:  # the task changes while the draw is reading: it was closed meanwhile
            await conn.execute(
                "UPDATE task SET status = 'CLOSED', close_reason = 'withdrawn' WHERE id = $1",
                task_id,
            )
        finally:
            await conn.close()
    body = await drawing
    err = body["errors"][0]["extensions"]
    assert err["code"] == "ALREADY_DRAWN" and err["status"] == "CLOSED"
    conn = await store_conn(hub)
    try:
        assert await conn.fetchval("SELECT count(*) FROM visit WHERE task_id = $1", task_id) == 0
        frozen = await conn.fetchval(
            "SELECT count(*) FROM task_population WHERE task_id = $1", task_id
        )
        assert frozen == 0
    finally:
        await conn.close()
