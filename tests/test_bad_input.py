"""A caller's bad input never opens a department's circuit breaker (issue 11, item 1).

Text no department can take (a NUL character, a lone surrogate, an over-long string) is
refused at the door as BAD_USER_INPUT in every string argument, inline or in variables,
before any SQL; a name search is bounded (escaped, at least two characters, a budget and
a share of the pool of its own) so that no request makes the register slow; and when the
register really is down, `entities` answers DEPARTMENT_UNAVAILABLE naming it, the rest of
the answer intact."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest

from gateway.inputs import MAX_STRING, refusal
from gateway.limits import LIMITS_BY_CLIENT, parse_limited
from schemas.schema import schema
from tests.conftest import Hub
from tests.test_joint_tasks import CREATE, RECORD, task_count, task_input
from tests.test_partial import own_hub, stopped

SEARCH = """query($f: EntityFilter) {
  entities(filter: $f, first: 5) { totalCount edges { node { uscc name } } } }"""
PROBE = "query($u: String!) { entity(uscc: $u) { name } }"
NUL = "a\u0000"


def _refused(body: dict[str, Any], reason: str) -> dict[str, Any]:
    assert body.get("data") is None, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["reason"] == reason, error
    return error


async def test_nul_in_a_name_fragment_burst_leaves_the_breaker_closed(settings, seeded) -> None:
    """The attack of the issue: five at once, inline and as a variable."""
    async with own_hub(settings) as hub:
        market = hub.registry.get("market")
        before = hub.registry.statements()
        inline = '{ entities(filter: { nameContains: "a\\u0000" }) { totalCount } }'
        bodies = await asyncio.gather(
            *(hub.gql(SEARCH, {"f": {"nameContains": NUL}}) for _ in range(3)),
            *(hub.gql(inline) for _ in range(2)),
        )
        for body in bodies:
            error = _refused(body, "INVALID_STRING")
            assert error["extensions"]["argument"] == "entities.filter.nameContains"
        assert hub.registry.statements() == before, "refused before any SQL"
        assert market.breaker.state == "CLOSED" and market.breaker.failures == 0
        probe = await hub.gql(PROBE, {"u": seeded.sample_uscc})
        assert "errors" not in probe and probe["data"]["entity"]["name"]


# Every kind of string argument: top-level, in input objects, in lists, nested lists of input
# objects, idempotency keys, cursors, titles, districts, the federation's representations.
PLACES: dict[str, tuple[str, dict[str, Any]]] = {
    "entity.uscc": (PROBE, {"u": "9137020" + NUL}),
    "entities.after": (
        "query($a: String) { entities(after: $a) { totalCount } }",
        {"a": "dXNjYzo" + NUL},
    ),
    "entities.filter.district": (SEARCH, {"f": {"district": ["370202", "3702" + NUL]}}),
    "createJointInspectionTask.input.title": (CREATE, {"input": task_input("k", title=NUL)}),
    "createJointInspectionTask.input.idempotencyKey": (
        CREATE,
        {"input": task_input("key" + NUL)},
    ),
    "createJointInspectionTask.input.scope.district": (
        CREATE,
        {"input": task_input("k", scope={"district": [NUL]})},
    ),
    "createJointInspectionTask.input.departments": (
        CREATE,
        {"input": task_input("k", departments=["fire", NUL])},
    ),
    "recordVisitResult.input.entries.note": (
        RECORD,
        {
            "input": {
                "visitId": str(uuid.uuid4()),
                "category": "NO_PROBLEM",
                "concludedOn": "2026-12-05",
                "entries": [{"key": "STD-FIRE-EXIT", "outcome": "COMPLIANT", "note": NUL}],
            }
        },
    ),
    "drawJointInspection.idempotencyKey": (
        'mutation($k: String) { drawJointInspection(taskId: "x", idempotencyKey: $k) { id } }',
        {"k": NUL},
    ),
    "checklistPreview.departments": (
        'query($d: [String!]!) { checklistPreview(departments: $d, uscc: "x") { jointVisits } }',
        {"d": ["market", NUL]},
    ),
    "publishedResults.uscc": (
        "query($u: String) { publishedResults(uscc: $u) { edges { cursor } } }",
        {"u": NUL},
    ),
    "_entities.representations": (
        "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
        {"r": [{"__typename": "Entity", "uscc": NUL}]},
    ),
}


@pytest.mark.parametrize("place", list(PLACES))
async def test_a_nul_is_refused_in_every_string_argument(hub: Hub, place: str) -> None:
    query, variables = PLACES[place]
    statements, tasks = hub.registry.statements(), await task_count(hub)
    error = _refused(await hub.gql(query, variables), "INVALID_STRING")
    assert "NUL" in error["message"]
    assert hub.registry.statements() == statements and await task_count(hub) == tasks


async def test_strings_in_the_document_are_checked_too(hub: Hub) -> None:
    statements = hub.registry.statements()
    for query in (
        '{ entity(uscc: "9137\\u0000") { name } }',
        'mutation { publishTaskResults(taskId: "x", reason: "r\\u0000") { id } }',
        'query($n: String = "ab\\u0000") { entities(filter: { nameContains: $n }) { totalCount } }',
        "{ ...F } fragment F on Query "
        '{ entities(filter: { district: ["\\u0000"] }) { totalCount } }',
    ):
        _refused(await hub.gql(query), "INVALID_STRING")
    assert hub.registry.statements() == statements


@pytest.mark.parametrize(
    ("variables", "reason", "bound"),
    [
        ({"f": {"nameContains": "x" * 65}}, "STRING_TOO_LONG", {"max": 64}),
        ({"f": {"nameContains": "  x  "}}, "STRING_TOO_SHORT", {"min": 2}),
        ({"f": {"district": ["3" * (MAX_STRING + 1)]}}, "STRING_TOO_LONG", {"max": 16}),
    ],
)
async def test_over_long_and_too_short_strings_are_refused(
    hub: Hub, variables: dict, reason: str, bound: dict
) -> None:
    statements = hub.registry.statements()
    error = _refused(await hub.gql(SEARCH, variables), reason)
    assert bound.items() <= error["extensions"].items()
    assert hub.registry.statements() == statements


async def test_long_titles_keys_and_free_text_are_refused(hub: Hub) -> None:
    tasks = await task_count(hub)
    for over, argument, limit in (
        ({"title": "任" * 201}, "createJointInspectionTask.input.title", 200),
        ({"idempotencyKey": "k" * 129}, "createJointInspectionTask.input.idempotencyKey", 128),
    ):
        body = await hub.gql(CREATE, {"input": {**task_input("k"), **over}})
        error = _refused(body, "STRING_TOO_LONG")
        assert error["extensions"]["argument"] == argument
        assert error["extensions"]["max"] == limit
    note = await hub.gql(
        RECORD,
        {
            "input": {
                "visitId": str(uuid.uuid4()),
                "category": "NO_PROBLEM",
                "concludedOn": "2026-12-05",
                "entries": [{"key": "K", "outcome": "COMPLIANT", "note": "x" * (MAX_STRING + 1)}],
            }
        },
    )
    assert _refused(note, "STRING_TOO_LONG")["extensions"]["max"] == MAX_STRING
    assert await task_count(hub) == tasks


def test_lone_surrogates_are_refused_wherever_they_hide() -> None:
    """JSON bodies with one cannot be decoded at all; a value that reaches the door with one
    (nested, or as an object key) is refused all the same."""
    document = parse_limited(SEARCH, LIMITS_BY_CLIENT["planner"])
    for variables in (
        {"f": {"nameContains": "ab\ud800"}},
        {"f": {"district": ["37\udfff"]}},
        {"f": {"nameContains": "ab"}, "unused": {"k\ud83d": 1}},
    ):
        found = refusal(document, schema._schema, variables, None)
        assert found is not None and found.extensions["reason"] == "INVALID_STRING"
    assert refusal(document, schema._schema, {"f": {"nameContains": "青岛😀"}}, None) is None


async def test_a_name_fragment_is_literal_and_trimmed(hub: Hub) -> None:
    """LIKE's wildcards match themselves; white space around a fragment is not part of it."""
    wild = await hub.gql(SEARCH, {"f": {"nameContains": "%_"}})
    assert "errors" not in wild and wild["data"]["entities"]["totalCount"] == 0
    some = await hub.gql(SEARCH, {"f": {"nameContains": "有限"}})
    trimmed = await hub.gql(SEARCH, {"f": {"nameContains": "  有限 "}})
    assert some["data"]["entities"]["totalCount"] > 0
    assert trimmed["data"] == some["data"]


