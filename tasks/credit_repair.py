"""Credit repair (信用修复): an application filed on an entity's behalf for one credit record
at the credit platform, reviewed by the platform within 10 working days; an approval takes the
record and the list entries it founded out of publicity and sharing at the platform (through
the event outbox and the delivery worker) and is itself a record there. Nothing is deleted.

Each command reads the platform first (outside any transaction), decides with the rules of
planning/credit_lists.py, then writes in one short unit of work in the hub store, with its
idempotency key and an entry in the entity's credit trail of the audit log.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from adapters.errors import DepartmentUnavailable
from adapters.postgres import PostgresSource, Row
from adapters.settings import publicity_rules
from domain.vocabulary import PublicityClass
from planning.credit_lists import (
    application_refusal,
    publicity,
    repair_refusal,
    repair_review_refusal,
    withdrawal,
)
from planning.deadlines import repair_review_deadline, repair_sharing_deadline
from resolvers.context import RequestContext
from resolvers.entities import normalize_uscc
from resolvers.errors import ApiError, bad_input
from store import audit, content, events
from store import credit_repair as store
from store.events import Event, Kind
from tasks.common import (
    INVALID_STATE,
    check_page,
    not_found,
    parse_id,
    person,
    reading,
    refuse,
    run_command,
)
from tasks.credit_feedback import REPAIR

_TRAIL = uuid.UUID("6b1f6a58-3f0c-4d2e-9a51-1c7f2a0e5b10")  # namespace of entities' trails


def trail_id(uscc: str) -> uuid.UUID:
    """The audit trail of one entity's credit repairs (the audit log keeps one per task and
    one per entity): `hub verify-audit <id>` checks it."""
    return uuid.uuid5(_TRAIL, f"credit:{uscc}")


def _platform(ctx: RequestContext) -> PostgresSource:
    platforms = ctx.registry.holding("credit_record")
    if not platforms:
        raise bad_input("no department keeps credit records", "UNSUPPORTED")
    return platforms[0]


async def _records(platform: PostgresSource, uscc: str) -> list[Row]:
    """The entity's records at the platform, read fresh (not from the cache)."""
    try:
        return (await platform.by_keys("credit_record", [uscc])).get(uscc, [])
    except DepartmentUnavailable as e:
        raise ApiError(f"{e}; nothing was changed", e.code, department=e.department) from None


@dataclass(frozen=True, slots=True)
class Application:
    uscc: str
    record_id: str
    reason: str
    idempotency_key: str | None = None


async def apply(ctx: RequestContext, app: Application) -> uuid.UUID:
    uscc = normalize_uscc(ctx, app.uscc)
    reason = app.reason.strip()
    if not reason:
        raise bad_input("a credit repair states why (rectified, fine paid, …)", "REASON_REQUIRED")
    if len(reason) > 2000:
        raise bad_input("the reason is longer than 2,000 characters", "REASON_TOO_LONG")
    platform = _platform(ctx)
    record = next((r for r in await _records(platform, uscc) if r["id"] == app.record_id), None)
    if record is None:
        raise not_found(f"credit record of {uscc}", app.record_id)
    refuse(
        application_refusal(person(ctx), platform.code, record["source_department"] or ""),
        "a repair is filed by an officer of the credit platform or of the deciding department",
    )
    today = date.today()
    cls = PublicityClass(record["publicity_class"]) if record["publicity_class"] else None
    decided = record["decided_on"]
    why = repair_refusal(cls, decided, record["withdrawn_on"], today, publicity_rules())
    if why is not None:
        period = publicity(cls, decided, publicity_rules()) if decided else None
        raise bad_input(
            f"record {app.record_id} cannot be repaired today ({why.value})",
            why.value,
            repairableFrom=period.repairable_from.isoformat() if period else None,
        )
    due = repair_review_deadline(ctx.settings.calendar, today)
    repair_id = uuid.uuid4()
    payload = {"uscc": uscc, "recordId": app.record_id, "reason": reason}

    async def work(conn: asyncpg.Connection) -> dict[str, Any]:
        try:
            await store.insert(
                conn,
                {
                    "id": repair_id,
                    "uscc": uscc,
                    "record_id": app.record_id,
                    "record_kind": record["kind"],
                    "record_title": record["title"] or "",
                    "publicity_class": str(cls),
                    "decided_on": decided,
                    "reason": reason,
                    "applied_by": ctx.actor,
                    "applied_subject": ctx.principal.subject,
                    "applied_department": ctx.principal.department or "",
                    "applied_on": today,
                    "review_due": due.date,
                    "review_due_provisional": due.provisional,
                },
            )
        except store.AlreadyOpen:
            raise ApiError(
                f"record {app.record_id} has a pending or an approved repair already",
                INVALID_STATE,
                reason="REPAIR_EXISTS",
            ) from None
        await audit.append(
            conn,
            ctx.store.signer,
            trail_id(uscc),
            ctx.actor,
            "REPAIR_APPLIED",
            {
                "repair": str(repair_id),
                "uscc": uscc,
                "record": app.record_id,
                "class": str(cls),
                "reviewDue": due.date.isoformat(),
            },
            content.Changed(repairs=[repair_id]),
        )
        return {"repairId": str(repair_id)}

    answer = await run_command(ctx, "applyCreditRepair", app.idempotency_key, payload, work)
    return uuid.UUID(answer["repairId"])


