"""Rotation over every earlier inspection: a second joint task over the same entities does not
send the same inspector back where another eligible one exists — the hub's own joint visits
(with their substitutes) count as "last time", for every department on the team."""

from __future__ import annotations

import uuid

from store import tasks as store
from tests.conftest import Hub
from tests.test_joint_tasks import SUBSTITUTE, drawn_task

EVERYONE = {"ratios": [{"grade": g, "ratio": 1.0} for g in "ABCD"]}
SCOPE = {"district": ["370202"]}


async def previous_of(hub: Hub, task_id: str) -> dict[str, set[str]]:
    frozen = await store.snapshot_of(hub.app.state.store.pool, uuid.UUID(task_id))
    data = store.unpack_snapshot(frozen["data"])
    return {u: set(ids) for u, ids in data["previous"].items()}


async def test_second_task_over_the_same_entities_rotates_every_department(hub: Hub) -> None:
    first = await drawn_task(hub, scope=SCOPE, plan=EVERYONE)
    visit = first["visits"][0]
    out = visit["team"][-1]["inspectorId"]
    body = await hub.gql(SUBSTITUTE, {"v": visit["id"], "i": out, "r": "出差"})
    went = {m["inspectorId"] for m in body["data"]["substituteInspector"]["team"]}
    teams = {v["uscc"]: {m["inspectorId"] for m in v["team"]} for v in first["visits"]}
    teams[visit["uscc"]] = went

    second = await drawn_task(hub, scope=SCOPE, plan=EVERYONE)
    assert {v["uscc"] for v in second["visits"]} == set(teams), "the same entities"
    previous = await previous_of(hub, second["id"])
    for uscc, team in teams.items():
        assert team <= previous.get(uscc, set()), f"{uscc}: the joint visit's team counts"

    departments = ("market", "culture", "fire")
    pools = {code: await hub.registry.get(code).all("inspector") for code in departments}
    conflicted = set()
    for code in departments:
        declared = await hub.registry.get(code).by_keys("conflict", list(teams))
        conflicted |= {(u, r["inspector_id"]) for u, rows in declared.items() for r in rows}
    repeated = []
    for v in second["visits"]:
        on_team = {m["inspectorId"] for m in v["team"]}
        for m in v["team"]:
            if m["inspectorId"] not in teams[v["uscc"]]:
                continue
            others = [
                i["id"]
                for i in pools[m["department"]["code"]]
                if i["district"] == v["district"]
                and i["available"]
                and i["id"] not in on_team
                and i["id"] not in previous.get(v["uscc"], set())
                and (v["uscc"], i["id"]) not in conflicted
            ]
            if others:  # someone else could have gone
                repeated.append((v["uscc"], m["inspectorId"], others[:3]))
    assert not repeated, repeated
    assert sum(len(v["team"]) for v in second["visits"]) >= 2 * len(teams)
