"""The read-through cache: hits cost no statement, a department's change notification makes
the new row visible within a second, and permissions still apply per request."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import asyncpg

from tests.conftest import token
from tests.test_partial import own_hub

QUERY = (
    'query($u: String!) { entity(uscc: $u) { name permits(department: "market") '
    "{ id name } penalties { violation } } }"
)


async def test_cache_hits_and_notified_changes(settings, seeded, dept_dsn) -> None:
    async with own_hub(dataclasses.replace(settings, cache=True)) as hub:
        await asyncio.sleep(0.2)  # the change listeners connect
        market = hub.registry.get("market")
        cold = await hub.gql(QUERY, {"u": seeded.sample_uscc})
        before = market.statements
        warm = await hub.gql(QUERY, {"u": seeded.sample_uscc})
        assert warm == cold
        assert market.statements == before, "a warm read sends no statement"

        # Cached rows are department data, not answers: permissions still apply per caller.
        officer = {"authorization": f"Bearer {token('fire', ('officer',))}"}
        assert (await hub.gql(QUERY, {"u": seeded.sample_uscc}, headers=officer))["data"]

        conn = await asyncpg.connect(dept_dsn("market"))
        try:
            permit_id = int(cold["data"]["entity"]["permits"][0]["id"])
            old = await conn.fetchval("SELECT xkmc FROM xzxk WHERE xkid = $1", permit_id)
            await conn.execute("UPDATE xzxk SET xkmc = $2 WHERE xkid = $1", permit_id, "改名许可")
            changed_at = time.perf_counter()
            seen = None
            while time.perf_counter() - changed_at < 1.0:
                body = await hub.gql(QUERY, {"u": seeded.sample_uscc})
                names = {p["id"]: p["name"] for p in body["data"]["entity"]["permits"]}
                if names[str(permit_id)] == "改名许可":
                    seen = time.perf_counter() - changed_at
                    break
                await asyncio.sleep(0.05)
            assert seen is not None, "the change was not visible within one second"
        finally:
            await conn.execute("UPDATE xzxk SET xkmc = $2 WHERE xkid = $1", permit_id, old)
            await conn.close()
