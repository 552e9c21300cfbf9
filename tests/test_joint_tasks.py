"""Joint inspection tasks end to end through GraphQL: create, draw, substitute, results,
review, publish, credit feedback, idempotency, audit chain, replayable draws."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import date, timedelta

import asyncpg
import pytest

from tasks.verification import verify_draw
from tests.conftest import ADMIN_URL, Hub, token

DEPARTMENTS = ["market", "culture", "fire"]

CREATE = """
mutation($input: CreateJointInspectionTaskInput!) {
  createJointInspectionTask(input: $input) {
    id status seedCommitment seed title departments { code } leadDepartment { code }
    plan { ratios { grade ratio } floor cap exclusionDays }
  }
}"""

DRAW = """
mutation($id: ID!, $key: String) {
  drawJointInspection(taskId: $id, idempotencyKey: $key) {
    id status seed seedCommitment
    population { grade population drawn }
    excluded { reason count }
    savings { visits dispatches separateVisits separateDispatches separateVisitsAvoided
              dispatchesAvoided }
    visitCounts { state count }
    visits(first: 100) {
      id uscc grade rank state district
      form { rawCount mergedCount departments entries { key tags delegable
             requirements { itemCode legalBasis department { code } } } }
      team { inspectorId role widerPool department { code } }
    }
  }
}"""


def task_input(key: str, **over) -> dict:
    base = {
        "title": "2026年第四季度网吧、餐饮场所联合抽查",
        "leadDepartment": "market",
        "departments": ["culture", "fire"],
        "scope": {},
        "plan": {
            "ratios": [
                {"grade": "A", "ratio": 0.05},
                {"grade": "B", "ratio": 0.1},
                {"grade": "C", "ratio": 0.3},
                {"grade": "D", "ratio": 1.0},
            ],
            "floor": 3,
            "cap": 60,
        },
        "teamSize": 2,
        "windowStart": "2026-12-01",
        "windowEnd": "2026-12-31",
        "idempotencyKey": key,
    }
    base.update(over)
    return base


async def create(hub: Hub, **over) -> dict:
    body = await hub.gql(CREATE, {"input": task_input(uuid.uuid4().hex, **over)})
    assert "errors" not in body, body
    return body["data"]["createJointInspectionTask"]


async def drawn_task(hub: Hub, **over) -> dict:
    task = await create(hub, **over)
    body = await hub.gql(DRAW, {"id": task["id"]})
    assert "errors" not in body, body
    return body["data"]["drawJointInspection"]


async def store_conn(hub: Hub) -> asyncpg.Connection:
    return await asyncpg.connect(hub.app.state.store.dsn)


async def task_count(hub: Hub) -> int:
    """Tasks in the hub store: a refused command leaves it unchanged."""
    conn = await store_conn(hub)
    try:
        return await conn.fetchval("SELECT count(*) FROM task")
    finally:
        await conn.close()


async def test_create_stores_a_draft_with_a_seed_commitment(hub: Hub) -> None:
    task = await create(hub)
    assert task["status"] == "DRAFT"
    assert task["seed"] is None and len(task["seedCommitment"]) == 64
    assert [d["code"] for d in task["departments"]] == ["market", "culture", "fire"]
    conn = await store_conn(hub)
    try:
        visits = await conn.fetchval(
            "SELECT count(*) FROM visit WHERE task_id = $1", uuid.UUID(task["id"])
        )
    finally:
        await conn.close()
    assert visits == 0, "nothing is drawn at creation"


async def test_retried_create_returns_the_first_answer_and_changes_nothing(hub: Hub) -> None:
    key = uuid.uuid4().hex
    first = await hub.gql(CREATE, {"input": task_input(key)})
    conn = await store_conn(hub)
    try:
        before = await conn.fetchval("SELECT count(*) FROM task")
        again = await hub.gql(CREATE, {"input": task_input(key)})
        assert again["data"] == first["data"]
        other = await hub.gql(CREATE, {"input": task_input(key, title="另一个任务")})
        assert other["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
        assert await conn.fetchval("SELECT count(*) FROM task") == before
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"departments": ["nowhere"]}, "UNKNOWN_DEPARTMENT"),
        ({"departments": ["credit"]}, "NOT_AN_INSPECTING_DEPARTMENT"),
        ({"teamSize": 1}, "TEAM_TOO_SMALL"),
        ({"windowEnd": "2026-11-01"}, "INVALID_WINDOW"),
        ({"title": " "}, "INVALID_TITLE"),
        ({"plan": {"ratios": [{"grade": "A", "ratio": 1.5}]}}, "INVALID_RATIO"),
    ],
)
async def test_invalid_task_input_is_refused_and_stores_nothing(hub: Hub, override, reason) -> None:
    conn = await store_conn(hub)
    try:
        before = await conn.fetchval("SELECT count(*) FROM task")
        body = await hub.gql(CREATE, {"input": task_input(uuid.uuid4().hex, **override)})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["reason"] == reason
        assert await conn.fetchval("SELECT count(*) FROM task") == before
    finally:
        await conn.close()


async def test_draw_freezes_visits_teams_and_reveals_the_seed(hub: Hub) -> None:
    task = await drawn_task(hub)
    assert task["status"] == "DRAWN"
    assert hashlib.sha256(bytes.fromhex(task["seed"])).hexdigest() == task["seedCommitment"]
    visits = task["visits"]
    assert visits and len(visits) == sum(g["drawn"] for g in task["population"])
    for v in visits:
        assert len(v["team"]) >= 2
        assert v["form"]["mergedCount"] <= v["form"]["rawCount"]
        assert sum(1 for m in v["team"] if m["role"] == "leader") == 1
    assert task["savings"]["visits"] == len(visits)
    assert task["savings"]["separateVisitsAvoided"] >= 0


async def test_draw_twice_is_refused(hub: Hub) -> None:
    task = await drawn_task(hub)
    again = await hub.gql(DRAW, {"id": task["id"]})
    assert again["errors"][0]["extensions"]["code"] == "ALREADY_DRAWN"


async def test_draw_retried_with_its_key_returns_the_same_draw(hub: Hub) -> None:
    task = await create(hub)
    key = uuid.uuid4().hex
    first = await hub.gql(DRAW, {"id": task["id"], "key": key})
    again = await hub.gql(DRAW, {"id": task["id"], "key": key})
    assert "errors" not in again
    assert again["data"] == first["data"]


async def test_draw_replays_bit_for_bit_from_its_seed(hub: Hub) -> None:
    task = await drawn_task(hub)
    check = await verify_draw(hub.app.state.store.pool, uuid.UUID(task["id"]))
    assert check.ok, check.problems
    assert check.commitment_ok and check.entities_ok and check.teams_ok
    conn = await store_conn(hub)
    try:  # a tampered frozen draw no longer replays
        await conn.execute(
            "UPDATE visit SET rank = 'ff' WHERE id = $1", uuid.UUID(task["visits"][0]["id"])
        )
    finally:
        await conn.close()
    assert not (await verify_draw(hub.app.state.store.pool, uuid.UUID(task["id"]))).entities_ok


async def test_preview_merges_shared_items_into_fewer_entries(hub: Hub, seeded) -> None:
    body = await hub.gql(
        """query($u: String!, $d: [String!]!) { checklistPreview(departments: $d, uscc: $u) {
             entity { name } separateVisits jointVisits
             form { rawCount mergedCount
                    entries { key requirements { department { code } } } } } }""",
        {"u": seeded.sample_uscc, "d": DEPARTMENTS},
    )
    p = body["data"]["checklistPreview"]
    assert p["form"]["mergedCount"] < p["form"]["rawCount"]
    shared = [e for e in p["form"]["entries"] if len(e["requirements"]) > 1]
    assert shared, "items with one standard code become one entry"
    assert p["separateVisits"] >= 2 and p["jointVisits"] == 1


SUBSTITUTE = """
mutation($v: ID!, $i: String!, $r: String!) {
  substituteInspector(visitId: $v, inspectorId: $i, reason: $r) {
    team { inspectorId department { code } }
    teamHistory { inspectorId origin replacedAt reason }
  }
}"""


async def test_substitution_keeps_the_original_in_history(hub: Hub) -> None:
    task = await drawn_task(hub)
    visit = task["visits"][0]
    out = visit["team"][-1]
    body = await hub.gql(SUBSTITUTE, {"v": visit["id"], "i": out["inspectorId"], "r": "病假"})
    assert "errors" not in body, body
    v = body["data"]["substituteInspector"]
    ids = [m["inspectorId"] for m in v["team"]]
    assert out["inspectorId"] not in ids and len(ids) == len(visit["team"])
    replaced = [h for h in v["teamHistory"] if h["inspectorId"] == out["inspectorId"]]
    assert replaced[0]["reason"] == "病假" and replaced[0]["replacedAt"]
    assert any(h["origin"] == "SUBSTITUTION" for h in v["teamHistory"])
    newcomer = next(
        m for m in v["team"] if m["inspectorId"] not in {t["inspectorId"] for t in visit["team"]}
    )
    assert newcomer["department"]["code"] == out["department"]["code"]
    no_reason = await hub.gql(SUBSTITUTE, {"v": visit["id"], "i": ids[0], "r": " "})
    assert no_reason["errors"][0]["extensions"]["reason"] == "REASON_REQUIRED"


RECORD = """
mutation($input: RecordVisitResultInput!) {
  recordVisitResult(input: $input) { state result { version category } }
}"""
REVIEW = """
mutation($v: ID!, $ok: Boolean!, $c: String) {
  reviewVisitResult(visitId: $v, approve: $ok, comment: $c) { state }
}"""
PUBLISH = """
mutation($t: ID!, $close: Boolean, $reason: String) {
  publishTaskResults(taskId: $t, closeUnfinished: $close, reason: $reason) {
    status visitCounts { state count }
    visits { uscc state publication { deadline late } }
  }
}"""


def inspector_of(visit: dict, sub: str = "insp-1", *roles: str) -> dict[str, str]:
    """An inspector of a department on the visit's team: who may enter its result."""
    return as_(visit["team"][0]["department"]["code"], sub, "officer", "inspector", *roles)


