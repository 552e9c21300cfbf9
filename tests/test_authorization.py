"""Who may see what: each cell of the README's role × field table, walked for real (the
entity's cells both through `entity` and through the federation's `_entities`)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from store import access
from tests.conftest import Hub, token

ENTITY = "query($u: String!) { entity(uscc: $u) { name %s } }"
# The same reached through the federation's `_entities`, with exactly the permissions of entity.
FEDERATED = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Entity { name %s } } }"
# field under test -> (selection below an entity, path of the field below it)
ENTITY_FIELDS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "entity": ("", ()),
    "Entity.permits": ("permits { id }", ("permits",)),
    "Entity.penalties": ("penalties { id }", ("penalties",)),
    "Penalty.violation": ("penalties { violation }", ("penalties", 0, "violation")),
    "Entity.credit": ("credit { grade }", ("credit",)),
    "Entity.inspections": ("inspections { id }", ("inspections",)),
}

# field under test -> (query, path of the field in the answer)
FIELDS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "publishedResults": (
        "{ publishedResults(first: 5) { edges { node { uscc } } } }",
        ("publishedResults",),
    ),
    "drawRecord": ("query($t: ID!) { drawRecord(taskId: $t) }", ("drawRecord",)),
    **{f: (ENTITY % sel, ("entity", *below)) for f, (sel, below) in ENTITY_FIELDS.items()},
    **{
        f"{f} (_entities)": (FEDERATED % sel, ("_entities", 0, *below))
        for f, (sel, below) in ENTITY_FIELDS.items()
    },
    "Department.inspectors": (
        '{ departments { code inspectors(district: "370202") { id } } }',
        ("departments", 0, "inspectors"),
    ),
    "Inspector.name (own department)": (
        '{ departments { code inspectors(district: "370202") { id name certificate } } }',
        ("departments", 4, "inspectors", 0, "name"),  # fire, the officer's own
    ),
    "Inspector.name (other department)": (
        '{ departments { code inspectors(district: "370202") { id name certificate } } }',
        ("departments", 0, "inspectors", 0, "name"),  # market
    ),
    "jointInspectionTasks": (
        "{ jointInspectionTasks(first: 1) { nodes { id } } }",
        ("jointInspectionTasks",),
    ),
    "auditTrail": (
        "query($t: ID!) { auditTrail(taskId: $t) { verification { ok } } }",
        ("auditTrail",),
    ),
    "accessLog": ("{ accessLog(first: 1) { at } }", ("accessLog",)),
    "auditCheckpoint": (
        "query($t: ID!) { auditCheckpoint(taskId: $t) { count headHash signature } }",
        ("auditCheckpoint",),
    ),
    "auditProof": (
        "query($t: ID!) { auditProof(taskId: $t, fromCount: 0) { toCount leaves } }",
        ("auditProof",),
    ),
    "createJointInspectionTask": (
        """mutation($k: String!) { createJointInspectionTask(input: {
             title: "t", leadDepartment: "market", departments: ["fire"],
             plan: { ratios: [{grade: A, ratio: 0.1}] }, windowStart: "2026-12-01",
             windowEnd: "2026-12-31", idempotencyKey: $k }) { id } }""",
        ("createJointInspectionTask",),
    ),
    # Four eyes: the officer here (fire, role officer) is no inspector and no reviewer, the
    # planner neither; who may is tested with a drawn task in tests/test_four_eyes.py.
    "recordVisitResult": (
        """mutation($v: ID!) { recordVisitResult(input: { visitId: $v, category: NO_PROBLEM,
             entries: [], concludedOn: "2026-12-01" }) { id } }""",
        ("recordVisitResult",),
    ),
    "reviewVisitResult": (
        "mutation($v: ID!) { reviewVisitResult(visitId: $v, approve: true) { id } }",
        ("reviewVisitResult",),
    ),
    "addWorkingDays": (
        '{ addWorkingDays(from: "2026-09-29", days: 20) { date provisional } }',
        ("addWorkingDays",),
    ),
    "creditRepairs": ("{ creditRepairs(first: 5) { id reviewDue { date } } }", ("creditRepairs",)),
    # Credit repair: filed by officers of the platform or of the deciding department, reviewed
    # by the platform's reviewers; who may is tested with real records in
    # tests/test_credit_repair.py.
    "reviewCreditRepair": (
        "mutation($v: ID!) { reviewCreditRepair(id: $v, approve: true) { id } }",
        ("reviewCreditRepair",),
    ),
}

OK, FORBIDDEN, UNAUTH = "ok", "FORBIDDEN", "UNAUTHENTICATED"
ROLES = ("public", "partner", "officer", "planner")
# The README's table: one row per field, one column per role.
TABLE: dict[str, tuple[str, str, str, str]] = {
    "publishedResults": (OK, OK, OK, OK),
    "drawRecord": (OK, OK, OK, OK),
    "entity": (UNAUTH, OK, OK, OK),
    "Entity.permits": (UNAUTH, OK, OK, OK),
    "Entity.penalties": (UNAUTH, FORBIDDEN, OK, OK),
    "Penalty.violation": (UNAUTH, FORBIDDEN, OK, OK),
    "Entity.credit": (UNAUTH, OK, OK, OK),
    "Entity.inspections": (UNAUTH, FORBIDDEN, OK, OK),
    "Department.inspectors": (UNAUTH, FORBIDDEN, OK, OK),
    "Inspector.name (own department)": (UNAUTH, FORBIDDEN, OK, OK),
    "Inspector.name (other department)": (UNAUTH, FORBIDDEN, FORBIDDEN, OK),
    "jointInspectionTasks": (UNAUTH, FORBIDDEN, OK, OK),
    "auditTrail": (UNAUTH, FORBIDDEN, FORBIDDEN, OK),
    "accessLog": (UNAUTH, FORBIDDEN, OK, OK),
    "auditCheckpoint": (OK, OK, OK, OK),
    "auditProof": (OK, OK, OK, OK),
    "createJointInspectionTask": (UNAUTH, FORBIDDEN, FORBIDDEN, OK),
    "recordVisitResult": (UNAUTH, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "reviewVisitResult": (UNAUTH, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "addWorkingDays": (OK, OK, OK, OK),
    "creditRepairs": (UNAUTH, FORBIDDEN, OK, OK),
    "reviewCreditRepair": (UNAUTH, FORBIDDEN, FORBIDDEN, FORBIDDEN),
}
TABLE.update({f"{field} (_entities)": TABLE[field] for field in ENTITY_FIELDS})
PARTNER_SCOPES = ["entities:read", "permits:read", "credit:read"]  # no penalties:read


@pytest.fixture(scope="module")
async def partner_key(hub: Hub) -> str:
    pool = hub.app.state.store.pool
    for query, _ in FIELDS.values():
        await access.register_operation(pool, "authz-probe", query, [])
    return await access.create_key(pool, "credit platform (test)", PARTNER_SCOPES)


@pytest.fixture(scope="module")
async def a_task(hub: Hub) -> str:
    body = await hub.gql(FIELDS["createJointInspectionTask"][0], {"k": uuid.uuid4().hex})
    return body["data"]["createJointInspectionTask"]["id"]


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        if data is None:
            return None
        data = data[step]
    return data


async def _ask(hub: Hub, role: str, query: str, variables: dict, key: str) -> tuple[int, dict]:
    headers: dict[str, str] = {}
    payload: dict[str, Any] = {"query": query, "variables": variables}
    if role == "officer":
        headers["authorization"] = f"Bearer {token('fire', ('officer',), sub='officer-1')}"
    elif role == "planner":
        headers["authorization"] = f"Bearer {token('market', ('planner',))}"
    elif role == "partner":
        headers["x-api-key"] = key
        payload = {
            "variables": variables,
            "extensions": {
                "persistedQuery": {"version": 1, "sha256Hash": access.document_hash(query)}
            },
        }
    r = await hub.raw.post("/graphql", json=payload, headers=headers)
    return r.status_code, r.json()


@pytest.mark.parametrize("field", list(TABLE))
@pytest.mark.parametrize("role", ROLES)
async def test_role_field_table(hub: Hub, seeded, partner_key, a_task, field, role) -> None:
    query, path = FIELDS[field]
    variables = {
        "u": seeded.sample_uscc,
        "t": a_task,
        "k": uuid.uuid4().hex,
        "v": a_task,
        "r": [{"__typename": "Entity", "uscc": seeded.sample_uscc}],
    }
    expected = TABLE[field][ROLES.index(role)]
    status, body = await _ask(hub, role, query, variables, partner_key)
    if expected == UNAUTH:
        assert status == 401 and body["errors"][0]["extensions"]["code"] == UNAUTH
        return
    assert status == 200, body
    errors = [
        e
        for e in body.get("errors", [])
        if tuple(e.get("path") or ())[: len(path)] == path[: len(e.get("path") or ())]
        and e["extensions"]["code"] in (FORBIDDEN, UNAUTH)
    ]
    if expected == OK:
        assert not errors, errors
        assert _at(body["data"], path) is not None
    else:
        assert errors and errors[0]["extensions"]["code"] == FORBIDDEN
        assert _at(body["data"], path) is None
        if len(path) > 1:  # the rest of the answer is intact
            assert body["data"] is not None
