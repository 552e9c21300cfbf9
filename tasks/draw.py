"""The draw command: read the inputs, compute the draw, then freeze it in one short unit of work.

1. Read (no transaction, no lock): the task, the item lists, the population, then — for the
   entities drawn — the register rows, the inspector pools and earlier inspections.
2. Compute in planning/ (``planning.draw``), and prepare every row to be written.
3. One transaction: lock the task, re-check it is still DRAFT, write the frozen draw and its
   audit entry. No department is called while the task row is locked.

A second draw of a task is refused (ALREADY_DRAWN); a retry with the first draw's
idempotency key gets the first answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import asyncpg
import orjson

from domain.vocabulary import CreditGrade
from planning.draw import Draw, DrawInputs, Rules, assign_teams, select_entities
from planning.forms import form_to_data
from planning.population import population_sha256
from resolvers.context import RequestContext
from resolvers.errors import ApiError
from store import audit, content
from store import tasks as store
from tasks import draw_inputs, notices, snapshot
from tasks import observers as observers_mod
from tasks.commands import scope_from_data
from tasks.common import (
    ALREADY_DRAWN,
    TEAM_SHORTFALL,
    gathering,
    lock_task,
    not_found,
    parse_id,
    plan_from_data,
    run_command,
)

OPERATION = "drawJointInspection"
log = logging.getLogger(__name__)


class Phases:
    """Seconds spent in each phase of a draw, for the log (where a large draw spends time):
    wall-clock, and this process's CPU (on a busy machine the two differ most)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._last = (time.perf_counter(), time.process_time())

    def mark(self, name: str) -> None:
        now = (time.perf_counter(), time.process_time())
        self.seconds[name] = round(now[0] - self._last[0], 3)
        self.cpu[name] = round(now[1] - self._last[1], 3)
        self._last = now


def already_drawn(task_id: uuid.UUID, status: str) -> ApiError:
    return ApiError(
        f"task {task_id} was drawn already; a draw is made once", ALREADY_DRAWN, status=status
    )


async def draw_task(ctx: RequestContext, task_ref: str, key: str | None) -> uuid.UUID:
    task_id = parse_id(task_ref, "task")
    payload = {"taskId": str(task_id)}
    async with gathering():
        task = await store.get_task(ctx.store.pool, task_id)
    if task is None:
        raise not_found("task", task_id)
    if task["status"] != "DRAFT":
        # Nothing to read: a retry with the first draw's key gets its answer, others a refusal.
        async def refuse(conn: asyncpg.Connection) -> dict[str, Any]:
            raise already_drawn(task_id, task["status"])

        await run_command(ctx, OPERATION, key, payload, refuse)
        return task_id

    async with gathering():
        observers = await store.observers_of(ctx.store.pool, [task_id])
    seed = observers_mod.seed_of(task, observers)
    phases = Phases()
    today = date.today()
    made = await _read_and_draw(ctx, task, seed, today, phases)
    drawn = made.draw
    frozen = _rows(task, made, seed, today)
    packed = await asyncio.to_thread(store.pack_snapshot, frozen.snapshot)
    population_hash = population_sha256(frozen.snapshot["candidates"])
    phases.mark("prepare")

    async def work(conn: asyncpg.Connection) -> dict[str, Any]:
        locked = await lock_task(conn, task_id)
        if locked["status"] != "DRAFT":
            raise already_drawn(task_id, locked["status"])
        await store.freeze_draw(conn, frozen, packed)
        await audit.append(
            conn,
            ctx.store.signer,
            task_id,
            ctx.actor,
            "DRAWN",
            {
                "seed": seed.hex(),
                "seedCommitment": task["seed_commitment"],
                **_shares(task, observers),
                "population": frozen.population,
                "populationSha256": population_hash,
                "entitiesDrawn": len(drawn.visits),
                "dispatches": drawn.savings.dispatches,
                "snapshotSha256": packed[1],
            },
            content.WHOLE_TASK,
        )
        await notices.teams_drawn(conn, task_id)
        return {"taskId": str(task_id)}

    await run_command(ctx, OPERATION, key, payload, work)
    phases.mark("freeze")
    log.info(
        "draw",
        extra={
            "task": str(task_id),
            "entities": frozen.entities,
            "visits": len(drawn.visits),
            "seconds": phases.seconds,
            "cpu": phases.cpu,
        },
    )
    return task_id


