"""What the joint-task commands share: one unit of work with idempotency, stable errors,
and the task's plan in and out of stored form."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
from graphql import GraphQLError

from adapters.errors import UNREACHABLE, DepartmentUnavailable, describe
from domain.vocabulary import CreditGrade
from planning.entity_draw import CapPolicy, SamplingPlan
from planning.results import Person, Refusal
from resolvers.context import RequestContext
from resolvers.errors import ApiError, bad_input, source_error
from store import audit, idempotency
from store import tasks as store
from store.hub import StoreUnavailable

T = TypeVar("T")

NOT_FOUND = "NOT_FOUND"
INVALID_STATE = "INVALID_STATE"
ALREADY_DRAWN = "ALREADY_DRAWN"
KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
TEAM_SHORTFALL = "TEAM_SHORTFALL"


def parse_id(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise bad_input(f"{value!r} is not a {what} id", "INVALID_ID") from None


def not_found(what: str, ident: Any) -> ApiError:
    return ApiError(f"no {what} {ident}", NOT_FOUND)


MAX_PAGE = 100
MAX_ENTITIES = 10_000_000  # more than any register: floors, caps, offsets into a draw


def check_page(first: int, offset: int = 0) -> None:
    """A page of at most MAX_PAGE rows from an offset no draw reaches past, refused before
    any SQL."""
    if not 0 <= first <= MAX_PAGE:
        raise bad_input(
            f"first must be between 0 and {MAX_PAGE}", "PAGE_SIZE_EXCEEDED", max=MAX_PAGE
        )
    if not 0 <= offset <= MAX_ENTITIES:
        raise bad_input(
            f"offset must be between 0 and {MAX_ENTITIES:,}", "INVALID_OFFSET", max=MAX_ENTITIES
        )


def person(ctx: RequestContext) -> Person:
    """Who acts, as the rules of four eyes see them."""
    who = ctx.principal
    return Person(who.subject, who.department, who.roles)


def refuse(refusal: Refusal | None, message: str) -> None:
    """FORBIDDEN, with the rule that refused as its reason, when there is one."""
    if refusal is not None:
        raise ApiError(message, "FORBIDDEN", reason=refusal.value)


async def run_command(
    ctx: RequestContext,
    operation: str,
    key: str | None,
    payload: Any,
    work: Callable[[asyncpg.Connection], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    """Run `work` in one transaction. With a key, the same actor's retry returns its first
    answer (a dict of ids) and a different input under the same key is refused; another
    actor's key of the same name is theirs alone. Nothing half-written."""
    if key is not None and not key.strip():
        raise bad_input("idempotencyKey must not be empty", "INVALID_IDEMPOTENCY_KEY")
    owner = f"{ctx.principal.kind.value}:{ctx.principal.subject}"
    try:
        if ctx.store.signer is None:  # every change is signed into the audit log
            raise audit.AuditKeyMissing
        async with ctx.store.transaction() as conn:
            if key is not None:
                stored = await idempotency.lookup(conn, owner, key, operation, payload)
                if stored is not None:
                    return stored
            answer = await work(conn)
            if key is not None:
                await idempotency.remember(conn, owner, key, operation, payload, answer)
            return answer
    except audit.AuditKeyMissing as e:
        raise ApiError(f"{e}; nothing was changed", e.code) from None
    except idempotency.KeyReused as e:
        raise ApiError(str(e), KEY_REUSED, idempotencyKey=e.key) from None
    except DepartmentUnavailable as e:
        raise GraphQLError(f"{e}; nothing was changed", extensions=e.extensions) from None
    except StoreUnavailable as e:
        raise ApiError(f"{e}; nothing was changed", StoreUnavailable.code) from None
    except UNREACHABLE as e:
        raise ApiError(
            f"the hub store is unavailable ({describe(e)}); nothing was changed",
            StoreUnavailable.code,
        ) from None


async def lock_visit(conn: asyncpg.Connection, visit_id: uuid.UUID) -> tuple[Any, Any]:
    """The visit and its task, both locked (task first, the order every command takes)."""
    visit = await store.get_visit(conn, visit_id)
    if visit is None:
        raise not_found("visit", visit_id)
    task = await store.lock_task(conn, visit["task_id"])
    return task, await store.lock_visit(conn, visit_id)


async def lock_task(conn: asyncpg.Connection, task_id: uuid.UUID) -> Any:
    task = await store.lock_task(conn, task_id)
    if task is None:
        raise not_found("task", task_id)
    return task


@asynccontextmanager
async def reading(ctx: RequestContext) -> AsyncIterator[asyncpg.Pool]:
    try:
        yield ctx.store.pool
    except (StoreUnavailable, *UNREACHABLE) as e:
        raise _store_down(e) from None


@asynccontextmanager
async def gathering() -> AsyncIterator[None]:
    """Reads made outside any transaction (a command's inputs, before its unit of work): a
    department or the hub store that fails refuses the request with its code."""
    try:
        yield
    except DepartmentUnavailable as e:
        raise source_error(e) from None
    except (StoreUnavailable, *UNREACHABLE) as e:
        raise _store_down(e) from None


def _store_down(error: BaseException) -> ApiError:
    """The hub store unreachable, said in words (the exception goes to the log)."""
    if isinstance(error, StoreUnavailable):
        return ApiError(str(error), StoreUnavailable.code)
    return ApiError(f"the hub store is unavailable ({describe(error)})", StoreUnavailable.code)


# -- plans ---------------------------------------------------------------------------------
# Upper bounds of a plan's numbers (their lower bounds are SamplingPlan's own rules): every
# value a draw can use, none that breaks it (a date 2**31 days back, a cap beyond counting).
MAX_EXCLUSION_DAYS = 3650  # ten years back; the national rules speak of three
MAX_ABNORMAL_MULTIPLIER = 100


def check_plan(plan: SamplingPlan) -> None:
    """Refuse a plan whose numbers are out of range, before anything is stored or read."""
    bounds = (
        ("floor", plan.floor, MAX_ENTITIES),
        ("cap", plan.cap, MAX_ENTITIES),
        ("exclusionDays", plan.exclusion_days, MAX_EXCLUSION_DAYS),
        ("abnormalMultiplier", plan.abnormal_multiplier, MAX_ABNORMAL_MULTIPLIER),
    )
    for name, value, most in bounds:
        if value is not None and value > most:
            raise bad_input(
                f"{name} must be at most {most:,}, got {value}", "INVALID_PLAN", max=most
            )


def plan_to_data(plan: SamplingPlan) -> dict[str, Any]:
    return {
        "ratioByGrade": {g.value: str(r) for g, r in plan.ratio_by_grade.items()},
        "floor": plan.floor,
        "cap": plan.cap,
        "exclusionDays": plan.exclusion_days,
        "abnormalMultiplier": str(plan.abnormal_multiplier),
        "alwaysIncludeAbnormal": plan.always_include_abnormal,
        "capPolicy": plan.cap_policy.value,
    }


def plan_from_data(data: dict[str, Any]) -> SamplingPlan:
    from fractions import Fraction

    return SamplingPlan(
        ratio_by_grade={CreditGrade(g): Fraction(r) for g, r in data["ratioByGrade"].items()},
        floor=data["floor"],
        cap=data["cap"],
        exclusion_days=data["exclusionDays"],
        abnormal_multiplier=Fraction(data["abnormalMultiplier"]),
        always_include_abnormal=data["alwaysIncludeAbnormal"],
        cap_policy=CapPolicy(data["capPolicy"]),
    )
