"""Every number of a command is bounded at the door (issue 11, item 7): a value a draw cannot
use (`exclusionDays: 2147483647` used to be stored, then break the draw) is BAD_USER_INPUT
with a reason, and nothing is stored."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tasks.commands import MAX_TEAM_SIZE
from tasks.common import MAX_ABNORMAL_MULTIPLIER, MAX_ENTITIES, MAX_EXCLUSION_DAYS
from tests.conftest import Hub
from tests.test_joint_tasks import CREATE, DRAW, create, task_count, task_input

INT_MAX = 2**31 - 1
CENSUS = """query($p: SamplingPlanInput!) { jointInspectionCensus(
  departments: ["market", "culture", "fire"], plan: $p) { expectedVisits } }"""


def plan(**over: Any) -> dict[str, Any]:
    return {**task_input("x")["plan"], **over}


@pytest.mark.parametrize(
    ("over", "reason", "most"),
    [
        ({"plan": plan(exclusionDays=INT_MAX)}, "INVALID_PLAN", MAX_EXCLUSION_DAYS),
        ({"plan": plan(floor=INT_MAX, cap=None)}, "INVALID_PLAN", MAX_ENTITIES),
        ({"plan": plan(cap=INT_MAX)}, "INVALID_PLAN", MAX_ENTITIES),
        ({"plan": plan(abnormalMultiplier=1e300)}, "INVALID_PLAN", MAX_ABNORMAL_MULTIPLIER),
        ({"teamSize": INT_MAX}, "TEAM_TOO_LARGE", MAX_TEAM_SIZE),
    ],
)
async def test_numbers_out_of_range_are_refused_at_create(
    hub: Hub, over: dict, reason: str, most: int
) -> None:
    tasks = await task_count(hub)
    body = await hub.gql(CREATE, {"input": task_input(uuid.uuid4().hex, **over)})
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": reason, "max": most}
    assert await task_count(hub) == tasks


async def test_each_grade_has_one_ratio(hub: Hub) -> None:
    ratios = [{"grade": "A", "ratio": 0.1}, {"grade": "A", "ratio": 0.9}]
    body = await hub.gql(CREATE, {"input": task_input("k", plan=plan(ratios=ratios))})
    assert body["errors"][0]["extensions"]["reason"] == "INVALID_RATIO"


async def test_the_census_refuses_what_create_refuses(hub: Hub) -> None:
    body = await hub.gql(CENSUS, {"p": plan(exclusionDays=INT_MAX)})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["reason"] == "INVALID_PLAN"


async def test_the_largest_values_in_range_draw(hub: Hub) -> None:
    task = await create(
        hub, teamSize=2, plan=plan(exclusionDays=MAX_EXCLUSION_DAYS, cap=MAX_ENTITIES)
    )
    drawn = await hub.gql(DRAW, {"id": task["id"]})
    assert "errors" not in drawn, drawn
    assert drawn["data"]["drawJointInspection"]["status"] == "DRAWN"
    query = "query($t: ID!, $o: Int!) { jointInspectionTask(id: $t) { visits(offset: $o) { id } } }"
    past = await hub.gql(query, {"t": task["id"], "o": MAX_ENTITIES})
    assert past["data"]["jointInspectionTask"]["visits"] == []
    over = await hub.gql(query, {"t": task["id"], "o": INT_MAX})
    assert over["errors"][0]["extensions"]["reason"] == "INVALID_OFFSET"


@pytest.mark.parametrize(
    "query",
    [
        "{ publishedResults(first: -1) { edges { cursor } } }",
        "{ accessLog(first: -5) { at } }",
        "{ entities(first: -1) { edges { cursor } } }",
    ],
)
async def test_page_sizes_are_bounded(hub: Hub, query: str) -> None:
    body = await hub.gql(query)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["reason"] == "PAGE_SIZE_EXCEEDED"
