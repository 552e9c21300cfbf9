"""A draw is replayable forever: a draw frozen by an earlier release verifies with the one
pure draw of this one (planning.draw), and tampering with a frozen draw is detected."""

from __future__ import annotations

import asyncpg

from tasks.verification import verify_draw
from tests import frozen_draws
from tests.conftest import Hub


async def test_a_draw_frozen_before_the_pure_draw_still_verifies(hub: Hub) -> None:
    conn = await asyncpg.connect(hub.app.state.store.dsn)
    try:
        task_id = await frozen_draws.load(conn)
    finally:
        await conn.close()
    check = await verify_draw(hub.app.state.store.pool, task_id)
    assert check.ok, check.problems
    assert (check.entities, check.visits) == (400, 40)  # the whole test city, 40 drawn
