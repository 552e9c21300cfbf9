"""The planned executor answers exactly what strawberry's executor answers, or hands back.

Every test asks a hub with the planned path (the session hub) and one without it
(HUB_PLANNED=off) the same operation, and checks which path answered.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType

from bench import workloads as wl
from schemas.schema import schema as strawberry_schema
from store import access
from telemetry import metrics
from tests.conftest import Hub
from tests.test_partial import own_hub, unreachable

FRAGMENTS = """
fragment Money on Penalty { fine decisionNumber }
query Frag($u: String!) {
  entity(uscc: $u) {
    __typename uscc
    ... on Entity { name district { code } }
    penalties { ...Money id __typename }
    ... { credit { grade lists { kind since } } }
  }
}"""

ARGUMENTS = """
query Args($d: String!, $since: Date, $kinds: [CreditRecordKind!]) {
  page: entities(filter: {district: [$d], kind: [ENTERPRISE]}, first: 25) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      uscc
      market: permits(department: "market") { id validTo }
      inForce: permits(validOn: "2024-06-30") { id status department { code nameEn } }
      recent: penalties(since: $since) { id decidedOn publicized }
      fire: inspections(department: "fire") { id result }
      creditRecords(kinds: $kinds) { id kind repairsId }
    } }
  }
  departments { code name adapter }
}"""


def executions(path: str) -> float:
    return metrics.EXECUTIONS.labels(path)._value.get()


@pytest.fixture(scope="module")
async def unplanned(settings) -> AsyncIterator[Hub]:
    async with own_hub(dataclasses.replace(settings, planned=False)) as hub:
        yield hub


async def both(hub: Hub, unplanned: Hub, query: str, variables: dict[str, Any]) -> tuple:
    before = {p: executions(p) for p in ("planned", "handed_back", "no_plan")}
    planned = await hub.gql(query, variables)
    path = next(p for p in before if executions(p) > before[p])
    reference = await unplanned.gql(query, variables)
    return planned, reference, path


def _errors(body: dict) -> list[tuple]:
    return sorted(
        (str(e.get("path")), e["extensions"].get("code"), e["extensions"].get("department") or "")
        for e in body.get("errors", [])
    )


@pytest.mark.parametrize(
    "name, query",
    [("W1", wl.W1), ("W2", wl.W2), ("W3", wl.W3), ("fragments", FRAGMENTS), ("args", ARGUMENTS)],
)
async def test_planned_answer_equals_strawberry(hub, unplanned, seeded, name, query) -> None:
    variables = {
        "u": seeded.sample_uscc,
        "d": "370202",
        "after": None,
        "since": "2020-01-01",
        "kinds": ["PENALTY_PUBLICITY", "ABNORMAL_OPERATION"],
    }
    planned, reference, path = await both(hub, unplanned, query, variables)
    assert path == "planned"
    assert "errors" not in planned
    assert planned == reference


def _all_fields(type_: GraphQLObjectType, depth: int) -> str:
    """Every field of a type that takes no required argument, down to `depth` levels."""
    parts = []
    for name, field in type_.fields.items():
        if any(isinstance(a.type, GraphQLNonNull) for a in field.args.values()):
            continue
        inner = field.type
        while isinstance(inner, GraphQLNonNull | GraphQLList):
            inner = inner.of_type
        if isinstance(inner, GraphQLObjectType):
            if depth == 0 or inner.name == "Department":
                continue
            parts.append(f"{name} {{ {_all_fields(inner, depth - 1)} }}")
        else:
            parts.append(name)
    return " ".join(parts)


async def test_every_entity_field_is_planned_and_equal(hub, unplanned, seeded) -> None:
    entity = strawberry_schema._schema.type_map["Entity"]
    selection = _all_fields(entity, 3)
    query = f"query All($u: String!) {{ entity(uscc: $u) {{ {selection} }} }}"
    page = await hub.gql("{ entities(first: 6) { edges { node { uscc } } } }")
    others = [e["node"]["uscc"] for e in page["data"]["entities"]["edges"]]
    for u in (seeded.sample_uscc, *others):
        planned, reference, path = await both(hub, unplanned, query, {"u": u})
        assert path == "planned"
        assert planned == reference


@pytest.mark.parametrize(
    "query, variables, code",
    [
        ("query($u: String!) { entity(uscc: $u) { name } }", {"u": "91370202X"}, "INVALID_USCC"),
        (
            'query($u: String!) { entity(uscc: $u) { permits(department: "nope") { id } } }',
            None,
            "UNKNOWN_DEPARTMENT",
        ),
        ("{ entities(first: 1000) { edges { cursor } } }", {}, "PAGE_SIZE_EXCEEDED"),
        ('{ entities(after: "bm9wZQ==") { edges { cursor } } }', {}, "INVALID_CURSOR"),
    ],
)
async def test_bad_input_is_handed_back(hub, unplanned, seeded, query, variables, code) -> None:
    variables = {"u": seeded.sample_uscc} if variables is None else variables
    planned, reference, path = await both(hub, unplanned, query, variables)
    assert path == "handed_back"
    assert planned == reference
    assert [e["extensions"]["reason"] for e in planned["errors"]] == [code]


async def test_unreachable_department_is_the_same_partial_result(settings, seeded) -> None:
    down = unreachable(settings, "fire")
    async with own_hub(down) as hub, own_hub(dataclasses.replace(down, planned=False)) as ref:
        planned, reference, path = await both(hub, ref, wl.W3, {"d": "370203", "after": None})
    assert path == "planned"
    assert planned["data"] == reference["data"]
    assert _errors(planned) == _errors(reference)
    assert {e[2] for e in _errors(planned)} == {"fire"}
    assert len(planned["errors"]) == 3 * len(planned["data"]["entities"]["edges"])


async def test_rules_decided_per_object_are_handed_back(hub, seeded) -> None:
    """A partner without penalties:read may see a penalty's details only while it is in
    publicity: that is decided object by object, so strawberry answers."""
    pool = hub.app.state.store.pool
    permits = "query P($u: String!) { entity(uscc: $u) { permits { id } } }"
    penalties = "query Q($u: String!) { entity(uscc: $u) { penalties { id violation } } }"
    for q in (permits, penalties):
        await access.register_operation(pool, "planned-probe", q, [])
    key = await access.create_key(pool, "planned test", ["entities:read", "permits:read"])
    for q, expected in ((permits, "planned"), (penalties, "handed_back")):
        before = executions(expected)
        r = await hub.raw.post(
            "/graphql",
            headers={"x-api-key": key},
            json={
                "variables": {"u": seeded.sample_uscc},
                "extensions": {
                    "persistedQuery": {"version": 1, "sha256Hash": access.document_hash(q)}
                },
            },
        )
        assert r.status_code == 200, r.text
        assert executions(expected) == before + 1


async def test_operations_outside_the_plan_go_to_strawberry(hub, seeded) -> None:
    for query in (
        "{ __schema { queryType { name } } }",
        'query($u: String!) { checklistPreview(departments: ["market"], uscc: $u) '
        "{ jointVisits } }",
        "query($u: String!) { entity(uscc: $u) { name @include(if: true) } }",
        "{ departments { health { status } } }",
    ):
        before = executions("no_plan")
        await hub.gql(query, {"u": seeded.sample_uscc})
        assert executions("no_plan") == before + 1, query


async def test_access_log_is_the_same_on_both_paths(hub, unplanned, seeded) -> None:
    """Both executors record the same reads of entity records for the access log."""
    planned_ctx: list[Any] = []
    reference_ctx: list[Any] = []
    for h, sink in ((hub, planned_ctx), (unplanned, reference_ctx)):
        body = await h.gql(wl.W1, {"u": seeded.sample_uscc})
        assert "errors" not in body
        rows = await h.app.state.store.pool.fetch(
            "SELECT entities, departments FROM access_log ORDER BY id DESC LIMIT 1"
        )
        sink.extend(dict(r) for r in rows)
    assert planned_ctx == reference_ctx


async def test_both_paths_send_the_same_statements(hub, unplanned, settings) -> None:
    """Breadth-first loading keeps the batching: one statement per department and kind."""
    spent = []
    for h in (hub, unplanned):
        before = h.registry.statements()
        body = await h.gql(wl.W3, {"d": "370211", "after": None})
        assert "errors" not in body
        after = h.registry.statements()
        spent.append({code: after[code] - before[code] for code in after})
    assert spent[0] == spent[1]
    assert spent[0]["market"] == 4 and spent[0]["credit"] == 2
    assert sum(spent[0].values()) == 21  # department statements; the access log is the hub's
