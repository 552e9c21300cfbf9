"""Every edge of `publishedResults` carries its own cursor (issue 11, item 7): resuming after
any edge gives exactly the results after it."""

from __future__ import annotations

from datetime import date

from tests.conftest import Hub
from tests.test_joint_tasks import (
    PUBLISH,
    RECORD,
    REVIEW,
    drawn_task,
    inspector_of,
    outcomes,
    reviewer,
)

PAGE = """query($t: ID, $first: Int!, $after: String) {
  publishedResults(taskId: $t, first: $first, after: $after) {
    edges { cursor node { uscc } } pageInfo { hasNextPage endCursor } } }"""


async def test_each_published_result_has_its_own_cursor(hub: Hub) -> None:
    task = await drawn_task(hub)
    visits = task["visits"][:4]
    assert len(visits) == 4
    for visit in visits:
        entry = {
            "visitId": visit["id"],
            "category": "NO_PROBLEM",
            "entries": outcomes(visit, bad=0),
            "concludedOn": date.today().isoformat(),  # between the draw and today
        }
        recorded = await hub.gql(RECORD, {"input": entry}, headers=inspector_of(visit))
        assert "errors" not in recorded, recorded
        approve = {"v": visit["id"], "ok": True, "c": ""}
        assert "errors" not in await hub.gql(REVIEW, approve, headers=reviewer())
    published = await hub.gql(PUBLISH, {"t": task["id"], "close": True, "reason": "窗口期结束"})
    assert "errors" not in published, published

    whole = (await hub.gql(PAGE, {"t": task["id"], "first": 10}))["data"]["publishedResults"]
    edges = whole["edges"]
    assert len(edges) == 4
    assert len({e["cursor"] for e in edges}) == 4, "one cursor per edge"
    assert whole["pageInfo"] == {"hasNextPage": False, "endCursor": edges[-1]["cursor"]}
    for i, edge in enumerate(edges):
        rest = await hub.gql(PAGE, {"t": task["id"], "first": 10, "after": edge["cursor"]})
        after = rest["data"]["publishedResults"]["edges"]
        assert [e["node"]["uscc"] for e in after] == [e["node"]["uscc"] for e in edges[i + 1 :]]
    first = (await hub.gql(PAGE, {"t": task["id"], "first": 2}))["data"]["publishedResults"]
    assert first["pageInfo"] == {"hasNextPage": True, "endCursor": edges[1]["cursor"]}
