"""`_entities` keeps the limits and the permissions of `entities` (issue 11, item 2).

A federation router's representations are a page of entities: at most the page maximum, each
one an entity in the cost model, refused at the door (before any SQL, before they are even
coerced) when over; duplicates are looked up once; and `_entities` and every field it
reaches carry exactly the permissions of `entity` (the role × field table is also walked
through it, in tests/test_authorization.py)."""

from __future__ import annotations

import asyncpg
import pytest

from gateway.limits import (
    LIMITS_BY_CLIENT,
    PAGE_MAX,
    QUERY_TOO_COMPLEX,
    LimitExceeded,
    check,
    measure,
)
from gateway.limits import parse_limited as parse
from schemas.schema import schema
from store import access
from tests.conftest import Hub, token
from tests.test_graph import FULL

NAMES = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Entity { uscc name } } }"
# The whole record of each entity, as the entity page (FULL) asks for it.
_OPEN = "entity(uscc: $u) {"
_RECORD = FULL[FULL.index(_OPEN) + len(_OPEN) : FULL.rindex("}", 0, FULL.rindex("}"))]
RECORDS = (
    f"query($r: [_Any!]!) {{ _entities(representations: $r) {{ ... on Entity {{{_RECORD}}} }} }}"
)
OFFICER = {"authorization": f"Bearer {token('fire', ('officer',), sub='officer-fed')}"}


def reps(codes: list[str]) -> list[dict[str, str]]:
    return [{"__typename": "Entity", "uscc": c} for c in codes]


@pytest.fixture(scope="module")
async def codes(dept_dsn) -> list[str]:
    conn = await asyncpg.connect(dept_dsn("market"))
    try:
        return [r[0] for r in await conn.fetch("SELECT tyshxydm FROM scztdj ORDER BY 1")]
    finally:
        await conn.close()


def test_each_representation_costs_an_entity() -> None:
    """The cost of `_entities` is that of `entity` times the representations, inline or in
    the variables, exactly as `entities(first: n)` multiplies its page."""
    limits = LIMITS_BY_CLIENT["officer"]
    one = measure(parse(FULL, limits), schema._schema, {"u": "x"}, None).cost
    document = parse(RECORDS, limits)
    for n in (1, 10, 87):
        variables = {"r": reps(["x"] * n)}
        assert measure(document, schema._schema, variables, None).cost == n * one
    inline = "{ _entities(representations: [{a: 1}, {b: 2}, {c: 3}]) { ... on Entity { name } } }"
    assert measure(parse(inline, limits), schema._schema, None, None).cost == 3
    with pytest.raises(LimitExceeded) as refused:
        check(document, schema._schema, {"r": reps(["x"] * 100)}, None, limits)
    assert refused.value.code == QUERY_TOO_COMPLEX and refused.value.actual == 100 * one
    names = parse("query($r: [_Any!]!) { _entities(representations: $r) { __typename } }", limits)
    assert (
        check(names, schema._schema, {"r": reps(["x"] * PAGE_MAX)}, None, limits).cost == PAGE_MAX
    )
    with pytest.raises(LimitExceeded) as refused:  # a page at most, whatever the selection
        check(names, schema._schema, {"r": reps(["x"] * 2400)}, None, limits)
    assert (refused.value.limit, refused.value.actual) == (PAGE_MAX, 2400)


async def test_representations_over_the_page_maximum_are_refused_before_any_sql(
    hub: Hub, codes: list[str]
) -> None:
    """Refused at the door, before thousands of representations are even coerced: more than
    a page of them, or a page whose records cost more than the client's limit."""
    page_max = hub.app.state.settings.max_page_size
    before = hub.registry.statements()
    body = await hub.gql(NAMES, {"r": reps(codes[: page_max + 1])}, headers=OFFICER)
    (error,) = body["errors"]
    assert error["extensions"] == {
        "code": QUERY_TOO_COMPLEX,
        "limit": page_max,
        "actual": page_max + 1,
    }
    assert "data" not in body
    assert hub.registry.statements() == before
    whole = await hub.gql(RECORDS, {"r": reps(codes[:page_max])}, headers=OFFICER)
    assert whole["errors"][0]["extensions"]["code"] == QUERY_TOO_COMPLEX
    assert hub.registry.statements() == before
    inline = ", ".join(f'{{__typename: "Entity", uscc: "{c}"}}' for c in codes[: page_max + 1])
    literal = f"{{ _entities(representations: [{inline}]) {{ ... on Entity {{ name }} }} }}"
    refused = await hub.gql(literal, headers=OFFICER)
    assert refused["errors"][0]["extensions"]["actual"] == page_max + 1
    assert hub.registry.statements() == before


async def test_duplicate_representations_are_looked_up_once(hub: Hub, codes: list[str]) -> None:
    market = hub.registry.get("market")
    asked = [codes[0]] * 60 + [codes[1].lower()] * 39 + ["91370202MA3C4N5X2Z"]
    before = market.statements
    body = await hub.gql(NAMES, {"r": reps(asked)}, headers=OFFICER)
    assert market.statements - before == 1, "one statement for the two distinct entities"
    answers = body["data"]["_entities"]
    assert len(answers) == 100
    assert {a["uscc"] for a in answers[:60]} == {codes[0]}
    assert {a["uscc"] for a in answers[60:99]} == {codes[1]}
    assert answers[99] is None  # not a valid code: an error in its place, the rest intact
    (error,) = body["errors"]
    assert error["path"] == ["_entities", 99]
    assert error["extensions"]["reason"] == "INVALID_USCC"


async def test_a_partner_needs_entities_read_for_entities_by_reference(
    hub: Hub, codes: list[str]
) -> None:
    """A key with results:read only, running a registered `_entities` operation, reads
    nothing of an entity; with entities:read it reads what `entity` would give it."""
    pool = hub.app.state.store.pool
    await access.register_operation(pool, "router-entities", NAMES, ["results:read"])
    digest = access.document_hash(NAMES)
    payload = {
        "variables": {"r": reps(codes[:2])},
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}},
    }
    results_only = await access.create_key(pool, "public portal (test)", ["results:read"])
    r = await hub.raw.post("/graphql", json=payload, headers={"x-api-key": results_only})
    body = r.json()
    assert body["data"] is None, body
    (error,) = body["errors"]
    assert error["path"] == ["_entities"] and error["extensions"]["code"] == "FORBIDDEN"
    reader = await access.create_key(
        pool, "provincial hub (test)", ["results:read", "entities:read"]
    )
    r = await hub.raw.post("/graphql", json=payload, headers={"x-api-key": reader})
    assert "errors" not in r.json()
    assert [e["uscc"] for e in r.json()["data"]["_entities"]] == codes[:2]
