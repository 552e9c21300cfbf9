"""A task's public draw record: everything needed to recompute its draw, and nothing personal.

Served by the public query ``drawRecord(taskId)`` and by ``hub export-draw TASK``; checked by
``verify/verify_draw.py`` (docs/draw-spec.md §9 describes every field). Public by rule:
the seed and every share with its commitment, the plan, the frozen population (USCCs are
public register data) with its hash, the departments' item lists, the drawn entities'
kind, industry and district, the inspector pools as ids with their tags, district, duty
and declared avoidances of drawn entities, the previous inspectors of drawn entities (ids),
the drawn entities with their ranks, the teams and the substitutions as inspector ids.
Never names, certificates, or a substitution's reason.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import orjson

from planning.population import population_sha256
from store import tasks as store

FORMAT = "jsh-draw-record/1"


def _hex(value: bytes | None) -> str | None:
    return None if value is None else bytes(value).hex()


async def draw_record(pool: asyncpg.Pool, task_id: uuid.UUID) -> dict[str, Any] | None:
    """The record of a task, or None when there is no such task. Before the draw it holds
    the commitments only (what observers need to see before they commit)."""
    task = await store.get_task(pool, task_id)
    if task is None:
        return None
    drawn = task["status"] != "DRAFT"
    observers = await store.observers_of(pool, [task_id])
    record: dict[str, Any] = {
        "format": FORMAT,
        "task": {
            "id": str(task_id),
            "title": task["title"],
            "status": task["status"],
            "lead": task["lead_department"],
            "departments": list(task["departments"]),
            "teamSize": task["team_size"],
            "window": [task["window_start"].isoformat(), task["window_end"].isoformat()],
        },
        "plan": orjson.loads(task["plan"]),
        "seed": {
            "hubCommitment": task["seed_commitment"],
            "hubShare": _hex(task["seed"]) if drawn else None,
            "observers": [
                {
                    "ordinal": o["ordinal"],
                    "name": o["name"],
                    "kind": o["kind"],
                    "department": o["department"],
                    "commitment": o["commitment"],
                    "share": _hex(o["share"]) if drawn else None,
                }
                for o in observers
            ],
            "seed": _hex(task["draw_seed"]) if drawn else None,
        },
    }
    if not drawn:
        return record
    frozen = await store.snapshot_of(pool, task_id)
    snap = store.unpack_snapshot(frozen["data"])
    columns = snap["candidates"]
    visits = await store.visits_of(pool, task_id)
    teams = await store.drawn_assignments(pool, task_id)
    subs = await store.substitutions_of(pool, task_id)
    record["task"]["drawnOn"] = snap["drawnOn"]
    record["population"] = {
        "size": len(columns["grade"]),
        "sha256": population_sha256(columns),
        "byGrade": orjson.loads(task["population"]),
        "excluded": orjson.loads(task["excluded"]),
        "columns": columns,
    }
    record["items"] = snap["items"]
    record["entities"] = snap["entities"]
    record["inspectors"] = snap["inspectors"]
    record["previous"] = snap["previous"]
    record["drawn"] = [{"uscc": v["uscc"].strip(), "rank": v["rank"]} for v in visits]
    record["teams"] = [
        {
            "uscc": uscc,
            "members": [
                {
                    "inspector": a["inspector_id"],
                    "department": a["department"],
                    "role": a["role"],
                    "seat": a["seat"],
                    "rank": a["rank"],
                    "widerPool": a["wider_pool"],
                }
                for a in members
            ],
        }
        for uscc, members in teams
    ]
    record["substitutions"] = [
        {
            "uscc": s["uscc"].strip(),
            "department": s["department"],
            "seat": s["seat"],
            "out": s["out_id"],
            "in": s["in_id"],
            "rank": s["rank"],
            "widerPool": s["wider_pool"],
            "at": s["assigned_at"].isoformat(),
        }
        for s in subs
    ]
    return record
