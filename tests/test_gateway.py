"""The HTTP edge: liveness, readiness, GraphiQL, request ids."""

from __future__ import annotations

from tests.conftest import Hub


async def test_healthz_and_readyz(hub: Hub) -> None:
    assert (await hub.client.get("/healthz")).json() == {"status": "alive"}
    ready = await hub.client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready" and body["redis"] == "UP"
    assert set(body["departments"]) == {
        "market",
        "ecology",
        "emergency",
        "culture",
        "fire",
        "credit",
        "health",
    }


async def test_graphiql_in_a_browser(hub: Hub) -> None:
    r = await hub.client.get("/graphql", headers={"accept": "text/html"})
    assert r.status_code == 200 and "graphiql" in r.text.lower()


async def test_request_id_is_echoed(hub: Hub) -> None:
    r = await hub.client.post(
        "/graphql", json={"query": "{ departments { code } }"}, headers={"x-request-id": "abc123"}
    )
    assert r.headers["x-request-id"] == "abc123"
    assert (await hub.client.get("/healthz")).headers["x-request-id"]


async def test_malformed_query_is_a_graphql_error(hub: Hub) -> None:
    r = await hub.client.post("/graphql", json={"query": "{ entity(uscc: ) }"})
    body = r.json()
    assert body["errors"][0]["message"].startswith("Syntax Error")
