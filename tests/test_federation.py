"""The hub as an Apollo Federation v2 subgraph: its SDL with the Entity key, and entities
resolved by reference for a router."""

from __future__ import annotations

from tests.conftest import Hub


async def test_service_sdl_declares_the_entity_key(hub: Hub) -> None:
    body = await hub.gql("{ _service { sdl } }")
    sdl = body["data"]["_service"]["sdl"]
    assert 'type Entity @key(fields: "uscc")' in sdl
    assert "specs.apollo.dev/federation/v2" in sdl


async def test_entities_resolve_by_reference(hub: Hub, seeded) -> None:
    body = await hub.gql(
        "query($r: [_Any!]!) { _entities(representations: $r) "
        "{ ... on Entity { uscc name credit { grade } } } }",
        {
            "r": [
                {"__typename": "Entity", "uscc": seeded.sample_uscc},
                {"__typename": "Entity", "uscc": "914403001922038216"},
            ]
        },
    )
    first, unknown = body["data"]["_entities"]
    assert first["uscc"] == seeded.sample_uscc and first["name"]
    assert unknown is None  # a valid but unregistered code


async def test_public_cannot_reach_entities_through_federation(hub: Hub, seeded) -> None:
    r = await hub.raw.post(
        "/graphql",
        json={
            "query": "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
            "variables": {"r": [{"__typename": "Entity", "uscc": seeded.sample_uscc}]},
        },
    )
    assert r.status_code == 401
