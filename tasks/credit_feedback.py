"""Credit feedback to the credit platform through the transactional outbox: a published result
becomes credit records; an approved repair withdraws a record and the list entries it founded
and is itself a record. What cannot reach the platform stays pending for the next delivery
(`hub deliver-credit`); a delivery repeated after a failure inserts nothing twice."""

from __future__ import annotations

import logging
import uuid
from datetime import date
from typing import Any

import orjson

from adapters.credit_writer import NewCreditRecord, Update, Withdrawal, apply_credit
from adapters.errors import DepartmentUnavailable
from adapters.settings import publicity_rules
from domain.vocabulary import CreditGrade, InspectionResult
from planning.credit import (
    ApprovedResult,
    CreditRecord,
    apply_result,
    rating_after_repair,
    repair_record,
)
from planning.results import outcomes_of
from resolvers.context import RequestContext
from store import tasks as store

log = logging.getLogger(__name__)
REPAIR = "REPAIR"  # the outbox payload's kind of a repair; results carry none


async def deliver_credit(ctx: RequestContext) -> int:
    """Push pending credit feedback to the credit platform; what fails stays pending for the
    next delivery. Returns how many results and repairs were delivered."""
    platforms = ctx.registry.holding("credit_rating")
    if not platforms:
        return 0
    platform = platforms[0]
    delivered = 0
    async with ctx.store.transaction() as conn:
        pending = await store.pending_credit(conn)
        done = []
        for row in pending:
            payload = orjson.loads(row["payload"])
            withdraw = None
            if payload.get("kind") == REPAIR:
                on = date.fromisoformat(payload["decidedOn"])
                withdraw = Withdrawal(tuple(payload["withdraw"]), on)
            try:
                await apply_credit(
                    platform,
                    payload["uscc"],
                    record_id(row["id"], 0),
                    _updater(row["id"], payload),
                    withdraw,
                )
            except DepartmentUnavailable as e:
                log.warning("credit feedback pending", extra={"reason": e.reason}, exc_info=e)
                break
            done.append(row["id"])
            delivered += 1
        if done:
            await store.mark_delivered(conn, done)
    return delivered


def record_id(outbox_id: uuid.UUID, n: int) -> int:
    """A stable positive bigint per (result or repair, n-th record), so redelivery inserts
    nothing."""
    return (int.from_bytes(outbox_id.bytes[:8], "big") & (2**60 - 1)) * 4 + n


def _new(outbox_id: uuid.UUID, n: int, r: CreditRecord, source: str) -> NewCreditRecord:
    return NewCreditRecord(
        id=record_id(outbox_id, n),
        uscc=r.uscc,
        kind=r.kind.value,
        title=r.summary,
        source_department=source,
        decided_on=r.recorded_on,
        deduction=r.deduction,
        publicity_class=r.publicity_class.value if r.publicity_class else None,
        effective_to=r.effective_to,
        repairs_id=r.refers_to,
        basis_id=None if r.basis is None else record_id(outbox_id, r.basis),
    )


def _updater(outbox_id: uuid.UUID, payload: dict[str, Any]) -> Update:
    if payload.get("kind") == REPAIR:
        return _repair_updater(outbox_id, payload)
    result = ApprovedResult(
        uscc=payload["uscc"],
        task_id=payload["taskId"],
        departments=tuple(payload["departments"]),
        concluded_on=date.fromisoformat(payload["concludedOn"]),
        decided_on=date.fromisoformat(payload["decidedOn"]),
        category=InspectionResult(payload["category"]),
        outcomes=outcomes_of(payload["entries"]),
    )

    def update(
        score: int | None, grade: str | None, restored: int
    ) -> tuple[int, str, list[NewCreditRecord]]:
        new = apply_result(
            score if score is not None else 100,
            CreditGrade(grade) if grade else CreditGrade.A,
            result,
            periods=publicity_rules(),
        )
        source = "hub:" + ",".join(sorted(result.departments))
        records = [_new(outbox_id, n, r, source) for n, r in enumerate(new.records)]
        return new.score, new.grade.value, records

    return update


def _repair_updater(outbox_id: uuid.UUID, payload: dict[str, Any]) -> Update:
    """The REPAIR record gives back what the withdrawn records had deducted (known only inside
    the platform's transaction), and the grade may rise unless the entity stays punished."""

    def update(
        score: int | None, grade: str | None, restored: int
    ) -> tuple[int, str, list[NewCreditRecord]]:
        repair = repair_record(
            payload["uscc"],
            payload["recordId"],
            date.fromisoformat(payload["decidedOn"]),
            f"信用修复：{payload['recordTitle']}（{payload['reason']}）",
            restored,
            payload["department"],
        )
        new_score, new_grade = rating_after_repair(
            score if score is not None else 100,
            CreditGrade(grade) if grade else CreditGrade.A,
            restored,
            payload["stillListed"],
        )
        return new_score, new_grade.value, [_new(outbox_id, 0, repair, payload["department"])]

    return update
