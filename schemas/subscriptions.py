"""Live updates: subscriptions over graphql-transport-ws (WebSocket) and GraphQL over SSE.

Every notice carries the event's id (`eventId`): a client that reconnects passes the last one
it saw as `after` and gets what it missed. Notices hold ids, codes and dates only; details
are read with the ordinary queries (`jointVisit`, `jointInspectionTask`), under their
permissions and access log.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry

from schemas.permissions import OwnAssignments, Staff, principal
from schemas.tasks import StateCount, TaskStatus, VisitState
from store.events import Event
from tasks import live


@strawberry.enum(description="What happened to the subscriber's place on a visit's team.")
class AssignmentChange(Enum):
    DRAWN = "DRAWN"
    SUBSTITUTED_ON = "SUBSTITUTED_ON"
    SUBSTITUTED_OFF = "SUBSTITUTED_OFF"
    TEAMMATE_CHANGED = "TEAMMATE_CHANGED"


@strawberry.enum(description="What changed on a visit.")
class VisitChangeKind(Enum):
    RESULT_ENTERED = "RESULT_ENTERED"
    RETURNED = "RETURNED"
    APPROVED = "APPROVED"
    PUBLISHED = "PUBLISHED"
    CLOSED_UNFINISHED = "CLOSED_UNFINISHED"
    TEAM_CHANGED = "TEAM_CHANGED"


@strawberry.type(
    description="A seat on a visit's team, by inspector id (names stay behind "
    "the Inspector fields' permissions)."
)
class TeamSeat:
    inspector_id: str
    department: str = strawberry.field(description="The inspector's department code.")
    role: str = strawberry.field(description="leader or member")


def _seats(data: dict[str, Any]) -> list[TeamSeat]:
    return [
        TeamSeat(inspector_id=s["inspectorId"], department=s["department"], role=s["role"])
        for s in data["team"]
    ]


def _ids(e: Event) -> dict[str, Any]:
    return {"event_id": strawberry.ID(str(e.id)), "at": e.at}


@strawberry.type(
    description="The subscriber drawn onto a visit's team, substituted on or off, "
    "or a teammate substituted."
)
class AssignmentNotice:
    event_id: strawberry.ID
    at: datetime
    change: AssignmentChange
    task_id: strawberry.ID
    visit_id: strawberry.ID
    uscc: str
    entity_name: str | None
    district: str
    window_start: date
    window_end: date
    team: list[TeamSeat] = strawberry.field(description="The team after the change.")

    @classmethod
    def from_event(cls, e: Event, department: str, inspector_id: str) -> AssignmentNotice:
        d = e.data

        def has_me(seats: list[dict[str, Any]]) -> bool:
            return any(
                s["department"] == department and s["inspectorId"] == inspector_id for s in seats
            )

        change = (
            AssignmentChange.DRAWN
            if d["change"] == "DRAWN"
            else AssignmentChange.SUBSTITUTED_ON
            if has_me(d["added"])
            else AssignmentChange.SUBSTITUTED_OFF
            if has_me(d["removed"])
            else AssignmentChange.TEAMMATE_CHANGED
        )
        return cls(
            **_ids(e),
            change=change,
            task_id=strawberry.ID(d["taskId"]),
            visit_id=strawberry.ID(d["visitId"]),
            uscc=d["uscc"],
            entity_name=d["entityName"],
            district=d["district"],
            window_start=date.fromisoformat(d["windowStart"]),
            window_end=date.fromisoformat(d["windowEnd"]),
            team=_seats(d),
        )


@strawberry.type(description="A task's visits by state and its publications, now.")
class TaskProgress:
    event_id: strawberry.ID
    at: datetime
    task_id: strawberry.ID
    status: TaskStatus
    visit_counts: list[StateCount]
    visits: int
    published: int
    late_publications: int = strawberry.field(
        description="Results published after their 20-working-day deadline."
    )

    @classmethod
    def from_event(cls, e: Event) -> TaskProgress:
        d = e.data
        return cls(
            **_ids(e),
            task_id=strawberry.ID(d["taskId"]),
            status=TaskStatus(d["status"]),
            visit_counts=[
                StateCount(state=VisitState(s), count=n) for s, n in sorted(d["counts"].items())
            ],
            visits=d["visits"],
            published=d["published"],
            late_publications=d["late"],
        )


@strawberry.type(description="A visit's result moved on, or its team changed.")
class VisitChange:
    event_id: strawberry.ID
    at: datetime
    visit_id: strawberry.ID
    task_id: strawberry.ID
    uscc: str
    change: VisitChangeKind
    state: VisitState | None = strawberry.field(description="The new state (null: team change).")
    result_version: int | None
    team: list[TeamSeat] | None = strawberry.field(description="The new team (team changes).")

    @classmethod
    def from_event(cls, e: Event) -> VisitChange:
        d = e.data
        team_change = "team" in d
        return cls(
            **_ids(e),
            visit_id=strawberry.ID(d["visitId"]),
            task_id=strawberry.ID(d["taskId"]),
            uscc=d["uscc"],
            change=VisitChangeKind.TEAM_CHANGED if team_change else VisitChangeKind(d["change"]),
            state=None if team_change else VisitState(d["state"]),
            result_version=None if team_change else d["resultVersion"],
            team=_seats(d) if team_change else None,
        )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=[OwnAssignments],
        description="For an inspector's token: each time they are drawn onto a team, "
        "substituted on or off, or a teammate is substituted. `after`: the last eventId seen.",
    )
    async def my_assignments(
        self, info: strawberry.Info, after: strawberry.ID | None = None
    ) -> AsyncGenerator[AssignmentNotice, None]:
        who = principal(info)
        department, inspector_id = who.department or "", who.inspector_id or ""
        async for e in live.assignments(info.context, department, inspector_id, after):
            yield AssignmentNotice.from_event(e, department, inspector_id)

    @strawberry.subscription(
        permission_classes=[Staff],
        description="A task's visit counts by state and late publications: now, then at "
        "every change.",
    )
    async def task_progress(
        self, info: strawberry.Info, task_id: strawberry.ID
    ) -> AsyncGenerator[TaskProgress, None]:
        async for e in live.task_progress(info.context, task_id):
            yield TaskProgress.from_event(e)

    @strawberry.subscription(
        permission_classes=[Staff],
        description="A visit's result entered, returned, approved, published or closed, and "
        "its team changes. `after`: the last eventId seen.",
    )
    async def visit_changed(
        self, info: strawberry.Info, visit_id: strawberry.ID, after: strawberry.ID | None = None
    ) -> AsyncGenerator[VisitChange, None]:
        async for e in live.visit_changes(info.context, visit_id, after):
            yield VisitChange.from_event(e)
