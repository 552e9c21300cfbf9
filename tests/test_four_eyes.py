"""Four eyes and "whoever inspects, enters" (rules.md, Results): only an inspector of a
department on the visit's team enters a result; a reviewer of the entering or the lead
department reviews it, never the person who entered that version; a re-entered result needs a
fresh review. Refusals are FORBIDDEN with the rule as `reason`, and change nothing."""

from __future__ import annotations

import uuid
from datetime import date

from tests.conftest import Hub
from tests.test_joint_tasks import (
    RECORD,
    REVIEW,
    as_,
    drawn_task,
    inspector_of,
    outcomes,
    reviewer,
    store_conn,
)

VISIT = """query($v: ID!) { jointVisit(id: $v) { state
  result { version approved enteredBy reviewedBy outsideWindow } } }"""


def entry(visit: dict, **over) -> dict:
    return {
        "input": {
            "visitId": visit["id"],
            "category": "PROBLEM_CORRECTED",
            "entries": outcomes(visit),
            "concludedOn": date.today().isoformat(),
            **over,
        }
    }


def refusal(body: dict) -> tuple[str, str | None]:
    ext = body["errors"][0]["extensions"]
    return ext["code"], ext.get("reason")


async def results_of(hub: Hub, visit_id: str) -> int:
    conn = await store_conn(hub)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM result WHERE visit_id = $1", uuid.UUID(visit_id)
        )
    finally:
        await conn.close()


async def test_only_an_inspector_of_a_department_on_the_team_enters(hub: Hub) -> None:
    visit = (await drawn_task(hub))["visits"][0]
    team = {m["department"]["code"] for m in visit["team"]}
    dept = visit["team"][0]["department"]["code"]
    outsider = next(d for d in ("market", "culture", "fire", "ecology") if d not in team)
    refused = {
        "planner": (await hub.gql(RECORD, entry(visit)), "NOT_AN_INSPECTOR"),
        "officer of the team": (
            await hub.gql(RECORD, entry(visit), headers=as_(dept, "off-1", "officer")),
            "NOT_AN_INSPECTOR",
        ),
        "reviewer of the team": (
            await hub.gql(RECORD, entry(visit), headers=as_(dept, "rev-9", "officer", "reviewer")),
            "NOT_AN_INSPECTOR",
        ),
        "planner-inspector off the team": (
            await hub.gql(
                RECORD, entry(visit), headers=as_(outsider, "p-2", "planner", "inspector")
            ),
            "NOT_ON_TEAM",
        ),
        "inspector off the team": (
            await hub.gql(RECORD, entry(visit), headers=as_(outsider, "insp-9", "inspector")),
            "NOT_ON_TEAM",
        ),
    }
    for who, (body, reason) in refused.items():
        assert refusal(body) == ("FORBIDDEN", reason), who
    assert await results_of(hub, visit["id"]) == 0, "a refusal changes nothing"
    done = await hub.gql(RECORD, entry(visit), headers=inspector_of(visit))
    assert done["data"]["recordVisitResult"]["state"] == "PENDING_REVIEW"


async def test_whoever_enters_never_approves_and_reviewers_come_from_two_departments(
    hub: Hub,
) -> None:
    visit = (await drawn_task(hub))["visits"][0]
    team = {m["department"]["code"] for m in visit["team"]}
    dept = visit["team"][0]["department"]["code"]
    # One token holding officer, inspector and reviewer: it enters, it may not approve.
    both = inspector_of(visit, "zhang.wei", "reviewer")
    await hub.gql(RECORD, entry(visit), headers=both)
    approve = {"v": visit["id"], "ok": True, "c": ""}
    assert refusal(await hub.gql(REVIEW, approve, headers=both)) == ("FORBIDDEN", "SAME_PERSON")
    # The same subject under another token (the lead department's reviewer) is the same person.
    same = reviewer("market", sub="zhang.wei")
    assert refusal(await hub.gql(REVIEW, approve, headers=same)) == ("FORBIDDEN", "SAME_PERSON")
    # A planner is not a reviewer; a reviewer of a third department is not the right one.
    assert refusal(await hub.gql(REVIEW, approve)) == ("FORBIDDEN", "NOT_A_REVIEWER")
    third = next(d for d in ("ecology", "emergency") if d not in team | {"market"})
    wrong = await hub.gql(REVIEW, approve, headers=reviewer(third))
    assert refusal(wrong) == ("FORBIDDEN", "WRONG_DEPARTMENT")
    state = (await hub.gql(VISIT, {"v": visit["id"]}))["data"]["jointVisit"]
    assert state["state"] == "PENDING_REVIEW" and state["result"]["approved"] is None
    # A reviewer of the entering department (another person) approves.
    done = await hub.gql(REVIEW, approve, headers=reviewer(dept, sub="li.na"))
    assert done["data"]["reviewVisitResult"]["state"] == "APPROVED"
    after = (await hub.gql(VISIT, {"v": visit["id"]}))["data"]["jointVisit"]["result"]
    assert after["reviewedBy"].startswith("officer:li.na@")


async def test_a_returned_and_reentered_result_needs_a_fresh_review(hub: Hub) -> None:
    visit = (await drawn_task(hub))["visits"][0]
    first = inspector_of(visit, "insp-a", "reviewer")
    second = inspector_of(visit, "insp-b", "reviewer")
    await hub.gql(RECORD, entry(visit), headers=first)
    back = {"v": visit["id"], "ok": False, "c": "请补充整改照片"}
    assert (await hub.gql(REVIEW, back, headers=second))["data"]["reviewVisitResult"] == {
        "state": "RETURNED"
    }
    await hub.gql(RECORD, entry(visit, category="PROBLEM_PENDING"), headers=second)
    now = (await hub.gql(VISIT, {"v": visit["id"]}))["data"]["jointVisit"]
    assert now["state"] == "PENDING_REVIEW"
    assert now["result"]["version"] == 2 and now["result"]["approved"] is None
    # Whoever entered version 2 may not approve it, though they reviewed version 1.
    approve = {"v": visit["id"], "ok": True, "c": ""}
    assert refusal(await hub.gql(REVIEW, approve, headers=second)) == ("FORBIDDEN", "SAME_PERSON")
    # Whoever entered only version 1 may.
    done = await hub.gql(REVIEW, approve, headers=first)
    assert done["data"]["reviewVisitResult"]["state"] == "APPROVED"


async def test_permission_refusals_carry_the_rule_before_any_lookup(hub: Hub) -> None:
    """The schema's own gate: no inspector role, no entry, whatever the visit."""
    body = await hub.gql(
        RECORD,
        {
            "input": {
                "visitId": str(uuid.uuid4()),
                "category": "NO_PROBLEM",
                "entries": [],
                "concludedOn": date.today().isoformat(),
            }
        },
        headers=as_("market", "off-2", "officer"),
    )
    assert refusal(body) == ("FORBIDDEN", "NOT_AN_INSPECTOR")
    review = await hub.gql(REVIEW, {"v": str(uuid.uuid4()), "ok": True, "c": ""})
    assert refusal(review) == ("FORBIDDEN", "NOT_A_REVIEWER")
