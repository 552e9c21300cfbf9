"""Schema-driven fuzzing: queries and mutations generated from the schema itself (valid ones
and ones with a single violation), sent as a planner and as the public. Whatever comes in,
nothing answers 5xx and no unexpected exception leaks (INTERNAL_SERVER_ERROR)."""

from __future__ import annotations

import graphql
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import strategies as gql

from schemas.schema import schema
from tests.conftest import Hub

SDL = schema._schema  # the executable schema (the printed SDL carries federation directives)
SCALARS = {
    "Date": st.dates().map(lambda d: graphql.StringValueNode(value=d.isoformat())),
    "DateTime": st.datetimes().map(lambda d: graphql.StringValueNode(value=d.isoformat())),
    "Money": st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False).map(
        lambda d: graphql.StringValueNode(value=str(d))
    ),
    "JSON": st.just(graphql.StringValueNode(value="{}")),
    # Federation's entity representations: {__typename: "Entity", uscc: …}
    "_Any": st.sampled_from(["914403001922038216", "123", "91330100716105852F"]).map(
        lambda code: graphql.ObjectValueNode(
            fields=(
                graphql.ObjectFieldNode(
                    name=graphql.NameNode(value="__typename"),
                    value=graphql.StringValueNode(value="Entity"),
                ),
                graphql.ObjectFieldNode(
                    name=graphql.NameNode(value="uscc"), value=graphql.StringValueNode(value=code)
                ),
            )
        )
    ),
}
FUZZ = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


async def _check(hub: Hub, query: str, headers: dict[str, str] | None) -> None:
    r = await (hub.client if headers is None else hub.raw).post(
        "/graphql", json={"query": query}, headers=headers
    )
    assert r.status_code < 500, (query, r.text[:500])
    body = r.json()
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
    assert "INTERNAL_SERVER_ERROR" not in codes, (query, body)
    assert all(codes), ("every error carries a code", query, body)


@FUZZ
@given(query=gql.from_schema(SDL, custom_scalars=SCALARS))
async def test_valid_operations_never_fail_the_server(hub: Hub, query: str) -> None:
    await _check(hub, query, None)


@FUZZ
@given(query=gql.from_schema(SDL, custom_scalars=SCALARS, mode=gql.Mode.NEGATIVE))
async def test_invalid_operations_get_coded_errors(hub: Hub, query: str) -> None:
    await _check(hub, query, None)


@FUZZ
@given(query=gql.from_schema(SDL, custom_scalars=SCALARS))
async def test_public_fuzz_is_refused_cleanly(hub: Hub, query: str) -> None:
    await _check(hub, query, {})
