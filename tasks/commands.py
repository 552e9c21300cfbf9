"""Planning commands: create a joint task, draw it, substitute an inspector.

Each runs as one unit of work in the hub store (run_command): the task row is locked, every
change is appended to the audit chain, and a retry with the same idempotency key returns
the first answer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import asyncpg
import orjson

from adapters.registry import UnknownDepartment
from domain.vocabulary import CreditGrade, EntityKind
from planning.checklist import merge_checklist
from planning.entity_draw import SamplingPlan, draw_entities
from planning.forms import form_from_data, form_to_data
from planning.ranking import seed_commitment
from planning.savings import savings
from planning.substitution import substitute
from planning.team_draw import (
    Assignment,
    Role,
    TeamDrawError,
    Visit,
    build_team,
    draw_teams,
)
from resolvers.context import RequestContext
from resolvers.entities import EntityQuery
from resolvers.errors import ApiError, bad_input
from store import audit, content
from store import tasks as store
from tasks import draw_inputs, notices
from tasks.common import (
    ALREADY_DRAWN,
    INVALID_STATE,
    TEAM_SHORTFALL,
    candidates_to_data,
    inspector_from_data,
    inspector_to_data,
    item_to_data,
    lock_task,
    lock_visit,
    parse_id,
    plan_from_data,
    plan_to_data,
    run_command,
)

MAX_TITLE = 200
log = logging.getLogger(__name__)


class Phases:
    """Seconds spent in each phase of a draw, for the log (where a large draw spends time)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self._last, 3)
        self._last = now


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
    if inp.window_end < inp.window_start:
        raise bad_input("the inspection window ends before it starts", "INVALID_WINDOW")
    plan = inp.plan
    if not plan.ratio_by_grade or any(not 0 <= float(r) <= 1 for r in plan.ratio_by_grade.values()):
        raise bad_input("each ratio must be between 0 and 1", "INVALID_RATIO")
    if plan.floor < 0 or (plan.cap is not None and plan.cap < plan.floor):
        raise bad_input("floor must be >= 0 and cap >= floor", "INVALID_PLAN")
    if plan.exclusion_days is not None and plan.exclusion_days < 0:
        raise bad_input("exclusionDays must be >= 0", "INVALID_PLAN")
    for district in inp.scope.districts or ():
        if not (len(district) == 6 and district.isdigit()):
            raise bad_input(f"{district!r} is not a 6-digit division code", "INVALID_DISTRICT")
    return departments


async def create_task(ctx: RequestContext, inp: TaskInput) -> uuid.UUID:
    departments = _validate(ctx, inp)
    payload = {
        "title": inp.title,
        "lead": inp.lead_department,
        "departments": departments,
        "scope": _scope_to_data(inp.scope),
        "plan": plan_to_data(inp.plan),
        "teamSize": inp.team_size,
        "window": [inp.window_start.isoformat(), inp.window_end.isoformat()],
    }

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


# -- the draw ------------------------------------------------------------------------------
async def draw_task(ctx: RequestContext, task_ref: str, key: str | None) -> uuid.UUID:
    task_id = parse_id(task_ref, "task")

    async def work(conn: asyncpg.Connection) -> dict[str, Any]:
        task = await lock_task(conn, task_id)
        if task["status"] != "DRAFT":
            raise ApiError(
                f"task {task_id} was drawn already; a draw is made once",
                ALREADY_DRAWN,
                status=task["status"],
            )
        await _draw(ctx, conn, task)
        return {"taskId": str(task_id)}

    await run_command(ctx, "drawJointInspection", key, {"taskId": str(task_id)}, work)
    return task_id


