"""Credit feedback: published results and approved credit repairs (`result.published` and
`credit.repair` events of the outbox) become credit records and a new rating at the credit
platform, delivered by the delivery worker in every hub process (tasks/delivery.py).

Delivery is idempotent: the records' ids derive from the visit (a result) or the repair, and
the platform's transaction inserts nothing when they are there already, so a retry after a
lost answer changes nothing. A result repairs nothing and withdraws nothing; a repair
withdraws the records it lifts and is itself a record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import asyncpg

from adapters.credit_writer import NewCreditRecord, Update, Withdrawal, apply_credit
from adapters.errors import DepartmentUnavailable
from adapters.registry import Registry
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
from store import credit_repair as repairs
from store.deliveries import Delivery
from store.events import CREDIT, Kind
from tasks.delivery import DeliveryFailed, DeliveryWorker, Round

REPAIR = "REPAIR"  # the payload's kind of a repair; results carry none


class CreditFeedback:
    """The worker's handler for the "credit" consumer."""

    def __init__(self, registry: Registry, pool: Callable[[], asyncpg.Pool]) -> None:
        self.registry = registry
        self._pool = pool

    async def __call__(self, d: Delivery) -> None:
        platforms = self.registry.holding("credit_rating")
        if not platforms:
            raise DeliveryFailed("no credit platform is configured")
        payload = d.event.data
        repair = d.event.kind == Kind.CREDIT_REPAIR
        key = uuid.UUID(payload["repairId"] if repair else payload["visitId"])
        withdraw = None
        if repair:
            withdraw = Withdrawal(
                tuple(payload["withdraw"]), date.fromisoformat(payload["decidedOn"])
            )
        try:
            await apply_credit(
                platforms[0], payload["uscc"], record_id(key, 0), _updater(key, payload), withdraw
            )
        except DepartmentUnavailable as e:
            raise DeliveryFailed(f"credit platform unavailable: {e.reason}") from None
        if repair:
            await repairs.delivered(self._pool(), key)


async def deliver_now(worker: DeliveryWorker) -> Round:
    """Deliver every pending credit feedback now, backoff or not (`hub deliver-credit`); stops
    at the first failure, which keeps its retry schedule."""
    total = Round()
    while True:
        r = await worker.run_once(CREDIT, due_only=False)
        total.leased += r.leased
        total.delivered += r.delivered
        total.failed += r.failed
        total.dead += r.dead
        total.errors += r.errors
        if r.failed or r.leased < worker.policy.batch:
            return total


def record_id(key: uuid.UUID, n: int) -> int:
    """A stable positive bigint per (result or repair, n-th record), so redelivery inserts
    nothing."""
    return (int.from_bytes(key.bytes[:8], "big") & (2**60 - 1)) * 4 + n


def _new(key: uuid.UUID, n: int, r: CreditRecord, source: str) -> NewCreditRecord:
    return NewCreditRecord(
        id=record_id(key, n),
        uscc=r.uscc,
        kind=r.kind.value,
        title=r.summary,
        source_department=source,
        decided_on=r.recorded_on,
        deduction=r.deduction,
        publicity_class=r.publicity_class.value if r.publicity_class else None,
        effective_to=r.effective_to,
        repairs_id=r.refers_to,
        basis_id=None if r.basis is None else record_id(key, r.basis),
    )


def _updater(key: uuid.UUID, payload: dict[str, Any]) -> Update:
    if payload.get("kind") == REPAIR:
        return _repair_updater(key, payload)
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
        records = [_new(key, n, r, source) for n, r in enumerate(new.records)]
        return new.score, new.grade.value, records

    return update


def _repair_updater(key: uuid.UUID, payload: dict[str, Any]) -> Update:
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
        return new_score, new_grade.value, [_new(key, 0, repair, payload["department"])]

    return update