@dataclass(frozen=True, slots=True)
class Made:
    """A computed draw with what was read for it."""

    inputs: DrawInputs
    draw: Draw
    names: dict[str, str | None]  # entity names for the visit list
    out_of_scope: int  # entities in scope without an applicable item


async def _read_and_draw(
    ctx: RequestContext, task: asyncpg.Record, seed: bytes, today: date, phases: Phases
) -> Made:
    """Steps 1 and 2: the reads with the draw's two phases between and after them."""
    rules = Rules(
        plan_from_data(orjson.loads(task["plan"])), task["team_size"], task["lead_department"]
    )
    departments = list(task["departments"])
    async with gathering():
        items = await draw_inputs.checklist_items(ctx.registry, departments)
        scoped = await draw_inputs.population(
            ctx.registry,
            ctx.store.pool,
            scope_from_data(orjson.loads(task["scope"])),
            departments,
            items,
            rules.plan,
            today,
        )
        phases.mark("population")
        entities = select_entities(scoped.population, rules.plan, seed, today)
        phases.mark("entity_draw")
        reads = await draw_inputs.team_inputs(
            ctx.registry, ctx.store.pool, departments, [d.uscc for d in entities.drawn]
        )
        phases.mark("team_inputs")
    drawn = assign_teams(entities, items, reads.inputs, rules, seed)
    if drawn.teams.shortfalls:
        short = drawn.teams.shortfalls
        raise ApiError(
            f"{len(short)} seat(s) cannot be filled from the inspector pools; nothing was drawn",
            TEAM_SHORTFALL,
            shortfalls=[
                {"uscc": s.uscc, "department": s.department, "reason": s.reason.value}
                for s in short[:5]
            ],
        )
    phases.mark("team_draw")
    inputs = DrawInputs(scoped.population, items, reads.inputs, rules)
    return Made(inputs, drawn, reads.names, scoped.out_of_scope_items)


def _shares(task: asyncpg.Record, observers: list[asyncpg.Record]) -> dict[str, Any]:
    """With observers, the audit entry names every share the seed was made of."""
    if not observers:
        return {}
    return {
        "hubShare": bytes(task["seed"]).hex(),
        "observerShares": [bytes(o["share"]).hex() for o in observers],
    }


def _rows(task: asyncpg.Record, made: Made, seed: bytes, today: date) -> store.FrozenDraw:
    """Step 2's last part: every row the freeze writes, made before the transaction."""
    task_id = task["id"]
    inputs, drawn, names = made.inputs, made.draw, made.names
    forms: dict[tuple[str, str], tuple[str, str]] = {}  # shape -> (hash, body)
    for shape, form in drawn.forms.items():
        body = orjson.dumps(form_to_data(form)).decode()
        forms[shape] = (hashlib.sha256(body.encode()).hexdigest(), body)
    places = inputs.teams.places
    visit_ids = {v.uscc: uuid.uuid4() for v in drawn.visits}
    visits = [
        (
            visit_ids[e.uscc],
            task_id,
            e.uscc,
            names.get(e.uscc),
            places[e.uscc].district,
            places[e.uscc].kind,
            places[e.uscc].industry,
            e.grade,  # a StrEnum: its value as text
            e.rank_hex,
            forms[places[e.uscc].shape][0],
        )
        for e in drawn.entities.drawn
    ]
    assignments = [
        (
            visit_ids[t.uscc],
            m.inspector_id,
            m.department,
            m.role,
            m.wider_pool,
            m.rank_hex,
            m.seat,
            "DRAW",
        )
        for t in drawn.teams.teams
        for m in t.members
    ]
    entities = drawn.entities
    population = {
        g.value: {
            "population": entities.population_by_grade[g],
            "drawn": entities.drawn_by_grade[g],
        }
        for g in CreditGrade
    }
    excluded = {r.value: n for r, n in entities.excluded.items()}
    excluded["NO_APPLICABLE_ITEMS"] = made.out_of_scope
    return store.FrozenDraw(
        task_id=task_id,
        drawn_on=today,
        seed=seed,
        snapshot=snapshot.to_data(
            inputs, orjson.loads(task["plan"]), today, [v.uscc for v in drawn.visits]
        ),
        entities=len(inputs.population),
        forms=dict(forms.values()),
        visits=visits,
        assignments=assignments,
        population=population,
        excluded=excluded,
        savings=asdict(drawn.savings),
    )
