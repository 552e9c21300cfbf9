"""Joint inspection tasks: the task, its visits with teams, forms and results."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from fractions import Fraction
from typing import Any

import orjson
import strawberry
from strawberry.scalars import JSON

from planning import entity_draw
from planning.checklist import MergedChecklist
from planning.deadlines import matching_deadline
from planning.forms import form_from_data
from resolvers.entities import get_entity
from schemas.calendar_api import WorkingDate
from schemas.departments import Department
from schemas.draw_api import SeedObserver
from schemas.entity import Entity
from schemas.enums import CreditGrade, InspectionResult
from tasks import queries as resolve
from tasks.results import department_view, drawn_on


@strawberry.enum(description="Life of a joint task.")
class TaskStatus(Enum):
    DRAFT = "DRAFT"
    DRAWN = "DRAWN"
    CLOSED = "CLOSED"
    PUBLISHED = "PUBLISHED"


@strawberry.enum(description="Where a visit's result stands (not entered → published).")
class VisitState(Enum):
    NOT_ENTERED = "NOT_ENTERED"
    PENDING_REVIEW = "PENDING_REVIEW"
    RETURNED = "RETURNED"
    APPROVED = "APPROVED"
    PUBLISHED = "PUBLISHED"
    CLOSED_UNFINISHED = "CLOSED_UNFINISHED"


@strawberry.enum(description="What the team found for one line of the joint form.")
class Outcome(Enum):
    COMPLIANT = "COMPLIANT"
    NON_COMPLIANT = "NON_COMPLIANT"
    NOT_APPLICABLE = "NOT_APPLICABLE"


def _dept(info: strawberry.Info, code: str) -> Department:
    return Department.from_source(info.context.registry.get(code))


# -- the merged form -----------------------------------------------------------------------
@strawberry.type(description="One department's claim on a form entry, in its own terms.")
class Requirement:
    department_code: strawberry.Private[str]
    item_code: str
    item_name: str
    legal_basis: str
    delegable: bool

    @strawberry.field
    def department(self, info: strawberry.Info) -> Department:
        return _dept(info, self.department_code)


@strawberry.type(description="One line of the joint form: checked once, routed to each department.")
class FormEntry:
    key: str = strawberry.field(description="The standard code, or department:itemCode.")
    name: str
    standard_code: str | None
    tags: list[str]
    delegable: bool = strawberry.field(
        description="Every requiring department lets another department's inspector check it."
    )
    requirements: list[Requirement]


@strawberry.type(description="The merged checklist of one visit.")
class MergedForm:
    raw_count: int = strawberry.field(description="Applicable items of all departments, added up.")
    merged_count: int = strawberry.field(description="Entries on the joint form.")
    entries: list[FormEntry]
    departments: list[str]

    @classmethod
    def build(cls, form: MergedChecklist) -> MergedForm:
        return cls(
            raw_count=form.raw_count,
            merged_count=form.merged_count,
            departments=list(form.departments),
            entries=[
                FormEntry(
                    key=e.key,
                    name=e.name,
                    standard_code=e.standard_code,
                    tags=sorted(e.tags),
                    delegable=e.delegable,
                    requirements=[
                        Requirement(
                            department_code=r.department,
                            item_code=r.item_code,
                            item_name=r.item_name,
                            legal_basis=r.legal_basis,
                            delegable=r.delegable,
                        )
                        for r in e.requirements
                    ],
                )
                for e in form.entries
            ],
        )


# -- teams, results ------------------------------------------------------------------------
@strawberry.type(description="An inspector's seat on a visit's team.")
class TeamMember:
    inspector_id: str
    department_code: strawberry.Private[str]
    role: str = strawberry.field(description="leader or member")
    wider_pool: bool = strawberry.field(
        description="Drawn from another district: no local inspector of the department could go."
    )
    rank: str = strawberry.field(description="Keyed-hash rank that drew this inspector.")
    origin: str = strawberry.field(description="DRAW or SUBSTITUTION")
    assigned_at: datetime
    replaced_at: datetime | None
    reason: str | None = strawberry.field(description="Why the inspector was replaced.")

    @strawberry.field
    def department(self, info: strawberry.Info) -> Department:
        return _dept(info, self.department_code)

    @classmethod
    def from_row(cls, r: Any) -> TeamMember:
        return cls(
            inspector_id=r["inspector_id"],
            department_code=r["department"],
            role=r["role"],
            wider_pool=r["wider_pool"],
            rank=r["rank"],
            origin=r["origin"],
            assigned_at=r["assigned_at"],
            replaced_at=r["replaced_at"],
            reason=r["reason"],
        )


@strawberry.type
class EntryResult:
    key: str
    outcome: Outcome
    note: str


@strawberry.type(description="The latest entered result of a visit.")
class VisitResult:
    version: int
    category: InspectionResult
    concluded_on: date
    outside_window: bool = strawberry.field(
        description="Concluded outside the task's window: accepted, and flagged."
    )
    entered_by: str
    entered_subject: str = strawberry.field(description="Token subject of whoever entered it.")
    entered_department: str = strawberry.field(
        description="Their department: its reviewers, or the lead department's, review it."
    )
    entered_at: datetime
    approved: bool | None
    reviewed_by: str | None
    review_comment: str | None
    entries: list[EntryResult]


@strawberry.type(description="A department's own items' outcomes on a joint visit.")
class DepartmentOutcome:
    department: str
    entry_key: str
    item_code: str
    item_name: str
    legal_basis: str
    outcome: Outcome
    note: str


@strawberry.type
class PublicationInfo:
    published_on: date
    deadline: date = strawberry.field(
        description="20 official working days after the conclusion (weekends and public "
        "holidays skipped, make-up working days counted)."
    )
    provisional: bool = strawberry.field(
        description="The deadline reaches a year whose official calendar is not known yet: "
        "counted Monday to Friday there, and may move."
    )
    late: bool


@strawberry.type(description="One entity's visit in a joint task: one door, many checks.")
class JointVisit:
    id: strawberry.ID
    uscc: str
    entity_name: str | None
    district: str
    grade: CreditGrade = strawberry.field(description="Credit grade at the draw (its stratum).")
    rank: str = strawberry.field(
        description="HMAC-SHA256 under the draw's seed of the USCC that drew it, in hex."
    )
    state: VisitState
    row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, r: Any) -> JointVisit:
        return cls(
            id=strawberry.ID(str(r["id"])),
            uscc=r["uscc"].strip(),
            entity_name=r["entity_name"],
            district=r["district"],
            grade=CreditGrade(r["grade"].strip()),
            rank=r["rank"],
            state=VisitState(r["state"]),
            row=r,
        )

    @strawberry.field(description="The entity's record from the departments.")
    async def entity(self, info: strawberry.Info) -> Entity | None:
        found = await get_entity(info.context, self.uscc, info.path.as_list())
        return None if found is None else Entity(uscc=found.uscc, row=found.row)

    @strawberry.field
    def form(self) -> MergedForm:
        return MergedForm.build(form_from_data(orjson.loads(self.row["form"])))

    @strawberry.field(description="The team as it stands (after any substitution).")
    async def team(self, info: strawberry.Info) -> list[TeamMember]:
        rows = await resolve.store_loaders(info.context).team.load(self.row["id"])
        return [TeamMember.from_row(r) for r in rows]

    @strawberry.field(description="Every assignment ever made, replaced ones included.")
    async def team_history(self, info: strawberry.Info) -> list[TeamMember]:
        rows = await resolve.store_loaders(info.context).history.load(self.row["id"])
        return [TeamMember.from_row(r) for r in rows]

    @strawberry.field
    async def result(self, info: strawberry.Info) -> VisitResult | None:
        r = await resolve.store_loaders(info.context).result.load(self.row["id"])
        if r is None:
            return None
        return VisitResult(
            version=r["version"],
            category=InspectionResult(r["category"]),
            concluded_on=r["concluded_on"],
            outside_window=r["outside_window"],
            entered_by=r["entered_by"],
            entered_subject=r["entered_subject"],
            entered_department=r["entered_department"],
            entered_at=r["entered_at"],
            approved=r["approved"],
            reviewed_by=r["reviewed_by"],
            review_comment=r["review_comment"],
            entries=[
                EntryResult(key=e["key"], outcome=Outcome(e["outcome"]), note=e["note"])
                for e in orjson.loads(r["entries"])
            ],
        )

    @strawberry.field(
        description="One department's own items' outcomes, under its own item "
        "codes and legal bases."
    )
    async def outcomes_for(self, info: strawberry.Info, department: str) -> list[DepartmentOutcome]:
        r = await resolve.store_loaders(info.context).result.load(self.row["id"])
        if r is None:
            return []
        routed = department_view(
            orjson.loads(self.row["form"]), orjson.loads(r["entries"]), department
        )
        return [
            DepartmentOutcome(
                department=o.department,
                entry_key=o.entry_key,
                item_code=o.item_code,
                item_name=o.item_name,
                legal_basis=o.legal_basis,
                outcome=Outcome(o.outcome.value),
                note=o.note,
            )
            for o in routed
        ]

    @strawberry.field
    async def publication(self, info: strawberry.Info) -> PublicationInfo | None:
        p = await resolve.store_loaders(info.context).publication.load(self.row["id"])
        if p is None:
            return None
        return PublicationInfo(
            published_on=p["published_on"],
            deadline=p["deadline"],
            provisional=p["provisional"],
            late=p["late"],
        )


# -- the task ------------------------------------------------------------------------------
@strawberry.type
class GradeRatio:
    grade: CreditGrade
    ratio: float


CapPolicy = strawberry.enum(entity_draw.CapPolicy, description="How a plan's cap cuts the draw.")


@strawberry.type(description="How entities are drawn: a ratio per grade, a floor and a cap.")
class SamplingPlanView:
    ratios: list[GradeRatio]
    floor: int
    cap: int | None
    exclusion_days: int | None
    abnormal_multiplier: float
    always_include_abnormal: bool
    cap_policy: CapPolicy


@strawberry.type
class GradeCount:
    grade: CreditGrade
    population: int
    drawn: int


@strawberry.type
class ExclusionCount:
    reason: str
    count: int


@strawberry.type(description="What the joint visits save against each department going alone.")
class Savings:
    visits: int
    dispatches: int
    separate_visits: int
    separate_dispatches: int
    separate_visits_avoided: int
    dispatches_avoided: int


@strawberry.type
class StateCount:
    state: VisitState
    count: int


def _fraction(value: str) -> float:
    return float(Fraction(value))


@strawberry.type(name="JointInspectionTask", description="A joint double-random inspection task.")
class JointInspectionTask:
    id: strawberry.ID
    title: str
    status: TaskStatus
    team_size: int
    window_start: date
    window_end: date
    seed_commitment: str = strawberry.field(
        description="SHA-256 of the hub's secret share of the seed (the seed itself without "
        "observers), shown from creation so that the draw can be checked."
    )
    created_by: str
    created_at: datetime
    drawn_at: datetime | None
    close_reason: str | None
    row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, r: Any) -> JointInspectionTask:
        return cls(
            id=strawberry.ID(str(r["id"])),
            title=r["title"],
            status=TaskStatus(r["status"]),
            team_size=r["team_size"],
            window_start=r["window_start"],
            window_end=r["window_end"],
            seed_commitment=r["seed_commitment"],
            created_by=r["created_by"],
            created_at=r["created_at"],
            drawn_at=r["drawn_at"],
            close_reason=r["close_reason"],
            row=r,
        )

    @strawberry.field(
        description="Inspectors are matched within 2 official working days of the entity draw: "
        "the last day for it (null before the draw)."
    )
    def matching_deadline(self, info: strawberry.Info) -> WorkingDate | None:
        if self.row["drawn_at"] is None:
            return None
        return WorkingDate.of(matching_deadline(info.context.settings.calendar, drawn_on(self.row)))

    @strawberry.field(
        description="The hub's share of the seed in hex, revealed by the draw (null before); "
        "its SHA-256 is seedCommitment. Without observers it is the draw's seed."
    )
    def seed(self) -> str | None:
        return bytes(self.row["seed"]).hex() if self.row["seed_revealed"] else None

    @strawberry.field(
        description="The seed the draw used (null before the draw): the hub's share, or with "
        "observers SHA-256 of 'jsh-seed-v1', the hub's share and every observer's share "
        "(docs/draw-spec.md)."
    )
    def draw_seed(self) -> str | None:
        raw = self.row["draw_seed"]
        return bytes(raw).hex() if raw is not None and self.row["seed_revealed"] else None

    @strawberry.field(description="Parties taking part in the seed, in the order of their shares.")
    async def observers(self, info: strawberry.Info) -> list[SeedObserver]:
        rows = await resolve.store_loaders(info.context).observers.load(self.row["id"])
        drawn = self.row["status"] != "DRAFT"
        return [SeedObserver.from_row(r, drawn) for r in rows]

    @strawberry.field
    def lead_department(self, info: strawberry.Info) -> Department:
        return _dept(info, self.row["lead_department"])

    @strawberry.field(description="Lead first, then the participants.")
    def departments(self, info: strawberry.Info) -> list[Department]:
        return [_dept(info, d) for d in self.row["departments"]]

    @strawberry.field(description="The entity filter the population was drawn from.")
    def scope(self) -> JSON:
        return orjson.loads(self.row["scope"])

    @strawberry.field
    def plan(self) -> SamplingPlanView:
        p = orjson.loads(self.row["plan"])
        return SamplingPlanView(
            ratios=[
                GradeRatio(grade=CreditGrade(g), ratio=_fraction(r))
                for g, r in sorted(p["ratioByGrade"].items())
            ],
            floor=p["floor"],
            cap=p["cap"],
            exclusion_days=p["exclusionDays"],
            abnormal_multiplier=_fraction(p["abnormalMultiplier"]),
            always_include_abnormal=p["alwaysIncludeAbnormal"],
            cap_policy=CapPolicy(p["capPolicy"]),
        )

    @strawberry.field(
        description="Eligible population and drawn entities per grade (after the draw)."
    )
    def population(self) -> list[GradeCount] | None:
        if self.row["population"] is None:
            return None
        data = orjson.loads(self.row["population"])
        return [
            GradeCount(grade=CreditGrade(g), population=v["population"], drawn=v["drawn"])
            for g, v in sorted(data.items())
        ]

    @strawberry.field(description="Entities left out of the population, by reason.")
    def excluded(self) -> list[ExclusionCount] | None:
        if self.row["excluded"] is None:
            return None
        return [
            ExclusionCount(reason=k, count=v)
            for k, v in sorted(orjson.loads(self.row["excluded"]).items())
        ]

    @strawberry.field
    def savings(self) -> Savings | None:
        if self.row["savings"] is None:
            return None
        return Savings(**orjson.loads(self.row["savings"]))

    @strawberry.field(description="Visits by state.")
    async def visit_counts(self, info: strawberry.Info) -> list[StateCount]:
        counts = await resolve.visit_counts(info.context, self.row["id"])
        return [StateCount(state=VisitState(s), count=n) for s, n in sorted(counts.items())]

    @strawberry.field(description="The task's visits in draw order (by rank), a page at a time.")
    async def visits(
        self,
        info: strawberry.Info,
        state: list[VisitState] | None = None,
        first: int = 100,
        offset: int = 0,
    ) -> list[JointVisit]:
        rows = await resolve.task_visits(
            info.context,
            self.row["id"],
            [s.value for s in state] if state else None,
            first,
            offset,
        )
        return [JointVisit.from_row(r) for r in rows]