@asynccontextmanager
async def slow_names(dsn: str, seconds_per_row: float) -> AsyncIterator[None]:
    """The register's names cost `seconds_per_row` each to read, as on a large register
    without an index for the fragment: a search that matches nothing reads them all, while a
    lookup by key reads one."""
    conn = await asyncpg.connect(dsn)
    try:
        columns = await conn.fetch(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'scztdj' ORDER BY ordinal_position"
        )
        select = ", ".join(
            f"hub_test_slow_name({c[0]}) AS {c[0]}" if c[0] == "qymc" else c[0] for c in columns
        )
        await conn.execute(
            "ALTER TABLE scztdj RENAME TO scztdj_fast;"
            "CREATE FUNCTION hub_test_slow_name(t text) RETURNS text LANGUAGE plpgsql STABLE AS "
            f"$$ BEGIN PERFORM pg_sleep({seconds_per_row}); RETURN t; END $$;"
            f"CREATE VIEW scztdj AS SELECT {select} FROM scztdj_fast;"
        )
        yield
    finally:
        await conn.execute(
            "DROP VIEW scztdj; DROP FUNCTION hub_test_slow_name(text);"
            "ALTER TABLE scztdj_fast RENAME TO scztdj;"
        )
        await conn.close()


async def test_a_pathological_search_neither_opens_the_breaker_nor_slows_a_probe(
    settings, seeded, dept_dsn
) -> None:
    """Five searches that would read every name (4 s each, twice the register's budget) at
    once: each is cut at the search's own budget and answered SEARCH_TOO_BROAD, the breaker
    stays closed, and a lookup by key sent alongside answers before any of them."""
    async with slow_names(dept_dsn("market"), 0.01), own_hub(settings) as hub:
        market = hub.registry.get("market")
        done: dict[str, float] = {}

        async def timed(name: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
            body = await hub.gql(query, variables)
            done[name] = time.perf_counter()
            return body

        async def probe() -> dict[str, Any]:
            await asyncio.sleep(0.1)  # the searches are under way
            return await timed("probe", PROBE, {"u": seeded.sample_uscc})

        *bodies, answer = await asyncio.gather(
            *(timed(f"s{i}", SEARCH, {"f": {"nameContains": f"无此名称{i}"}}) for i in range(5)),
            probe(),
        )
        for body in bodies:
            assert body["data"]["entities"] is None
            (error,) = body["errors"]
            assert error["extensions"] == {
                "code": "BAD_USER_INPUT",
                "department": "market",
                "reason": "SEARCH_TOO_BROAD",
            }, error
        assert "errors" not in answer and answer["data"]["entity"]["name"]
        assert done["probe"] < min(v for k, v in done.items() if k != "probe")
        assert market.breaker.state == "CLOSED" and market.breaker.failures == 0


@pytest.mark.parametrize("planned", [True, False], ids=["planned", "strawberry"])
async def test_a_stopped_register_is_department_unavailable_for_entities(
    settings, seeded, prefix, planned: bool
) -> None:
    query = """query($u: String!, $r: [_Any!]!) {
      entities(first: 3) { totalCount edges { node { uscc } } }
      entity(uscc: $u) { name permits { department { code } } }
      _entities(representations: $r) { ... on Entity { uscc name } }
      departments { code } }"""
    representation = {"__typename": "Entity", "uscc": seeded.sample_uscc}
    async with own_hub(dataclasses.replace(settings, planned=planned)) as hub:
        async with stopped(f"{prefix}market"):
            body = await hub.gql(query, {"u": seeded.sample_uscc, "r": [representation]})
        data = body["data"]
        assert data is not None, body
        assert data["entities"] is None
        assert data["entity"]["name"] is None and data["entity"]["permits"]
        assert data["_entities"] == [{"uscc": seeded.sample_uscc, "name": None}]
        assert {d["code"] for d in data["departments"]} >= {"market", "fire"}
        by_path = {tuple(e["path"]): e for e in body["errors"]}
        for path in (("entities",), ("entity",), ("_entities", 0)):
            assert by_path[path]["extensions"] == {
                "code": "DEPARTMENT_UNAVAILABLE",
                "department": "market",
            }, body["errors"]
        for e in body["errors"]:
            assert e["extensions"]["code"] != "INTERNAL_SERVER_ERROR"
            assert "Error" not in e["message"], e["message"]  # words, not exception classes


async def test_a_door_refusal_is_a_request_error_over_graphql_response_json(hub: Hub) -> None:
    """Refused before execution, like a query that does not validate: with the GraphQL
    response media type it answers 400 and carries no `data` (GraphQL over HTTP)."""
    r = await hub.client.post(
        "/graphql",
        json={"query": SEARCH, "variables": {"f": {"nameContains": NUL}}},
        headers={"accept": "application/graphql-response+json"},
    )
    assert r.status_code == 400, r.text
    body = r.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["reason"] == "INVALID_STRING"
