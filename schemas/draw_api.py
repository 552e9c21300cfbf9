"""The public side of the draw: the draw record anyone can recompute (``drawRecord``, a contract
name), and the observers of the seed — named at creation, given a credential by a planner,
committing and revealing their shares with that credential alone (no hub account)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from schemas.permissions import Planner
from tasks import draw_record as records
from tasks import observers as observer_commands
from tasks.common import parse_id, reading


@strawberry.enum(description="Who an observer of the seed is.")
class ObserverKind(Enum):
    DEPARTMENT = "DEPARTMENT"
    CITIZEN_SUPERVISOR = "CITIZEN_SUPERVISOR"
    OTHER = "OTHER"


@strawberry.input(description="A party that takes part in the task's seed.")
class ObserverInput:
    name: str
    kind: ObserverKind
    department: str | None = strawberry.field(
        default=None, description="The department's code, for kind DEPARTMENT."
    )

    def to_spec(self) -> observer_commands.ObserverSpec:
        return observer_commands.ObserverSpec(self.name, self.kind.value, self.department)


@strawberry.type(description="An observer of the seed: its commitment, and its share once drawn.")
class SeedObserver:
    ordinal: int = strawberry.field(description="Its place in the order of shares (1, 2, …).")
    name: str
    kind: ObserverKind
    department: str | None
    credential_issued: bool
    commitment: str | None = strawberry.field(description="SHA-256 (hex) of its share.")
    committed_at: datetime | None
    share: str | None = strawberry.field(description="The share (hex), shown after the draw.")
    revealed: bool
    revealed_at: datetime | None

    @classmethod
    def from_row(cls, r: Any, drawn: bool) -> SeedObserver:
        return cls(
            ordinal=r["ordinal"],
            name=r["name"],
            kind=ObserverKind(r["kind"]),
            department=r["department"],
            credential_issued=r["credential_issued"],
            commitment=r["commitment"],
            committed_at=r["committed_at"],
            share=bytes(r["share"]).hex() if drawn and r["share"] is not None else None,
            revealed=r["share"] is not None,
            revealed_at=r["revealed_at"],
        )


async def _observer(info: strawberry.Info, task_id: Any, ordinal: int) -> SeedObserver:
    async with reading(info.context) as pool:
        rows = await observer_commands.observers_of(pool, parse_id(str(task_id), "task"))
    return SeedObserver.from_row(next(r for r in rows if r["ordinal"] == ordinal), drawn=False)


@strawberry.type
class DrawQuery:
    @strawberry.field(
        description="A task's public draw record (docs/draw-spec.md): the seed and its shares, "
        "the plan, the frozen population and its hash, the drawn entities with their ranks, "
        "the teams and substitutions as inspector ids. Recompute it with "
        "`python3 verify/verify_draw.py RECORD.json`. Before the draw: the commitments only. "
        "Public."
    )
    async def draw_record(self, info: strawberry.Info, task_id: strawberry.ID) -> JSON | None:
        async with reading(info.context) as pool:
            return await records.draw_record(pool, parse_id(str(task_id), "task"))


@strawberry.type
class DrawMutation:
    @strawberry.mutation(
        permission_classes=[Planner],
        description="Issue an observer's credential (shown once; one issued before stops "
        "working). Hand it to the observer: it commits and reveals its share with it.",
    )
    async def issue_observer_credential(
        self, info: strawberry.Info, task_id: strawberry.ID, observer: int
    ) -> str:
        return await observer_commands.issue_credential(info.context, task_id, observer)

    @strawberry.mutation(
        description="An observer commits to its share before the draw: the SHA-256 (64 hex "
        "digits) of 32 secret bytes. Made once. Needs the observer's credential, no account."
    )
    async def commit_seed_share(
        self, info: strawberry.Info, task_id: strawberry.ID, credential: str, commitment: str
    ) -> SeedObserver:
        ordinal = await observer_commands.commit(info.context, task_id, credential, commitment)
        return await _observer(info, task_id, ordinal)

    @strawberry.mutation(
        description="An observer reveals its share (64 hex digits) once every observer has "
        "committed; it must match the commitment. The draw waits for every share."
    )
    async def reveal_seed_share(
        self, info: strawberry.Info, task_id: strawberry.ID, credential: str, share: str
    ) -> SeedObserver:
        ordinal = await observer_commands.reveal(info.context, task_id, credential, share)
        return await _observer(info, task_id, ordinal)
