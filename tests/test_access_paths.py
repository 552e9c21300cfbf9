"""Every path that answers with a department's data about an entity writes an access-log row:
the entity itself, the merged-form preview's entity, a joint visit's entity, and the visits of
a task (their name, district and grade are the departments' data as of the draw). The census
answers counts only and names no entity: it writes none."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import Hub
from tests.test_joint_tasks import DEPARTMENTS, drawn_task


async def _logged(hub: Hub, query: str, variables: dict[str, Any]) -> Any:
    """Run the query as a planner under a fresh request id; the access-log row it wrote."""
    request_id = uuid.uuid4().hex
    r = await hub.client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"x-request-id": request_id},
    )
    assert r.status_code == 200 and "errors" not in r.json(), r.text
    return await hub.app.state.store.pool.fetchrow(
        "SELECT entities, departments, subject FROM access_log WHERE request_id = $1", request_id
    )


async def test_checklist_preview_logs_the_entity_it_shows(hub: Hub, seeded) -> None:
    row = await _logged(
        hub,
        """query($u: String!, $d: [String!]!) { checklistPreview(departments: $d, uscc: $u) {
             entity { name district { code } } form { mergedCount } } }""",
        {"u": seeded.sample_uscc, "d": DEPARTMENTS},
    )
    assert row is not None, "the preview read the register without an access-log row"
    assert [e.strip() for e in row["entities"]] == [seeded.sample_uscc]
    assert "market" in row["departments"]


async def test_joint_visit_entity_logs_the_entity_it_shows(hub: Hub) -> None:
    task = await drawn_task(hub)
    visit = task["visits"][0]
    row = await _logged(
        hub,
        "query($v: ID!) { jointVisit(id: $v) { entity { name permits { id } } } }",
        {"v": visit["id"]},
    )
    assert row is not None
    assert visit["uscc"] in [e.strip() for e in row["entities"]]
    assert "market" in row["departments"]


async def test_visits_of_a_task_log_the_entities_they_show(hub: Hub) -> None:
    task = await drawn_task(hub)
    row = await _logged(
        hub,
        "query($t: ID!) { jointInspectionTask(id: $t) { visits(first: 5) "
        "{ uscc entityName district grade } } }",
        {"t": task["id"]},
    )
    assert row is not None, "visits show the register's and the credit platform's data"
    shown = {v["uscc"] for v in task["visits"][:5]}
    assert shown <= {e.strip() for e in row["entities"]}
    assert {"market", "credit"} <= set(row["departments"])


async def test_census_names_no_entity_and_writes_no_row(hub: Hub) -> None:
    row = await _logged(
        hub,
        """query($p: SamplingPlanInput!) { jointInspectionCensus(
             departments: ["market", "culture", "fire"], plan: $p) { expectedVisits } }""",
        {"p": {"ratios": [{"grade": "A", "ratio": 0.1}]}},
    )
    assert row is None
