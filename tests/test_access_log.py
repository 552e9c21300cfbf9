"""The access log: every read of entity records is stored before its answer is sent, and
concurrent requests share one statement (group commit) without losing anyone's row."""

from __future__ import annotations

import asyncio
import uuid

from tests.conftest import Hub

READ = "query($u: String!) { entity(uscc: $u) { name permits { id } } }"


async def test_each_concurrent_read_is_logged_before_its_answer(hub: Hub, seeded) -> None:
    pool = hub.app.state.store.pool

    async def read(request_id: str) -> None:
        r = await hub.client.post(
            "/graphql",
            json={"query": READ, "variables": {"u": seeded.sample_uscc}},
            headers={"x-request-id": request_id},
        )
        assert r.status_code == 200 and "errors" not in r.json()
        row = await pool.fetchrow(
            "SELECT entities, departments, subject FROM access_log WHERE request_id = $1",
            request_id,
        )
        assert row is not None, "answered before its access-log row was stored"
        assert row["entities"] == [seeded.sample_uscc]
        assert {"market", "ecology", "culture"} <= set(row["departments"])

    ids = [uuid.uuid4().hex for _ in range(40)]
    await asyncio.gather(*(read(i) for i in ids))
    count = await pool.fetchval("SELECT count(*) FROM access_log WHERE request_id = ANY($1)", ids)
    assert count == len(ids)
