"""Idempotency keys belong to the actor who sent them: a retry returns that actor's first
answer, while another actor using the same key string runs a command of its own — it never
receives someone else's answer, and it is authorized like any first attempt."""

from __future__ import annotations

import uuid
from datetime import date

from tests.conftest import Hub, token
from tests.test_joint_tasks import CREATE, RECORD, drawn_task, outcomes, task_input


def _as(sub: str, dept: str = "market", roles: tuple[str, ...] = ("planner",)) -> dict[str, str]:
    return {"authorization": f"Bearer {token(dept, roles, sub=sub)}"}


async def test_another_planners_key_of_the_same_name_is_their_own(hub: Hub) -> None:
    key = uuid.uuid4().hex
    first = await hub.gql(CREATE, {"input": task_input(key)}, headers=_as("planner-a"))
    mine = first["data"]["createJointInspectionTask"]["id"]

    theirs = await hub.gql(CREATE, {"input": task_input(key)}, headers=_as("planner-b"))
    assert "errors" not in theirs, theirs
    other = theirs["data"]["createJointInspectionTask"]["id"]
    assert other != mine, "a second planner replaying the key received the first one's task"

    again = await hub.gql(CREATE, {"input": task_input(key)}, headers=_as("planner-a"))
    assert again["data"]["createJointInspectionTask"]["id"] == mine
    again = await hub.gql(CREATE, {"input": task_input(key)}, headers=_as("planner-b"))
    assert again["data"]["createJointInspectionTask"]["id"] == other
    changed = await hub.gql(
        CREATE, {"input": task_input(key, title="另一个任务")}, headers=_as("planner-b")
    )
    assert changed["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_a_replayed_key_is_authorized_like_a_first_attempt(hub: Hub) -> None:
    task = await drawn_task(hub)
    visit = task["visits"][0]
    dept = visit["team"][0]["department"]["code"]
    entry = {
        "visitId": visit["id"],
        "category": "NO_PROBLEM",
        "entries": outcomes(visit, bad=0),
        "concludedOn": date.today().isoformat(),
        "idempotencyKey": uuid.uuid4().hex,
    }
    inspector = _as("insp-on-team", dept, ("officer", "inspector"))
    done = await hub.gql(RECORD, {"input": entry}, headers=inspector)
    assert done["data"]["recordVisitResult"]["state"] == "PENDING_REVIEW"

    # An officer of a department that is not on the team, and the same subject as a
    # planner (another kind of identity is another actor): same key, same input. Each runs
    # its own command, which is refused; neither receives the stored answer.
    for other in (
        _as("insp-elsewhere", "ecology", ("officer", "inspector")),
        _as("insp-on-team", "market", ("planner",)),
    ):
        replay = await hub.gql(RECORD, {"input": entry}, headers=other)
        assert (replay["data"] or {}).get("recordVisitResult") is None, replay
        assert replay["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "INVALID_STATE")
    versions = await hub.app.state.store.pool.fetchval(
        "SELECT count(*) FROM result WHERE visit_id = $1", uuid.UUID(visit["id"])
    )
    assert versions == 1
