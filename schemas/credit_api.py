"""Credit repair in the graph: applications filed on an entity's behalf, their review within
10 working days, and the list of those waiting (tasks/credit_repair.py does the work)."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any

import strawberry

from planning.calendar import WorkingDate as Counted
from schemas.calendar_api import WorkingDate
from schemas.enums import CreditRecordKind, PublicityClass
from schemas.permissions import Officer, Reviewer, Staff
from schemas.planning_api import Key
from tasks import credit_repair as repairs


@strawberry.enum(description="Where a repair application stands.")
class CreditRepairState(Enum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


@strawberry.type(description="A credit-repair application (信用修复) for one credit record.")
class CreditRepair:
    id: strawberry.ID
    uscc: str
    record_id: str = strawberry.field(description="The repaired record at the credit platform.")
    record_kind: CreditRecordKind
    record_title: str
    publicity_class: PublicityClass
    decided_on: date = strawberry.field(description="The record's decision date.")
    reason: str
    applied_by: str
    applied_on: date
    review_due: WorkingDate = strawberry.field(
        description="Reviewed within 10 official working days of the application."
    )
    state: CreditRepairState
    reviewed_by: str | None
    reviewed_on: date | None
    review_comment: str | None
    share_by: WorkingDate | None = strawberry.field(
        description="Local platforms share an approval within 3 official working days."
    )
    delivered: bool = strawberry.field(
        description="An approval has reached the credit platform: the record and the list "
        "entries it founded are withdrawn there, and the REPAIR record is written."
    )
    audit_trail_id: strawberry.ID = strawberry.field(
        description="The entity's credit trail in the audit log (`hub verify-audit <id>`)."
    )

    @strawberry.field(description="Still pending after its review deadline.")
    def overdue(self) -> bool:
        return self.state == CreditRepairState.PENDING and date.today() > self.review_due.date

    @classmethod
    def from_row(cls, r: Any) -> CreditRepair:
        share = None
        if r["share_by"] is not None:
            share = WorkingDate.of(Counted(r["share_by"], r["share_by_provisional"]))
        return cls(
            id=strawberry.ID(str(r["id"])),
            uscc=r["uscc"].strip(),
            record_id=r["record_id"],
            record_kind=CreditRecordKind(r["record_kind"]),
            record_title=r["record_title"],
            publicity_class=PublicityClass(r["publicity_class"]),
            decided_on=r["decided_on"],
            reason=r["reason"],
            applied_by=r["applied_by"],
            applied_on=r["applied_on"],
            review_due=WorkingDate.of(Counted(r["review_due"], r["review_due_provisional"])),
            state=CreditRepairState(r["state"]),
            reviewed_by=r["reviewed_by"],
            reviewed_on=r["reviewed_on"],
            review_comment=r["review_comment"],
            share_by=share,
            delivered=r["delivered_at"] is not None,
            audit_trail_id=strawberry.ID(str(repairs.trail_id(r["uscc"].strip()))),
        )


@strawberry.input
class ApplyCreditRepairInput:
    uscc: str
    record_id: str = strawberry.field(description="The credit record's id (`creditRecords`).")
    reason: str = strawberry.field(description="What the entity did: rectified, paid, …")
    idempotency_key: str | None = None


@strawberry.type
class CreditQuery:
    @strawberry.field(
        permission_classes=[Staff],
        description="Repair applications, those due first; `state: [PENDING]` for the ones "
        "waiting, with their review deadlines.",
    )
    async def credit_repairs(
        self,
        info: strawberry.Info,
        state: list[CreditRepairState] | None = None,
        uscc: str | None = None,
        first: int = 20,
        offset: int = 0,
    ) -> list[CreditRepair]:
        rows = await repairs.repairs(
            info.context, [s.value for s in state] if state else None, uscc, first, offset
        )
        return [CreditRepair.from_row(r) for r in rows]

    @strawberry.field(permission_classes=[Staff])
    async def credit_repair(self, info: strawberry.Info, id: strawberry.ID) -> CreditRepair:
        return CreditRepair.from_row(await repairs.repair(info.context, id))


@strawberry.type
class CreditMutation:
    @strawberry.mutation(
        permission_classes=[Officer],
        description="File a repair application for one credit record on the entity's behalf "
        "(an officer of the credit platform or of the deciding department), once the record's "
        "minimum publicity period has passed and while it is public.",
    )
    async def apply_credit_repair(
        self, info: strawberry.Info, input: ApplyCreditRepairInput
    ) -> CreditRepair:
        repair_id = await repairs.apply(
            info.context,
            repairs.Application(input.uscc, input.record_id, input.reason, input.idempotency_key),
        )
        return CreditRepair.from_row(await repairs.repair(info.context, str(repair_id)))

    @strawberry.mutation(
        permission_classes=[Reviewer],
        description="Approve a repair (the record and the list entries it founded leave "
        "publicity and sharing, a REPAIR record is written) or reject it with a comment: a "
        "reviewer of the credit platform, never whoever filed it.",
    )
    async def review_credit_repair(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        approve: bool,
        comment: str = "",
        idempotency_key: Key = None,
    ) -> CreditRepair:
        await repairs.review(info.context, id, approve, comment, idempotency_key)
        return CreditRepair.from_row(await repairs.repair(info.context, id))