async def review(
    ctx: RequestContext, ref: str, approve: bool, comment: str, key: str | None
) -> uuid.UUID:
    repair_id = parse_id(ref, "repair")
    if not approve and not comment.strip():
        raise bad_input("rejecting a repair application needs a comment", "COMMENT_REQUIRED")
    async with reading(ctx) as pool:
        found = await store.get(pool, repair_id)
    if found is None:
        raise not_found("credit repair", repair_id)
    platform = _platform(ctx)
    refuse(
        repair_review_refusal(person(ctx), platform.code, found["applied_subject"]),
        "a repair is reviewed by a reviewer of the credit platform, never by whoever filed it",
    )
    today = date.today()
    # What an approval withdraws, from the platform's records as they are now.
    lifted = withdrawal(found["record_id"], await _records(platform, found["uscc"]), today)
    share = repair_sharing_deadline(ctx.settings.calendar, today) if approve else None
    payload = {"repairId": str(repair_id), "approve": approve, "comment": comment}

    async def work(conn: asyncpg.Connection) -> dict[str, Any]:
        row = await store.lock(conn, repair_id)
        if row["state"] != "PENDING":
            raise ApiError(
                f"the repair was {row['state'].lower()} already", INVALID_STATE, state=row["state"]
            )
        await store.decide(
            conn,
            repair_id,
            approve,
            ctx.actor,
            today,
            comment,
            share.date if share else None,
            share.provisional if share else None,
        )
        if approve:
            feedback = {
                "kind": REPAIR,
                "repairId": str(repair_id),
                "uscc": row["uscc"].strip(),
                "recordId": row["record_id"],
                "recordTitle": row["record_title"],
                "reason": row["reason"],
                "decidedOn": today.isoformat(),
                "department": platform.code,
                "withdraw": list(lifted.withdraw),
                "stillListed": lifted.still_listed,
            }
            await events.emit(
                conn, Event(Kind.CREDIT_REPAIR, feedback, departments=(platform.code,))
            )
        await audit.append(
            conn,
            ctx.store.signer,
            trail_id(row["uscc"].strip()),
            ctx.actor,
            "REPAIR_APPROVED" if approve else "REPAIR_REJECTED",
            {
                "repair": str(repair_id),
                "record": row["record_id"],
                "withdrawn": list(lifted.withdraw) if approve else [],
                "comment": comment,
                "late": today > row["review_due"],
            },
            content.Changed(repairs=[repair_id]),
        )
        return {"repairId": str(repair_id)}

    await run_command(ctx, "reviewCreditRepair", key, payload, work)
    return repair_id


async def repair(ctx: RequestContext, ref: str) -> Any:
    async with reading(ctx) as pool:
        row = await store.get(pool, parse_id(ref, "repair"))
    if row is None:
        raise not_found("credit repair", ref)
    return row


async def repairs(
    ctx: RequestContext,
    states: Sequence[str] | None,
    uscc: str | None,
    first: int,
    offset: int,
) -> list[Any]:
    check_page(first, offset)
    code = normalize_uscc(ctx, uscc) if uscc else None
    async with reading(ctx) as pool:
        return await store.listed(pool, states, code, first, offset)
