"""Records that departments hold about an entity, each carrying its department."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry

from adapters.postgres import Row
from domain.vocabulary import LIST_KINDS
from resolvers.entities import (
    penalty_class_of,
    penalty_publicized,
    record_publicity,
    record_publicized,
)
from schemas.departments import Department
from schemas.enums import (
    CreditGrade,
    CreditRecordKind,
    InspectionResult,
    PenaltyKind,
    PermitStatus,
    PublicityClass,
)
from schemas.permissions import PublishedOrStaff
from schemas.scalars import Money


def _department(info: strawberry.Info, code: str) -> Department:
    return Department.from_source(info.context.registry.get(code))


@strawberry.type(description="An administrative permit (行政许可) held by the entity.")
class Permit:
    id: str
    number: str = strawberry.field(description="The permit's document number.")
    name: str
    status: PermitStatus | None
    valid_from: date | None
    valid_to: date | None = strawberry.field(description="Null when open-ended.")
    commitment: bool | None = strawberry.field(
        description="Granted on a commitment (告知承诺); a verification inspection follows."
    )
    department_code: strawberry.Private[str]

    @strawberry.field(description="The department that holds this record.")
    def department(self, info: strawberry.Info) -> Department:
        return _department(info, self.department_code)

    @classmethod
    def from_row(cls, r: Row) -> Permit:
        return cls(
            id=r["id"],
            number=r["number"],
            name=r["name"],
            status=r["status"],
            valid_from=r["valid_from"],
            valid_to=r["valid_to"],
            commitment=r.get("commitment"),
            department_code=r["department"],
        )


@strawberry.type(description="An administrative penalty (行政处罚) decided against the entity.")
class Penalty:
    id: str
    kind: PenaltyKind | None
    decided_on: date | None
    serious: bool | None = strawberry.field(description="A serious case (longer publicity).")
    publicity_class: PublicityClass = strawberry.field(
        description="From the department's own record: serious flag → SERIOUS; a warning only "
        "→ WARNING; a fine up to 3,000 yuan and nothing else → MINOR; anything else → GENERAL."
    )
    publicized: bool = strawberry.field(
        description="In its publicity period, counted from the decision by its class (never for "
        "a warning; a minor one not, or up to 3 months; general 1 year; serious 3 years)."
    )
    department_code: strawberry.Private[str]
    number: strawberry.Private[str]
    amount: strawberry.Private[int | None]
    facts: strawberry.Private[str]

    @strawberry.field(permission_classes=[PublishedOrStaff])
    def decision_number(self) -> str | None:
        return self.number

    @strawberry.field(
        permission_classes=[PublishedOrStaff],
        description="Fine in yuan; null when none was set.",
    )
    def fine(self) -> Money | None:
        return self.amount

    @strawberry.field(permission_classes=[PublishedOrStaff])
    def violation(self) -> str | None:
        return self.facts

    @strawberry.field(description="The department that decided the penalty.")
    def department(self, info: strawberry.Info) -> Department:
        return _department(info, self.department_code)

    @classmethod
    def from_row(cls, r: Row) -> Penalty:
        return cls(
            id=r["id"],
            number=r["decision_number"],
            kind=r["kind"],
            amount=r["fine"],
            decided_on=r["decided_on"],
            facts=r["violation"],
            serious=r["serious"],
            publicity_class=penalty_class_of(r),
            publicized=penalty_publicized(r),
            department_code=r["department"],
        )


@strawberry.type(description="An inspection of the entity recorded by a department.")
class Inspection:
    id: str
    inspected_on: date | None
    result: InspectionResult | None
    department_code: strawberry.Private[str]

    @strawberry.field(description="The department that inspected.")
    def department(self, info: strawberry.Info) -> Department:
        return _department(info, self.department_code)

    @classmethod
    def from_row(cls, r: Row) -> Inspection:
        return cls(
            id=r["id"],
            inspected_on=r["inspected_on"],
            result=r["result"],
            department_code=r["department"],
        )


@strawberry.type(description="A credit record (信用记录) held by the public credit platform.")
class CreditRecord:
    id: str
    kind: CreditRecordKind | None
    title: str
    decided_on: date | None
    effective_to: date | None = strawberry.field(
        description="End of list membership or of publicity as the platform stored it; null "
        "while open-ended or never published (`publicized` says what holds today)."
    )
    withdrawn_on: date | None = strawberry.field(
        description="Set when a credit repair withdrew it early; the record itself stays."
    )
    deduction: int | None = strawberry.field(description="Points deducted from the score.")
    repairs_id: str | None = strawberry.field(
        description="For a repair record: the id of the record it repairs."
    )
    basis_id: str | None = strawberry.field(
        description="For a list entry: the record that founded it (a repair of that record "
        "lifts the entry too)."
    )
    publicity_class: PublicityClass | None = strawberry.field(
        description="Penalties, results, broken commitments: how long the record is public."
    )
    publicized: bool = strawberry.field(
        description="Public (shared) today: within its class's period from the decision, or "
        "through `effectiveTo`, and not withdrawn by a repair. A record past its maximum "
        "period drops off by itself."
    )
    public_until: date | None = strawberry.field(
        description="A classed record: the last day of its maximum publicity period."
    )
    repairable_from: date | None = strawberry.field(
        description="A classed record: the first day a repair may be applied for."
    )
    department_code: strawberry.Private[str]
    source_code: strawberry.Private[str | None]

    @strawberry.field(description="The department that holds this record (the credit platform).")
    def department(self, info: strawberry.Info) -> Department:
        return _department(info, self.department_code)

    @strawberry.field(description="The department code that reported it to the platform.")
    def source_department(self) -> str | None:
        return self.source_code

    @classmethod
    def from_row(cls, r: Row) -> CreditRecord:
        period = record_publicity(r)
        return cls(
            id=r["id"],
            kind=r["kind"],
            title=r["title"],
            decided_on=r["decided_on"],
            effective_to=r["effective_to"],
            withdrawn_on=r["withdrawn_on"],
            deduction=r["deduction"],
            repairs_id=r["repairs_id"],
            basis_id=r.get("basis_id"),
            publicity_class=r.get("publicity_class"),
            publicized=record_publicized(r),
            public_until=period.last_day if period else None,
            repairable_from=period.repairable_from if period else None,
            department_code=r["department"],
            source_code=r["source_department"],
        )


@strawberry.type(description="Membership of one of the credit lists.")
class ListEntry:
    kind: CreditRecordKind
    since: date | None
    until: date | None


@strawberry.type(description="The entity's credit standing at the public credit platform.")
class Credit:
    grade: CreditGrade | None
    score: int | None
    rated_on: date | None
    records: strawberry.Private[list[CreditRecord]]

    @strawberry.field(
        description="Lists the entity is on today (red, black, abnormal, serious); an entry "
        "a credit repair lifted is not."
    )
    def lists(self) -> list[ListEntry]:
        return [
            ListEntry(kind=r.kind, since=r.decided_on, until=r.effective_to)
            for r in self.records
            if r.kind in LIST_KINDS and r.publicized
        ]

    @classmethod
    def build(cls, rating: Row | None, records: list[Any]) -> Credit:
        return cls(
            grade=rating["grade"] if rating else None,
            score=rating["score"] if rating else None,
            rated_on=rating["rated_on"] if rating else None,
            records=[CreditRecord.from_row(r) for r in records],
        )
