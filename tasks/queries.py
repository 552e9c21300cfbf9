"""Reads of joint tasks: tasks, visits with their teams and results (batched per request),
the merged-form preview, the public's published results."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

import asyncpg
from strawberry.dataloader import DataLoader

from adapters.errors import DepartmentUnavailable
from domain.vocabulary import CreditGrade, EntityKind
from planning.checklist import MergedChecklist, merge_checklist
from planning.draw import census as count
from planning.entity_draw import SamplingPlan
from resolvers.context import RequestContext
from resolvers.entities import EntityQuery, check_departments, normalize_uscc
from resolvers.errors import bad_input, source_error
from store import checkpoints
from store import tasks as store
from tasks import draw_inputs
from tasks.common import check_page, check_plan, gathering, not_found, parse_id, reading

T = TypeVar("T")


class StoreLoaders:
    """Per-request batching of hub-store lookups by visit id (team, history, result,
    publication) and by task id (observers, latest checkpoints): a page costs one statement
    per kind."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        async def team(ids: Sequence[uuid.UUID]) -> list[list[asyncpg.Record]]:
            return _group(ids, await store.assignments_of(pool, ids, current_only=True))

        async def history(ids: Sequence[uuid.UUID]) -> list[list[asyncpg.Record]]:
            return _group(ids, await store.assignments_of(pool, ids, current_only=False))

        async def result(ids: Sequence[uuid.UUID]) -> list[asyncpg.Record | None]:
            found = await store.latest_results(pool, ids)
            return [found.get(i) for i in ids]

        async def publication(ids: Sequence[uuid.UUID]) -> list[asyncpg.Record | None]:
            rows = await pool.fetch("SELECT * FROM publication WHERE visit_id = ANY($1)", list(ids))
            found = {r["visit_id"]: r for r in rows}
            return [found.get(i) for i in ids]

        async def checkpoint(scopes: Sequence[str]) -> list[checkpoints.Checkpoint | None]:
            found = await checkpoints.latest_of(pool, scopes)
            return [found.get(s) for s in scopes]

        async def observers(ids: Sequence[uuid.UUID]) -> list[list[asyncpg.Record]]:
            return _group(ids, await store.observers_of(pool, ids), "task_id")

        self.team = DataLoader(load_fn=team)
        self.observers = DataLoader(load_fn=observers)
        self.history = DataLoader(load_fn=history)
        self.result = DataLoader(load_fn=result)
        self.publication = DataLoader(load_fn=publication)
        self.checkpoint = DataLoader(load_fn=checkpoint)  # the latest signed, by task id


def _group(
    ids: Sequence[uuid.UUID], rows: list[asyncpg.Record], key: str = "visit_id"
) -> list[list[asyncpg.Record]]:
    by: dict[uuid.UUID, list[asyncpg.Record]] = {i: [] for i in ids}
    for r in rows:
        by[r[key]].append(r)
    return [by[i] for i in ids]


def store_loaders(ctx: RequestContext) -> StoreLoaders:
    if ctx.store_loaders is None:
        ctx.store_loaders = StoreLoaders(ctx.store.pool)
    return ctx.store_loaders


async def task(ctx: RequestContext, ref: str) -> asyncpg.Record | None:
    async with reading(ctx) as pool:
        return await store.get_task(pool, parse_id(ref, "task"))


def _cursor(kind: str, at: date, ident: uuid.UUID) -> str:
    """A keyset cursor: the (time, id) place of a row in a newest-first list of `kind`."""
    return base64.urlsafe_b64encode(f"{kind}:{at.isoformat()}|{ident}".encode()).decode()