async def _draw(ctx: RequestContext, conn: asyncpg.Connection, task: asyncpg.Record) -> None:
    registry = ctx.registry
    plan_data = orjson.loads(task["plan"])
    plan = plan_from_data(plan_data)
    scope = scope_from_data(orjson.loads(task["scope"]))
    departments = list(task["departments"])
    seed = bytes(task["seed"])
    today = date.today()

    phases = Phases()
    items = await draw_inputs.checklist_items(registry, departments)
    recent_hub = (
        await store.recently_concluded(conn, today - timedelta(days=plan.exclusion_days))
        if plan.exclusion_days
        else {}
    )
    pop = await draw_inputs.population(
        registry,
        scope.register_filters(),
        departments,
        items,
        plan.exclusion_days,
        recent_hub,
        today,
    )
    if scope.grades:  # grades live at the credit platform: narrow after the join
        wanted = {CreditGrade(g) for g in scope.grades}
        pop = draw_inputs.Population(
            [c for c in pop.candidates if c.grade in wanted], pop.out_of_scope_items
        )
    phases.mark("population")
    entity_draw = draw_entities(pop.candidates, plan, seed, today)
    phases.mark("entity_draw")
    drawn = [d.uscc for d in entity_draw.drawn]
    inputs = await draw_inputs.team_inputs(registry, departments, drawn)
    phases.mark("team_inputs")

    # One form per (kind, industry): entities alike get the same merged checklist object.
    by_shape: dict[tuple[str, str], tuple[Any, str, str]] = {}
    visits: list[Visit] = []
    form_of: dict[str, tuple[Any, str, str]] = {}
    for d in entity_draw.drawn:
        row = inputs.entities[d.uscc]
        shape = (row["kind"], row["industry"])
        if shape not in by_shape:
            form = merge_checklist(EntityKind(row["kind"]), row["industry"], items)
            body = orjson.dumps(form_to_data(form)).decode()
            by_shape[shape] = (form, hashlib.sha256(body.encode()).hexdigest(), body)
        form_of[d.uscc] = by_shape[shape]
        visits.append(
            Visit(
                d.uscc,
                row["district"],
                form_of[d.uscc][0],
                inputs.previous.get(d.uscc, frozenset()),
            )
        )
    teams = draw_teams(
        visits,
        inputs.inspectors,
        seed,
        team_size=task["team_size"],
        lead_department=task["lead_department"],
    )
    if teams.shortfalls:
        first = teams.shortfalls[:5]
        raise ApiError(
            f"{len(teams.shortfalls)} seat(s) cannot be filled from the inspector pools; "
            "nothing was drawn",
            TEAM_SHORTFALL,
            shortfalls=[
                {"uscc": s.uscc, "department": s.department, "reason": s.reason.value}
                for s in first
            ],
        )
    phases.mark("team_draw")
    saved = savings(teams.teams)
    ranks = {d.uscc: d for d in entity_draw.drawn}
    visit_ids = {d.uscc: uuid.uuid4() for d in entity_draw.drawn}
    ents = inputs.entities
    visit_rows = [
        (
            visit_ids[u],
            task["id"],
            u,
            ents[u]["name"],
            ents[u]["district"],
            ents[u]["kind"],
            ents[u]["industry"],
            ranks[u].grade.value,
            ranks[u].rank_hex,
            form_of[u][1],
        )
        for u in drawn
    ]
    assignment_rows = [
        (
            visit_ids[t.uscc],
            m.inspector_id,
            m.department,
            m.role.value,
            m.wider_pool,
            m.rank_hex,
            m.seat,
            "DRAW",
        )
        for t in teams.teams
        for m in t.members
    ]
    population = {
        g.value: {
            "population": sum(n for s, n in entity_draw.population.items() if s.grade == g),
            "drawn": sum(n for s, n in entity_draw.allocation.items() if s.grade == g),
        }
        for g in CreditGrade
    }
    excluded = {r.value: n for r, n in entity_draw.excluded.items()}
    excluded["NO_APPLICABLE_ITEMS"] = pop.out_of_scope_items
    snapshot = {
        "drawnOn": today.isoformat(),
        "plan": plan_data,
        "teamSize": task["team_size"],
        "lead": task["lead_department"],
        "candidates": candidates_to_data(pop.candidates),
        "items": [item_to_data(i) for i in items],
        "entities": {u: [ents[u]["kind"], ents[u]["industry"], ents[u]["district"]] for u in drawn},
        "inspectors": [inspector_to_data(i) for i in inputs.inspectors],
        "previous": {u: sorted(p) for u, p in inputs.previous.items() if u in ranks},
    }
    forms = {h: body for _, h, body in by_shape.values()}
    phases.mark("prepare")
    digest = await store.freeze_draw(
        conn,
        task["id"],
        today,
        snapshot,
        len(pop.candidates),
        forms,
        visit_rows,
        assignment_rows,
        population,
        excluded,
        dataclasses.asdict(saved),
    )
    await audit.append(
        conn,
        ctx.store.signer,
        task["id"],
        ctx.actor,
        "DRAWN",
        {
            "seed": seed.hex(),
            "seedCommitment": task["seed_commitment"],
            "population": population,
            "entitiesDrawn": len(drawn),
            "dispatches": saved.dispatches,
            "snapshotSha256": digest,
        },
        content.WHOLE_TASK,
    )
    await notices.teams_drawn(conn, task["id"])
    phases.mark("freeze")
    log.info(
        "draw",
        extra={
            "task": str(task["id"]),
            "entities": len(pop.candidates),
            "visits": len(drawn),
            "seconds": phases.seconds,
        },
    )


