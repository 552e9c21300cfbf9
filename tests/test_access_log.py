"""The access log: every read of entity records is stored before its answer is sent, and
concurrent requests share one statement (group commit) without losing anyone's row."""

from __future__ import annotations

import asyncio
import uuid

from store import access
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


async def test_the_writer_merges_the_entity_index_pending_list(hub: Hub) -> None:
    """New entity entries wait on the index's pending list; every `merge_every` rows the
    writer merges them in bulk itself (vacuum may not run: autovacuum can be off)."""
    pool = hub.app.state.store.pool
    merge = "SELECT gin_clean_pending_list('access_log_entities'::regclass)"
    await pool.fetchval(merge)  # start from an empty list

    def entry(n: int) -> dict[str, object]:
        return {
            "request_id": f"merge-test-{uuid.uuid4().hex}",
            "client_kind": "PLANNER",
            "subject": "tester",
            "department": "market",
            "operation": "test",
            "entities": [f"91370200MA{n:08d}"],
            "departments": ["market"],
        }

    lazy = access.AccessLogWriter(lambda: pool, merge_every=1000)
    for n in range(3):
        await lazy.write(entry(n))
    assert await pool.fetchval(merge) >= 1, "new entries wait on the pending list"

    eager = access.AccessLogWriter(lambda: pool, merge_every=3)
    for n in range(3):
        await eager.write(entry(n))
    while eager._merging is not None:
        await asyncio.sleep(0.01)
    assert await pool.fetchval(merge) == 0, "the writer merged them"
