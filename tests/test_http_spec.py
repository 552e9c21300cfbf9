"""GraphQL over HTTP: media types, status codes, GET, no batching unless configured."""

from __future__ import annotations

from tests.conftest import Hub

NEW = {"accept": "application/graphql-response+json, application/json;q=0.9"}


async def test_new_media_type_and_200_for_data(hub: Hub) -> None:
    r = await hub.client.post("/graphql", json={"query": "{ departments { code } }"}, headers=NEW)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/graphql-response+json")
    assert r.json()["data"]["departments"]


async def test_request_errors_are_400_without_data(hub: Hub) -> None:
    for query in ["{ departments { code }", "{ nosuchfield }"]:
        r = await hub.client.post("/graphql", json={"query": query}, headers=NEW)
        assert r.status_code == 400
        body = r.json()
        assert "data" not in body
        assert body["errors"][0]["extensions"]["code"] in (
            "GRAPHQL_PARSE_FAILED",
            "GRAPHQL_VALIDATION_FAILED",
        )


async def test_field_errors_keep_200_with_data(hub: Hub) -> None:
    r = await hub.client.post(
        "/graphql", json={"query": '{ entity(uscc: "123") { name } }'}, headers=NEW
    )
    assert r.status_code == 200
    assert r.json()["data"] == {"entity": None}


async def test_legacy_json_clients_get_200(hub: Hub) -> None:
    r = await hub.client.post(
        "/graphql", json={"query": "{ nosuchfield }"}, headers={"accept": "application/json"}
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_get_runs_queries_but_not_mutations(hub: Hub) -> None:
    r = await hub.client.get("/graphql", params={"query": "{ departments { code } }"}, headers=NEW)
    assert r.status_code == 200 and r.json()["data"]["departments"]
    r = await hub.client.get(
        "/graphql",
        params={"query": 'mutation { reviewVisitResult(visitId: "x", approve: true) { state } }'},
        headers=NEW,
    )
    assert r.status_code == 405


async def test_batched_requests_are_off(hub: Hub) -> None:
    r = await hub.client.post("/graphql", json=[{"query": "{ departments { code } }"}] * 2)
    assert r.status_code == 400


async def test_automatic_persisted_queries(hub: Hub) -> None:
    import hashlib
    import uuid

    query = f"# {uuid.uuid4().hex}\n{{ departments {{ code }} }}"
    digest = hashlib.sha256(query.encode()).hexdigest()
    ext = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    first = await hub.client.post("/graphql", json={"extensions": ext})
    assert first.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    both = await hub.client.post("/graphql", json={"query": query, "extensions": ext})
    assert both.json()["data"]["departments"]
    again = await hub.client.post("/graphql", json={"extensions": ext})
    assert again.json()["data"]["departments"], "served from the hash alone"
    wrong = await hub.client.post(
        "/graphql", json={"query": "{ departments { name } }", "extensions": ext}
    )
    assert wrong.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