# -- substitution --------------------------------------------------------------------------
async def substitute_inspector(
    ctx: RequestContext, visit_ref: str, inspector_id: str, reason: str, key: str | None
) -> uuid.UUID:
    visit_id = parse_id(visit_ref, "visit")
    if not reason or not reason.strip():
        raise bad_input("a substitution records its reason", "REASON_REQUIRED")
    payload = {"visitId": str(visit_id), "inspectorId": inspector_id, "reason": reason}

    async def work(conn: asyncpg.Connection) -> dict[str, Any]:
        task, visit = await lock_visit(conn, visit_id)
        if task["status"] != "DRAWN" or visit["state"] != "NOT_ENTERED":
            raise ApiError(
                "inspectors can be substituted only before the visit's result is "
                "entered, on a drawn task",
                INVALID_STATE,
                state=visit["state"],
            )
        history = await store.assignments_of(conn, [visit_id], current_only=False)
        current = [a for a in history if a["replaced_at"] is None]
        old = next((a for a in current if a["inspector_id"] == inspector_id), None)
        if old is None:
            raise bad_input(
                f"inspector {inspector_id!r} is not on this visit's team",
                "NOT_ON_TEAM",
                inspectorId=inspector_id,
            )
        snap = await store.snapshot_of(ctx.store.pool, task["id"])
        snapshot = store.unpack_snapshot(snap["data"])
        inspectors = [inspector_from_data(d) for d in snapshot["inspectors"]]
        form = form_from_data(orjson.loads(visit["form"]))
        uscc = visit["uscc"].strip()
        v = Visit(uscc, visit["district"], form, frozenset(snapshot["previous"].get(uscc, ())))
        members = tuple(
            Assignment(
                a["inspector_id"],
                a["department"],
                Role(a["role"]),
                a["wider_pool"],
                a["rank"],
                a["seat"],
            )
            for a in current
        )
        tags = {i.id: i.tags for i in inspectors}
        team = build_team(
            v, members, (), frozenset(t for m in members for t in tags.get(m.inspector_id, ()))
        )
        loads = await store.task_loads(conn, task["id"])
        try:
            new_team, record = substitute(
                team,
                v,
                inspectors,
                bytes(task["seed"]),
                inspector_id,
                reason,
                loads=loads,
                exclude={a["inspector_id"] for a in history},
            )
        except TeamDrawError as e:
            raise ApiError(str(e), TEAM_SHORTFALL) from None
        incoming = next(m for m in new_team.members if m.inspector_id == record.in_id)
        await store.replace_assignment(
            conn,
            old["id"],
            visit_id,
            {
                "inspector_id": incoming.inspector_id,
                "department": incoming.department,
                "role": incoming.role.value,
                "wider_pool": incoming.wider_pool,
                "rank": incoming.rank_hex,
                "seat": incoming.seat,
            },
            record.reason,
        )
        await audit.append(
            conn,
            ctx.store.signer,
            task["id"],
            ctx.actor,
            "SUBSTITUTED",
            {
                "visit": str(visit_id),
                "uscc": uscc,
                "out": record.out_id,
                "in": record.in_id,
                "department": record.department,
                "reason": record.reason,
                "widerPool": record.wider_pool,
            },
            content.Changed(teams=[visit_id]),
        )
        await notices.team_changed(conn, visit_id, old, record.in_id)
        return {"visitId": str(visit_id)}

    await run_command(ctx, "substituteInspector", key, payload, work)
    return visit_id