def _position(kind: str, cursor: str, parse_at: Callable[[str], T]) -> tuple[T, uuid.UUID]:
    """The place a cursor of `kind` stands for; INVALID_CURSOR for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not raw.startswith(f"{kind}:"):
            raise ValueError(kind)
        at, ident = raw.removeprefix(f"{kind}:").split("|")
        return parse_at(at), uuid.UUID(ident)
    except (ValueError, UnicodeDecodeError):
        raise bad_input(
            f"{cursor!r} is not a cursor of this connection", "INVALID_CURSOR"
        ) from None


async def tasks(
    ctx: RequestContext, statuses: Sequence[str] | None, first: int, after: str | None
) -> tuple[list[asyncpg.Record], bool, str | None]:
    check_page(first)
    position = _position("task", after, datetime.fromisoformat) if after else None
    async with reading(ctx) as pool:
        rows = await store.list_tasks(pool, statuses, position, first + 1)
    page = rows[:first]
    end = _cursor("task", page[-1]["created_at"], page[-1]["id"]) if page else None
    return page, len(rows) > first, end


def _record_visits(ctx: RequestContext, rows: Sequence[asyncpg.Record]) -> None:
    """A visit shows its entity as the departments described it at the draw (name, district,
    kind and industry from the register, the grade from the credit platform): reading it is
    reading their data, and goes to the access log."""
    sources = [ctx.registry.register().code]
    sources += [s.code for s in ctx.registry.holding("credit_rating")[:1]]
    for r in rows:
        for department in sources:
            ctx.record_read(r["uscc"].strip(), department)


async def task_visits(
    ctx: RequestContext, task_id: uuid.UUID, states: Sequence[str] | None, first: int, offset: int
) -> list[asyncpg.Record]:
    check_page(first, offset)
    async with reading(ctx) as pool:
        rows = await store.visits_of(pool, task_id, states, first, offset)
    _record_visits(ctx, rows)
    return rows


async def visit_counts(ctx: RequestContext, task_id: uuid.UUID) -> dict[str, int]:
    async with reading(ctx) as pool:
        return await store.visit_counts(pool, task_id)


async def visit(ctx: RequestContext, ref: str) -> asyncpg.Record:
    async with reading(ctx) as pool:
        row = await store.get_visit(pool, parse_id(ref, "visit"))
    if row is None:
        raise not_found("visit", ref)
    _record_visits(ctx, [row])
    return row


async def preview(
    ctx: RequestContext, departments: Sequence[str], uscc: str
) -> tuple[dict[str, Any], MergedChecklist]:
    """The merged form for one entity before any task exists."""
    code = normalize_uscc(ctx, uscc)
    wanted = check_departments(ctx, departments) or []
    if not wanted:
        raise bad_input("name at least one department", "TOO_FEW_DEPARTMENTS")
    try:
        rows = await ctx.loaders.records(ctx.registry.register().code, "entity").load(code)
        items = await draw_inputs.checklist_items(ctx.registry, wanted)
    except DepartmentUnavailable as e:
        raise source_error(e) from None
    if not rows:
        raise not_found("entity", code)
    ctx.record_read(code, ctx.registry.register().code)
    entity = rows[0]
    return entity, merge_checklist(EntityKind(entity["kind"]), entity["industry"], items)


async def published_results(
    ctx: RequestContext, uscc: str | None, task_ref: str | None, first: int, after: str | None
) -> tuple[list[tuple[str, asyncpg.Record]], bool]:
    """A page of published results, newest first, each with its own cursor (pass the last
    one as `after` for the next page), and whether more follow."""
    check_page(first)
    code = normalize_uscc(ctx, uscc) if uscc else None
    task_id = parse_id(task_ref, "task") if task_ref else None
    position = _position("pub", after, date.fromisoformat) if after else None
    async with reading(ctx) as pool:
        rows = await store.published(pool, code, task_id, position, first + 1)
    page = [(_cursor("pub", r["published_on"], r["visit_id"]), r) for r in rows[:first]]
    return page, len(rows) > first


async def census(
    ctx: RequestContext, departments: Sequence[str], scope: EntityQuery, plan: SamplingPlan
) -> dict[str, Any]:
    """What a task with this scope and plan would draw, before it exists: the eligible
    population and the expected visits per credit grade, and the exclusions — the draw's own
    reading, counting and allocation (planning.draw.census), without a seed."""
    wanted = check_departments(ctx, departments) or []
    if not wanted:
        raise bad_input("name at least one department", "TOO_FEW_DEPARTMENTS")
    check_plan(plan)
    today = date.today()
    async with gathering():
        items = await draw_inputs.checklist_items(ctx.registry, wanted)
        scoped = await draw_inputs.population(
            ctx.registry, ctx.store.pool, scope, wanted, items, plan, today
        )
    counted, take = count(scoped.population, plan, today)
    by_grade = {
        g.value: {
            "population": sum(n for s, n in counted.population.items() if s.grade == g),
            "listed": sum(n for s, n in counted.population.items() if s.grade == g and s.abnormal),
            "expected": sum(n for s, n in take.items() if s.grade == g),
        }
        for g in CreditGrade
    }
    excluded = {r.value: n for r, n in counted.excluded.items()}
    excluded["NO_APPLICABLE_ITEMS"] = scoped.out_of_scope_items
    return {"grades": by_grade, "excluded": excluded, "expected_visits": sum(take.values())}
