"""Creating a joint task: validate the input, store a DRAFT with a commitment to its seed.

One unit of work in the hub store (run_command); the creation is appended to the audit chain,
and a retry with the same idempotency key returns the first answer. Drawing a task is
tasks/draw.py, substituting an inspector tasks/substitution.py.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from adapters.registry import UnknownDepartment
from planning.entity_draw import SamplingPlan
from planning.ranking import seed_commitment
from resolvers.context import RequestContext
from resolvers.entities import EntityQuery
from resolvers.errors import bad_input
from store import audit, content
from store import tasks as store
from tasks import observers as observers_mod
from tasks.common import check_plan, plan_to_data, run_command
from tasks.observers import ObserverSpec

MAX_TITLE = 200
MAX_TEAM_SIZE = 10  # a joint team: one per department with non-delegable items, and a leader


@dataclass(frozen=True, slots=True)
class TaskInput:
    title: str
    lead_department: str
    departments: Sequence[str]
    scope: EntityQuery
    plan: SamplingPlan
    team_size: int
    window_start: date
    window_end: date
    idempotency_key: str
    observers: Sequence[ObserverSpec] = ()  # parties taking part in the seed (tasks/observers.py)


def _scope_to_data(q: EntityQuery) -> dict[str, Any]:
    return {
        "districts": list(q.districts or []),
        "kinds": list(q.kinds or []),
        "industries": list(q.industries or []),
        "statuses": list(q.statuses or []),
        "grades": list(q.grades or []),
        "nameContains": q.name_contains,
    }


def scope_from_data(d: dict[str, Any]) -> EntityQuery:
    return EntityQuery(
        districts=d["districts"] or None,
        kinds=d["kinds"] or None,
        industries=d["industries"] or None,
        statuses=d["statuses"] or None,
        grades=d["grades"] or None,
        name_contains=d["nameContains"],
    )


def _validate(ctx: RequestContext, inp: TaskInput) -> list[str]:
    if not inp.title.strip() or len(inp.title) > MAX_TITLE:
        raise bad_input(f"title must be 1 to {MAX_TITLE} characters", "INVALID_TITLE")
    departments = [inp.lead_department, *[d for d in inp.departments if d != inp.lead_department]]
    for code in departments:
        try:
            source = ctx.registry.get(code)
        except UnknownDepartment as e:
            raise bad_input(str(e), "UNKNOWN_DEPARTMENT", department=code) from None
        if not source.supports("checklist_item") or not source.supports("inspector"):
            raise bad_input(
                f"department {code!r} has no item list or inspector pool to join a "
                "joint inspection",
                "NOT_AN_INSPECTING_DEPARTMENT",
                department=code,
            )
    if len(departments) < 2:
        raise bad_input(
            "a joint task needs a lead and at least one other department", "TOO_FEW_DEPARTMENTS"
        )
    if inp.team_size < 2:
        raise bad_input("a team has at least two inspectors", "TEAM_TOO_SMALL")
    if inp.team_size > MAX_TEAM_SIZE:
        raise bad_input(
            f"a team has at most {MAX_TEAM_SIZE} inspectors", "TEAM_TOO_LARGE", max=MAX_TEAM_SIZE
        )
    if inp.window_end < inp.window_start:
        raise bad_input("the inspection window ends before it starts", "INVALID_WINDOW")
    if not inp.plan.ratio_by_grade:
        raise bad_input("give a ratio for at least one credit grade", "INVALID_RATIO")
    check_plan(inp.plan)  # ratios in [0, 1], floor <= cap and the like: SamplingPlan's own
    for district in inp.scope.districts or ():
        if not (len(district) == 6 and district.isdigit()):
            raise bad_input(f"{district!r} is not a 6-digit division code", "INVALID_DISTRICT")
    return departments


async def create_task(ctx: RequestContext, inp: TaskInput) -> uuid.UUID:
    departments = _validate(ctx, inp)
    observers = observers_mod.validate(ctx, inp.observers)
    payload: dict[str, Any] = {
        "title": inp.title,
        "lead": inp.lead_department,
        "departments": departments,
        "scope": _scope_to_data(inp.scope),
        "plan": plan_to_data(inp.plan),
        "teamSize": inp.team_size,
        "window": [inp.window_start.isoformat(), inp.window_end.isoformat()],
    }
    if observers:
        payload["observers"] = observers

    async def work(conn: asyncpg.Connection) -> dict[str, Any]:
        task_id = uuid.uuid4()
        seed = secrets.token_bytes(32)
        commitment = seed_commitment(seed)
        await store.insert_task(
            conn,
            {
                "id": task_id,
                "title": inp.title.strip(),
                "lead_department": inp.lead_department,
                "departments": departments,
                "scope": payload["scope"],
                "plan": payload["plan"],
                "team_size": inp.team_size,
                "window_start": inp.window_start,
                "window_end": inp.window_end,
                "seed": seed,
                "seed_commitment": commitment,
                "created_by": ctx.actor,
            },
        )
        await store.insert_observers(conn, task_id, observers)
        await audit.append(
            conn,
            ctx.store.signer,
            task_id,
            ctx.actor,
            "CREATED",
            {**payload, "seedCommitment": commitment},
            content.WHOLE_TASK,
        )
        return {"taskId": str(task_id)}

    answer = await run_command(ctx, "createJointInspectionTask", inp.idempotency_key, payload, work)
    return uuid.UUID(answer["taskId"])
