"""A department that fails is a partial result: other departments' data still arrives."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from tests.conftest import ADMIN_URL, Hub, start_hub

QUERY = """
query($u: String!) {
  entity(uscc: $u) {
    name
    permits { department { code } }
    penalties { department { code } }
    credit { grade }
  }
  departments { code health { status reason } }
}"""


@asynccontextmanager
async def stopped(database: str) -> AsyncIterator[None]:
    """Take a department's database down for real: refuse new connections, kill live ones."""
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", database
        )
        yield
    finally:
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        await admin.close()


@asynccontextmanager
async def own_hub(settings) -> AsyncIterator[Hub]:
    app, lifespan, client = await start_hub(settings)
    try:
        yield Hub(app, client)
    finally:
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


def _check_partial(body: dict, down: str) -> None:
    e = body["data"]["entity"]
    assert e["name"], "the register still answers"
    departments = {p["department"]["code"] for p in e["permits"]}
    assert down not in departments
    assert departments >= {"market", "emergency", "culture", "fire", "ecology"} - {down}
    errors = [x for x in body["errors"] if x["extensions"]["department"] == down]
    assert errors and all(x["extensions"]["code"] == "DEPARTMENT_UNAVAILABLE" for x in errors)
    assert {tuple(x["path"]) for x in errors} >= {("entity", "permits"), ("entity", "penalties")}
    health = {d["code"]: d["health"]["status"] for d in body["data"]["departments"]}
    assert health[down] == "DOWN" and health["market"] == "UP"


async def test_stopped_department_is_a_partial_result(settings, seeded, prefix) -> None:
    async with own_hub(settings) as hub:
        warm = await hub.gql(QUERY, {"u": seeded.sample_uscc})  # pools hold live connections
        assert "errors" not in warm
        async with stopped(f"{prefix}ecology"):
            r = await hub.client.post(
                "/graphql", json={"query": QUERY, "variables": {"u": seeded.sample_uscc}}
            )
            assert r.status_code == 200
            _check_partial(r.json(), "ecology")
        # Back up: the same hub recovers by itself.
        again = await hub.gql(QUERY, {"u": seeded.sample_uscc})
        assert "errors" not in again


def unreachable(settings, code: str):
    """The settings with one department's database at a port where nothing listens."""
    departments = tuple(
        dataclasses.replace(d, dsn="postgresql://postgres@127.0.0.1:9/nowhere")
        if d.code == code
        else d
        for d in settings.departments
    )
    return dataclasses.replace(settings, departments=departments)


async def test_unreachable_department_is_a_partial_result(settings, seeded) -> None:
    async with own_hub(unreachable(settings, "fire")) as hub:
        body = await hub.gql(QUERY, {"u": seeded.sample_uscc})
        _check_partial(body, "fire")


async def test_credit_platform_down_nulls_credit_only(settings, seeded, prefix) -> None:
    async with own_hub(settings) as hub, stopped(f"{prefix}credit"):
        body = await hub.gql(QUERY, {"u": seeded.sample_uscc})
        assert body["data"]["entity"]["credit"] is None
        assert body["data"]["entity"]["permits"]
        (err,) = [x for x in body["errors"] if x["path"] == ["entity", "credit"]]
        assert err["extensions"] == {"code": "DEPARTMENT_UNAVAILABLE", "department": "credit"}


async def test_register_down_keeps_other_departments(settings, seeded, prefix) -> None:
    async with own_hub(settings) as hub, stopped(f"{prefix}market"):
        body = await hub.gql(QUERY, {"u": seeded.sample_uscc})
        e = body["data"]["entity"]
        assert e["name"] is None
        assert {p["department"]["code"] for p in e["permits"]} >= {"ecology", "fire"}
        assert any(x["extensions"]["department"] == "market" for x in body["errors"])
        ready = await hub.client.get("/readyz")
        assert ready.status_code == 503
