"""Degraded modes, for real: a slow department, a dead one behind its breaker, Redis gone and
back, the hub store gone — each answer as much as it can, and nothing is half-written."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from embedded.redis import find_redis_server
from tests.conftest import Hub
from tests.test_partial import own_hub, stopped

ENTITY = "query($u: String!) { entity(uscc: $u) { name permits { department { code } } } }"


@asynccontextmanager
async def slowed(dsn: str, table: str, seconds: float) -> AsyncIterator[None]:
    """Make every read of a department's table wait on pg_sleep, the way an overloaded
    source does: the table hides behind a view that sleeps first."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            f'ALTER TABLE "{table}" RENAME TO "{table}_fast";'
            "CREATE FUNCTION hub_test_slow() RETURNS boolean LANGUAGE sql AS "
            f"$$ SELECT pg_sleep({seconds}); SELECT true $$;"
            f'CREATE VIEW "{table}" AS SELECT * FROM "{table}_fast" WHERE (SELECT hub_test_slow());'
        )
        yield
    finally:
        await conn.execute(
            f'DROP VIEW "{table}"; DROP FUNCTION hub_test_slow();'
            f'ALTER TABLE "{table}_fast" RENAME TO "{table}";'
        )
        await conn.close()


async def test_slow_department_never_holds_a_request_past_its_timeout(
    settings, seeded, dept_dsn
) -> None:
    async with own_hub(settings) as hub, slowed(dept_dsn("culture"), "businessPermit", 5):
        start = time.perf_counter()
        body = await hub.gql(ENTITY, {"u": seeded.sample_uscc})
        elapsed = time.perf_counter() - start
    timeout = hub.registry.get("culture").timeout
    assert elapsed < timeout + 1.0, elapsed
    (err,) = [e for e in body["errors"] if e["extensions"]["department"] == "culture"]
    assert "no answer within" in err["message"]
    assert {p["department"]["code"] for p in body["data"]["entity"]["permits"]} >= {
        "market",
        "fire",
        "ecology",
    }


async def test_breaker_opens_costs_nothing_then_probes_and_closes(settings, seeded, prefix) -> None:
    async with own_hub(settings) as hub:
        ecology = hub.registry.get("ecology")
        ecology.breaker.reset_seconds = 0.5
        async with stopped(f"{prefix}ecology"):
            for _ in range(ecology.breaker.failure_threshold):
                await hub.gql(ENTITY, {"u": seeded.sample_uscc})
            assert ecology.breaker.state == "OPEN"
            before = ecology.statements
            body = await hub.gql(ENTITY, {"u": seeded.sample_uscc})
            assert ecology.statements == before, "an open breaker sends nothing"
            assert any("circuit open" in e["message"] for e in body["errors"])
            ready = (await hub.client.get("/readyz")).json()
            assert ready["departments"]["ecology"]["breaker"] in ("OPEN", "HALF_OPEN")
        await asyncio.sleep(0.6)  # half-open: the next call is the probe, and it succeeds
        body = await hub.gql(ENTITY, {"u": seeded.sample_uscc})
        assert "errors" not in body
        assert ecology.breaker.state == "CLOSED"
        metrics = (await hub.client.get("/metrics")).text
        assert 'jsh_breaker_state{department="ecology"}' in metrics
        assert "jsh_department_seconds_bucket" in metrics


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis(port: int, folder: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            str(find_redis_server()),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            folder,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("redis did not start")


async def test_redis_down_reads_still_answer_and_recover(settings, seeded, tmp_path) -> None:
    port = _free_port()
    redis = _redis(port, str(tmp_path))
    try:
        own = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{port}/0")
        async with own_hub(own) as hub:
            assert (await hub.client.get("/readyz")).json()["redis"] == "UP"
            redis.terminate()
            redis.wait()
            body = await hub.gql(ENTITY, {"u": seeded.sample_uscc})  # rate limits fail open
            assert body["data"]["entity"]["name"] and "errors" not in body
            assert (await hub.client.get("/readyz")).json()["redis"].startswith("DOWN")
            redis = _redis(port, str(tmp_path))  # back: the hub recovers by itself
            await asyncio.sleep(0.3)
            assert (await hub.client.get("/readyz")).json()["redis"] == "UP"
            assert "errors" not in await hub.gql(ENTITY, {"u": seeded.sample_uscc})
    finally:
        redis.terminate()
        redis.wait()


async def test_store_down_reads_answer_and_commands_change_nothing(
    hub: Hub, seeded, prefix
) -> None:
    store = hub.app.state.store
    count = "SELECT count(*) FROM task"
    before = await store.pool.fetchval(count)
    async with stopped(f"{prefix}hub"):
        body = await hub.gql(ENTITY, {"u": seeded.sample_uscc})
        assert body["data"]["entity"]["name"]
        created = await hub.gql(
            """mutation($k: String!) { createJointInspectionTask(input: {
                 title: "t", leadDepartment: "market", departments: ["fire"],
                 plan: { ratios: [{grade: A, ratio: 0.1}] }, windowStart: "2026-12-01",
                 windowEnd: "2026-12-31", idempotencyKey: $k }) { id } }""",
            {"k": uuid.uuid4().hex},
        )
        assert created["errors"][0]["extensions"]["code"] == "STORE_UNAVAILABLE"
    assert await store.pool.fetchval(count) == before