def as_(dept: str, sub: str, *roles: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token(dept, roles, sub=sub)}"}


def reviewer(dept: str = "market", sub: str = "rev-1") -> dict[str, str]:
    """A reviewer of `dept` (the tasks here are led by market regulation)."""
    return as_(dept, sub, "officer", "reviewer")


async def backdate_draw(hub: Hub, task_id: str, days: int) -> date:
    """Move a task's draw `days` into the past (a result concludes between the draw and
    today: a late publication needs a draw long enough ago)."""
    conn = await store_conn(hub)
    try:
        await conn.execute(
            "UPDATE task SET drawn_at = drawn_at - make_interval(days => $2) WHERE id = $1",
            uuid.UUID(task_id),
            days,
        )
    finally:
        await conn.close()
    return date.today() - timedelta(days=days)


def outcomes(visit: dict, bad: int = 1) -> list[dict]:
    entries = visit["form"]["entries"]
    return [
        {
            "key": e["key"],
            "outcome": "NON_COMPLIANT" if i < bad else "COMPLIANT",
            "note": "消防通道堵塞" if i < bad else "",
        }
        for i, e in enumerate(entries)
    ]


async def _credit(hub: Hub, uscc: str) -> dict:
    body = await hub.gql(
        "query($u:String!){ entity(uscc:$u){ credit { score grade } "
        "creditRecords(kinds: [INSPECTION_RESULT]) { id deduction } } }",
        {"u": uscc},
    )
    return body["data"]["entity"]


