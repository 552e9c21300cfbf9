"""Departments and what they declare: health, random-inspection item lists."""

from __future__ import annotations

import strawberry

from adapters.postgres import PostgresSource, Row
from resolvers import departments as resolve
from schemas.enums import EntityKind, HealthStatus
from schemas.permissions import OwnDepartmentOrPlanner, Staff


@strawberry.type(description="How a department's source answers right now.")
class DepartmentHealth:
    status: HealthStatus
    latency_ms: float | None
    reason: str | None = strawberry.field(description="Why it is down, when it is.")
    breaker: str = strawberry.field(
        description="Circuit breaker: CLOSED (calls go out), OPEN (refused at once after "
        "repeated failures), HALF_OPEN (one probe goes out)."
    )


@strawberry.type(
    description="One item of a department's random-inspection item list (抽查事项清单)."
)
class ChecklistItem:
    code: str
    name: str
    legal_basis: str
    kinds: list[EntityKind] = strawberry.field(description="Entity kinds it applies to.")
    industries: list[str] = strawberry.field(
        description="GB/T 4754 sections it applies to; empty means all."
    )
    standard_code: str | None = strawberry.field(
        description="Shared code of items meaning the same in several departments."
    )
    delegable: bool = strawberry.field(
        description="May be checked by another department's inspector (cross-authorised)."
    )
    tags: list[str] = strawberry.field(description="Business tags an inspector needs for it.")

    @classmethod
    def from_row(cls, r: Row) -> ChecklistItem:
        return cls(
            code=r["code"],
            name=r["name"],
            legal_basis=r["legal_basis"],
            kinds=r["kinds"] or [],
            industries=r["industries"] or [],
            standard_code=r["standard_code"],
            delegable=bool(r["delegable"]),
            tags=r["tags"] or [],
        )


@strawberry.type(description="A declared conflict (回避): never drawn to inspect this entity.")
class Conflict:
    uscc: str
    reason: str


@strawberry.type(description="A certified inspector of a department (personal data guarded).")
class Inspector:
    id: str
    tags: list[str]
    district: str
    available: bool
    department_code: strawberry.Private[str]
    person: strawberry.Private[Row]
    declared: strawberry.Private[list[Row]]

    @strawberry.field(permission_classes=[OwnDepartmentOrPlanner])
    def name(self) -> str | None:
        return self.person["name"]

    @strawberry.field(permission_classes=[OwnDepartmentOrPlanner])
    def certificate(self) -> str | None:
        return self.person["certificate"]

    @strawberry.field(permission_classes=[OwnDepartmentOrPlanner])
    def conflicts(self) -> list[Conflict] | None:
        return [Conflict(uscc=c["uscc"], reason=c["reason"]) for c in self.declared]


@strawberry.type(description="A department whose database the hub reads through an adapter.")
class Department:
    code: str = strawberry.field(description="Stable code, e.g. market, ecology, credit.")
    name: str = strawberry.field(description="Official name (Chinese).")
    name_en: str
    adapter: str = strawberry.field(description="Adapter kind reading its source, e.g. postgres.")

    @classmethod
    def from_source(cls, source: PostgresSource) -> Department:
        m = source.mapping
        return cls(code=m.code, name=m.name, name_en=m.name_en, adapter=source.kind)

    @strawberry.field(description="Answers a trivial statement now; DOWN with the reason if not.")
    async def health(self, info: strawberry.Info) -> DepartmentHealth:
        h = await resolve.health(info.context.registry.get(self.code))
        return DepartmentHealth(
            status=HealthStatus(h.status),
            latency_ms=h.latency_ms,
            reason=h.reason,
            breaker=h.breaker,
        )

    @strawberry.field(
        permission_classes=[Staff],
        description="The department's inspector pool in one district (names, certificates and "
        "conflicts only for the department's own officers and planners).",
    )
    async def inspectors(self, info: strawberry.Info, district: str) -> list[Inspector] | None:
        pool, conflicts = await resolve.inspectors(
            info.context, self.code, district, info.path.as_list()
        )
        return [
            Inspector(
                id=r["id"],
                tags=r["tags"] or [],
                district=r["district"],
                available=bool(r["available"]),
                department_code=self.code,
                person=r,
                declared=conflicts.get(r["id"], []),
            )
            for r in pool
        ]

    @strawberry.field(description="The department's random-inspection item list.")
    async def checklist_items(self, info: strawberry.Info) -> list[ChecklistItem]:
        rows = await resolve.checklist_items(info.context, self.code, info.path.as_list())
        return [ChecklistItem.from_row(r) for r in rows]
