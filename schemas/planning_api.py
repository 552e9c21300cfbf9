"""The planning part of the graph: joint tasks to read, and the commands that change them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import orjson
import strawberry

from planning.entity_draw import SamplingPlan
from resolvers.entities import EntityQuery
from resolvers.errors import bad_input
from schemas.audit_api import AuditCheckpoint
from schemas.draw_api import ObserverInput
from schemas.entity import Entity, PageInfo
from schemas.enums import CreditGrade, InspectionResult
from schemas.permissions import Inspector, Planner, Reviewer, Staff
from schemas.query import EntityFilter
from schemas.tasks import (
    CapPolicy,
    ExclusionCount,
    JointInspectionTask,
    JointVisit,
    MergedForm,
    Outcome,
    TaskStatus,
)
from tasks import commands as task_commands
from tasks import draw as task_draw
from tasks import queries as task_queries
from tasks import results as task_results
from tasks import substitution as task_substitution
from tasks import trail as task_trail


# -- inputs ------------------------------------------------------------------------------------
@strawberry.input
class GradeRatioInput:
    grade: CreditGrade
    ratio: float = strawberry.field(description="Share of the grade's population, 0 to 1.")


@strawberry.input(description="Ratio per credit grade, a floor and a cap, the exclusion window.")
class SamplingPlanInput:
    ratios: list[GradeRatioInput]
    floor: int = strawberry.field(default=0, description="Minimum entities drawn in total.")
    cap: int | None = strawberry.field(default=None, description="Maximum entities in total.")
    exclusion_days: int | None = strawberry.field(
        default=None, description="Leave out entities inspected within this many days."
    )
    abnormal_multiplier: float = strawberry.field(
        default=2.0, description="Ratio multiplier for entities on the abnormal or serious list."
    )
    always_include_abnormal: bool = False
    cap_policy: CapPolicy = strawberry.field(
        default=CapPolicy.RISK_FIRST,
        description="How a cap cuts: RISK_FIRST keeps the higher-risk strata whole, "
        "PROPORTIONAL scales every stratum alike (docs/draw-spec.md §4).",
    )

    def to_plan(self) -> SamplingPlan:
        if len({r.grade for r in self.ratios}) < len(self.ratios):
            raise bad_input("give each credit grade's ratio once", "INVALID_RATIO")
        try:
            return SamplingPlan(
                ratio_by_grade={r.grade: r.ratio for r in self.ratios},
                floor=self.floor,
                cap=self.cap,
                exclusion_days=self.exclusion_days,
                abnormal_multiplier=self.abnormal_multiplier,
                always_include_abnormal=self.always_include_abnormal,
                cap_policy=self.cap_policy,
            )
        except ValueError as e:  # the plan's own rules (ratio in [0, 1], cap >= floor, …)
            reason = "INVALID_RATIO" if "ratio" in str(e) else "INVALID_PLAN"
            raise bad_input(str(e), reason) from None


@strawberry.input
class CreateJointInspectionTaskInput:
    title: str
    lead_department: str
    departments: list[str] = strawberry.field(description="Participating departments.")
    scope: EntityFilter | None = None
    plan: SamplingPlanInput
    team_size: int = 2
    window_start: date
    window_end: date
    idempotency_key: str
    observers: list[ObserverInput] = strawberry.field(
        default_factory=list,
        description="Parties taking part in the seed; the draw waits for every one's share.",
    )


@strawberry.input
class EntryOutcomeInput:
    key: str = strawberry.field(description="The form entry's key.")
    outcome: Outcome
    note: str = ""


@strawberry.input
class RecordVisitResultInput:
    visit_id: strawberry.ID
    category: InspectionResult
    entries: list[EntryOutcomeInput]
    concluded_on: date
    idempotency_key: str | None = None


# -- reads -----------------------------------------------------------------------------------
@strawberry.type(description="The merged form for an entity before any task exists.")
class ChecklistPreview:
    entity: Entity
    form: MergedForm
    separate_visits: int = strawberry.field(
        description="Visits the departments would make alone (one per department with items)."
    )
    joint_visits: int


@strawberry.type
class CensusGrade:
    grade: CreditGrade
    population: int = strawberry.field(description="Eligible entities of this grade.")
    listed: int = strawberry.field(description="Of them on the abnormal or serious list.")
    expected: int = strawberry.field(description="Entities the plan would draw.")


@strawberry.type(description="What a task would draw, counted exactly before it exists.")
class Census:
    grades: list[CensusGrade]
    excluded: list[ExclusionCount]
    expected_visits: int


@strawberry.type(description="A published inspection result: what the public may see.")
class PublishedResult:
    uscc: str
    entity_name: str
    task_id: strawberry.ID
    task_title: str
    departments: list[str]
    concluded_on: date
    published_on: date
    category: InspectionResult

    @strawberry.field(
        description="The latest signed checkpoint of the task's audit trail, to keep."
    )
    async def checkpoint(self, info: strawberry.Info) -> AuditCheckpoint | None:
        return AuditCheckpoint.of(await task_trail.checkpoint(info.context, self.task_id))


@strawberry.type
class PublishedResultEdge:
    cursor: str = strawberry.field(description="This result's place: `after` it, the ones after.")
    node: PublishedResult


@strawberry.type
class PublishedResultConnection:
    edges: list[PublishedResultEdge]
    page_info: PageInfo


@strawberry.type
class JointInspectionTaskConnection:
    nodes: list[JointInspectionTask]
    page_info: PageInfo


def _published(row: Any) -> PublishedResult:
    r = orjson.loads(row["record"])
    return PublishedResult(
        uscc=r["uscc"],
        entity_name=r["entityName"],
        task_id=strawberry.ID(r["taskId"]),
        task_title=r["taskTitle"],
        departments=r["departments"],
        concluded_on=date.fromisoformat(r["concludedOn"]),
        published_on=date.fromisoformat(r["publishedOn"]),
        category=InspectionResult(r["category"]),
    )


@strawberry.type
class PlanningQuery:
    @strawberry.field(permission_classes=[Staff])
    async def joint_inspection_task(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> JointInspectionTask | None:
        row = await task_queries.task(info.context, id)
        return None if row is None else JointInspectionTask.from_row(row)

    @strawberry.field(permission_classes=[Staff], description="Tasks, newest first.")
    async def joint_inspection_tasks(
        self,
        info: strawberry.Info,
        status: list[TaskStatus] | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> JointInspectionTaskConnection:
        rows, more, end = await task_queries.tasks(
            info.context, [s.value for s in status] if status else None, first, after
        )
        return JointInspectionTaskConnection(
            nodes=[JointInspectionTask.from_row(r) for r in rows],
            page_info=PageInfo(has_next_page=more, end_cursor=end),
        )

    @strawberry.field(permission_classes=[Staff], description="One visit of a task.")
    async def joint_visit(self, info: strawberry.Info, id: strawberry.ID) -> JointVisit:
        return JointVisit.from_row(await task_queries.visit(info.context, id))

    @strawberry.field(
        permission_classes=[Staff],
        description="The merged form of the named departments for one entity.",
    )
    async def checklist_preview(
        self, info: strawberry.Info, departments: list[str], uscc: str
    ) -> ChecklistPreview:
        entity, form = await task_queries.preview(info.context, departments, uscc)
        return ChecklistPreview(
            entity=Entity(uscc=entity["uscc"], row=entity),
            form=MergedForm.build(form),
            separate_visits=len(form.departments),
            joint_visits=1 if form.entries else 0,
        )

    @strawberry.field(
        permission_classes=[Staff],
        description="The population per credit grade and the expected visits of a plan over a "
        "scope, with exclusions, by the draw's own rules — before any task is saved.",
    )
    async def joint_inspection_census(
        self,
        info: strawberry.Info,
        departments: list[str],
        plan: SamplingPlanInput,
        scope: EntityFilter | None = None,
    ) -> Census:
        query = scope.to_query() if scope else EntityQuery()
        data = await task_queries.census(info.context, departments, query, plan.to_plan())
        return Census(
            grades=[CensusGrade(grade=CreditGrade(g), **v) for g, v in data["grades"].items()],
            excluded=[
                ExclusionCount(reason=k, count=v) for k, v in sorted(data["excluded"].items())
            ],
            expected_visits=data["expected_visits"],
        )

    @strawberry.field(description="Published inspection results (public: no inspector data).")
    async def published_results(
        self,
        info: strawberry.Info,
        uscc: str | None = None,
        task_id: strawberry.ID | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> PublishedResultConnection:
        page, more = await task_queries.published_results(info.context, uscc, task_id, first, after)
        edges = [PublishedResultEdge(cursor=cursor, node=_published(r)) for cursor, r in page]
        end = edges[-1].cursor if edges else None
        return PublishedResultConnection(
            edges=edges, page_info=PageInfo(has_next_page=more, end_cursor=end)
        )


async def _task(info: strawberry.Info, task_id: Any) -> JointInspectionTask:
    row = await task_queries.task(info.context, str(task_id))
    return JointInspectionTask.from_row(row)


async def _visit(info: strawberry.Info, visit_id: Any) -> JointVisit:
    return JointVisit.from_row(await task_queries.visit(info.context, str(visit_id)))


Key = Annotated[
    str | None,
    strawberry.argument(description="Retrying with the same key returns the first answer."),
]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=[Planner],
        description="Store a DRAFT task and a commitment to its secret seed.",
    )
    async def create_joint_inspection_task(
        self, info: strawberry.Info, input: CreateJointInspectionTaskInput
    ) -> JointInspectionTask:
        scope = input.scope.to_query() if input.scope else EntityQuery()
        task_id = await task_commands.create_task(
            info.context,
            task_commands.TaskInput(
                title=input.title,
                lead_department=input.lead_department,
                departments=input.departments,
                scope=scope,
                plan=input.plan.to_plan(),
                team_size=input.team_size,
                window_start=input.window_start,
                window_end=input.window_end,
                idempotency_key=input.idempotency_key,
                observers=[o.to_spec() for o in input.observers],
            ),
        )
        return await _task(info, task_id)

    @strawberry.mutation(
        permission_classes=[Planner],
        description="Draw entities and teams, freeze them, reveal the seed.",
    )
    async def draw_joint_inspection(
        self, info: strawberry.Info, task_id: strawberry.ID, idempotency_key: Key = None
    ) -> JointInspectionTask:
        await task_draw.draw_task(info.context, task_id, idempotency_key)
        return await _task(info, task_id)

    @strawberry.mutation(
        permission_classes=[Planner],
        description="Replace an inspector who cannot go, with the reason.",
    )
    async def substitute_inspector(
        self,
        info: strawberry.Info,
        visit_id: strawberry.ID,
        inspector_id: str,
        reason: str,
        idempotency_key: Key = None,
    ) -> JointVisit:
        await task_substitution.substitute_inspector(
            info.context, visit_id, inspector_id, reason, idempotency_key
        )
        return await _visit(info, visit_id)

    @strawberry.mutation(
        permission_classes=[Inspector],
        description="Enter a visit's result (an inspector of a department on its team): an "
        "outcome per form entry, the result category and the day it concluded (between the "
        "draw and today); it then waits for review.",
    )
    async def record_visit_result(
        self, info: strawberry.Info, input: RecordVisitResultInput
    ) -> JointVisit:
        await task_results.record_result(
            info.context,
            input.visit_id,
            input.category.value,
            [task_results.EntryInput(e.key, e.outcome.value, e.note) for e in input.entries],
            input.concluded_on,
            input.idempotency_key,
        )
        return await _visit(info, input.visit_id)

    @strawberry.mutation(
        permission_classes=[Reviewer],
        description="Approve a result, or return it for correction (a reviewer of the entering "
        "or the lead department, never the person who entered it).",
    )
    async def review_visit_result(
        self,
        info: strawberry.Info,
        visit_id: strawberry.ID,
        approve: bool,
        comment: str = "",
        idempotency_key: Key = None,
    ) -> JointVisit:
        await task_results.review_result(info.context, visit_id, approve, comment, idempotency_key)
        return await _visit(info, visit_id)

    @strawberry.mutation(
        permission_classes=[Planner],
        description="Publish approved results (refused while any visit lacks "
        "one, unless closeUnfinished marks the rest) and feed them to credit.",
    )
    async def publish_task_results(
        self,
        info: strawberry.Info,
        task_id: strawberry.ID,
        close_unfinished: bool = False,
        reason: str | None = None,
        idempotency_key: Key = None,
    ) -> JointInspectionTask:
        await task_results.publish_results(
            info.context, task_id, close_unfinished, reason, idempotency_key
        )
        return await _task(info, task_id)