async def credit_fed(hub: Hub, uscc: str, records: int) -> dict:
    """The entity's credit once the delivery worker has fed `records` inspection results."""
    for _ in range(300):
        entity = await _credit(hub, uscc)
        if len(entity["creditRecords"]) >= records:
            return entity
        await asyncio.sleep(0.1)
    raise AssertionError(f"credit feedback for {uscc} did not arrive: {entity}")


async def test_results_flow_review_publish_and_feed_credit(hub: Hub) -> None:
    task = await drawn_task(hub)
    await backdate_draw(hub, task["id"], 60)
    visit, *others = task["visits"]
    concluded = (date.today() - timedelta(days=40)).isoformat()  # published late on purpose
    wrong = await hub.gql(
        RECORD,
        {
            "input": {
                "visitId": visit["id"],
                "category": "NO_PROBLEM",
                "entries": outcomes(visit)[1:],
                "concludedOn": concluded,
            }
        },
        headers=inspector_of(visit),
    )
    assert wrong["errors"][0]["extensions"]["reason"] == "RESULT_DOES_NOT_MATCH_FORM"

    entry = {
        "visitId": visit["id"],
        "category": "PROBLEM_CORRECTED",
        "entries": outcomes(visit),
        "concludedOn": concluded,
    }
    planner_try = await hub.gql(RECORD, {"input": entry})
    assert planner_try["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await hub.gql(RECORD, {"input": entry}, headers=inspector_of(visit))
    assert body["data"]["recordVisitResult"]["state"] == "PENDING_REVIEW"
    review = {"v": visit["id"], "ok": False, "c": "请补充整改照片"}
    returned = await hub.gql(REVIEW, review, headers=reviewer())
    assert returned["data"]["reviewVisitResult"]["state"] == "RETURNED"
    again = await hub.gql(RECORD, {"input": entry}, headers=inspector_of(visit))
    assert again["data"]["recordVisitResult"]["result"]["version"] == 2
    approve = {"v": visit["id"], "ok": True, "c": ""}
    approved = await hub.gql(REVIEW, approve, headers=reviewer())
    assert approved["data"]["reviewVisitResult"]["state"] == "APPROVED"
    twice = await hub.gql(REVIEW, approve, headers=reviewer())
    assert twice["errors"][0]["extensions"]["code"] == "INVALID_STATE"

    # Each department sees its own items' outcomes under its own codes.
    view = await hub.gql(
        'query($v: ID!){ jointVisit(id: $v) { outcomesFor(department: "fire") '
        "{ department itemCode legalBasis outcome } } }",
        {"v": visit["id"]},
    )
    fire = view["data"]["jointVisit"]["outcomesFor"]
    fire_items = {
        r["itemCode"]
        for e in visit["form"]["entries"]
        for r in e["requirements"]
        if r["department"]["code"] == "fire"
    }
    assert {o["itemCode"] for o in fire} == fire_items
    assert all(o["department"] == "fire" for o in fire)

    before = await _credit(hub, visit["uscc"])
    if others:
        refused = await hub.gql(PUBLISH, {"t": task["id"]})
        assert refused["errors"][0]["extensions"]["code"] == "RESULTS_INCOMPLETE"
        no_reason = await hub.gql(PUBLISH, {"t": task["id"], "close": True})
        assert no_reason["errors"][0]["extensions"]["reason"] == "REASON_REQUIRED"
    published = await hub.gql(
        PUBLISH, {"t": task["id"], "close": True, "reason": "窗口期结束，其余企业转入下一批次"}
    )
    p = published["data"]["publishTaskResults"]
    assert p["status"] == "PUBLISHED"
    states = {v["uscc"]: v for v in p["visits"]}
    assert states[visit["uscc"]]["state"] == "PUBLISHED"
    assert states[visit["uscc"]]["publication"]["late"] is True
    assert all(states[o["uscc"]]["state"] == "CLOSED_UNFINISHED" for o in others)

    after = await credit_fed(hub, visit["uscc"], len(before["creditRecords"]) + 1)
    assert after["credit"]["score"] < (before["credit"] or {"score": 100})["score"]

    public = await hub.gql(
        "query($u: String!){ publishedResults(uscc: $u) { edges { node { uscc taskTitle "
        "departments category concludedOn publishedOn } } } }",
        {"u": visit["uscc"]},
    )
    (node,) = [e["node"] for e in public["data"]["publishedResults"]["edges"]]
    assert node["category"] == "PROBLEM_CORRECTED"
    assert node["departments"] == sorted(visit["form"]["departments"])


async def test_public_result_type_has_no_inspector_fields(hub: Hub) -> None:
    body = await hub.gql('{ __type(name: "PublishedResult") { fields { name } } }')
    names = {f["name"] for f in body["data"]["__type"]["fields"]}
    assert not {n for n in names if "inspector" in n.lower() or "team" in n.lower()}


async def test_audit_chain_detects_a_tampered_row(hub: Hub) -> None:
    task = await drawn_task(hub)
    query = """query($t: ID!) { auditTrail(taskId: $t) { entries { seq action prevHash hash }
               verification { ok firstBrokenSeq reason } } }"""
    trail = (await hub.gql(query, {"t": task["id"]}))["data"]["auditTrail"]
    assert [e["action"] for e in trail["entries"]] == ["CREATED", "DRAWN"]
    assert trail["entries"][1]["prevHash"] == trail["entries"][0]["hash"]
    assert trail["verification"]["ok"]
    conn = await store_conn(hub)
    try:
        await conn.execute(
            "UPDATE audit SET actor = 'mallory' WHERE seq = $1", trail["entries"][1]["seq"]
        )
    finally:
        await conn.close()
    broken = (await hub.gql(query, {"t": task["id"]}))["data"]["auditTrail"]["verification"]
    assert broken == {
        "ok": False,
        "firstBrokenSeq": trail["entries"][1]["seq"],
        "reason": "content does not match its hash",
    }


async def test_draw_refused_when_a_department_is_down(hub: Hub, prefix) -> None:
    from tests.test_partial import stopped

    task = await create(hub)
    async with stopped(f"{prefix}fire"):
        body = await hub.gql(DRAW, {"id": task["id"]})
    err = body["errors"][0]["extensions"]
    assert err["code"] == "DEPARTMENT_UNAVAILABLE" and err["department"] == "fire"
    after = await hub.gql(
        "query($t: ID!){ jointInspectionTask(id: $t) { status seed } }", {"t": task["id"]}
    )
    assert after["data"]["jointInspectionTask"] == {"status": "DRAFT", "seed": None}


async def test_recently_inspected_entities_are_excluded(hub: Hub) -> None:
    first = await drawn_task(hub)
    visit = first["visits"][0]
    today = date.today().isoformat()
    await hub.gql(
        RECORD,
        {
            "input": {
                "visitId": visit["id"],
                "category": "NO_PROBLEM",
                "entries": outcomes(visit, bad=0),
                "concludedOn": today,
            }
        },
        headers=inspector_of(visit),
    )
    plan = {"ratios": [{"grade": g, "ratio": 1.0} for g in "ABCD"], "exclusionDays": 30}
    second = await drawn_task(hub, plan=plan)
    assert visit["uscc"] not in {v["uscc"] for v in second["visits"]}
    excluded = {e["reason"]: e["count"] for e in second["excluded"]}
    assert sum(v for k, v in excluded.items() if k != "NO_APPLICABLE_ITEMS") >= 1


async def test_tasks_are_listed_newest_first(hub: Hub) -> None:
    await create(hub)
    body = await hub.gql(
        "{ jointInspectionTasks(first: 3) { nodes { id createdAt } "
        "pageInfo { hasNextPage endCursor } } }"
    )
    nodes = body["data"]["jointInspectionTasks"]["nodes"]
    assert [n["createdAt"] for n in nodes] == sorted((n["createdAt"] for n in nodes), reverse=True)


async def test_verify_commands_from_the_shell(hub: Hub, prefix) -> None:
    import os
    import sys

    task = await drawn_task(hub)
    env = {**os.environ, "DATABASE_URL": ADMIN_URL, "HUB_DB_PREFIX": prefix}

    async def run(*args: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gateway.cli",
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        return proc.returncode or 0, out.decode()

    code, out = await run("verify-draw", task["id"])
    assert code == 0 and "MATCH" in out, out
    code, out = await run("verify-audit", task["id"])
    assert code == 0 and "chain intact" in out, out


async def test_census_before_saving_equals_what_the_draw_takes(hub: Hub) -> None:
    plan = task_input("x")["plan"]
    census = await hub.gql(
        """query($p: SamplingPlanInput!) { jointInspectionCensus(
             departments: ["market", "culture", "fire"], plan: $p) {
             grades { grade population expected } expectedVisits excluded { reason count } } }""",
        {"p": plan},
    )
    c = census["data"]["jointInspectionCensus"]
    task = await drawn_task(hub)
    drawn = {g["grade"]: (g["population"], g["drawn"]) for g in task["population"]}
    assert {g["grade"]: (g["population"], g["expected"]) for g in c["grades"]} == drawn
    assert c["expectedVisits"] == sum(g["drawn"] for g in task["population"])
