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


async def test_a_page_reads_the_cache_in_one_call(settings, seeded) -> None:
    """Every department's lookups of one page (and of concurrent requests) share one Lua call
    to read; fills go out as each department answers, one call per answer at most."""
    page = (
        '{ entities(first: 50, filter: {district: ["370203"]}) { edges { node { uscc '
        "permits { id } penalties { id } inspections { id } creditRecords { id } "
        "credit { grade } } } } }"
    )
    async with own_hub(dataclasses.replace(settings, cache=True)) as hub:
        redis = hub.app.state.redis
        await hub.gql("{ __typename }")  # the rate limiter's script is loaded

        async def calls() -> int:
            stats = await redis.info("commandstats")
            scripts = ("cmdstat_evalsha", "cmdstat_eval")
            return sum(v["calls"] for k, v in stats.items() if k in scripts)

        before = await calls()
        cold = await hub.gql(page)
        assert "errors" not in cold
        # The rate limiter's check, one read of 20 lookups' keys, at most 20 fills.
        assert 3 <= await calls() - before <= 2 + 20
        before = await calls()
        assert await hub.gql(page) == cold
        assert await calls() - before == 2  # warm: the rate limiter and one read
