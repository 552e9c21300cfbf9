"""The read root of the graph."""

from __future__ import annotations

import strawberry
from strawberry.annotation import StrawberryAnnotation
from strawberry.federation.schema import FederationAny
from strawberry.types.union import StrawberryUnion

from domain.access import Scope
from resolvers import entities as resolve
from schemas.departments import Department
from schemas.entity import Entity, EntityConnection
from schemas.enums import CreditGrade, EntityKind, EntityStatus
from schemas.permissions import staff_or_scope

# The federation union of entity types (the graph has one, Entity), as `_entities` answers it.
ENTITY_UNION = StrawberryUnion("_Entity", type_annotations=(StrawberryAnnotation(Entity),))


@strawberry.input(description="Conditions on entities; all given conditions must hold.")
class EntityFilter:
    district: list[str] | None = strawberry.field(
        default=None, description='6-digit division codes, e.g. ["370202"].'
    )
    kind: list[EntityKind] | None = None
    industry: list[str] | None = strawberry.field(
        default=None, description='GB/T 4754 section letters, e.g. ["H", "R"].'
    )
    status: list[EntityStatus] | None = None
    credit_grade: list[CreditGrade] | None = None
    name_contains: str | None = strawberry.field(
        default=None, description="Case-insensitive fragment of the name."
    )

    def to_query(self) -> resolve.EntityQuery:
        def values(xs: list | None) -> list[str] | None:
            return [getattr(x, "value", x) for x in xs] if xs else None

        return resolve.EntityQuery(
            districts=values(self.district),
            kinds=values(self.kind),
            industries=values(self.industry),
            statuses=values(self.status),
            grades=values(self.credit_grade),
            # The door (gateway/inputs.py) bounds the trimmed length; blank means no filter.
            name_contains=(self.name_contains or "").strip() or None,
        )


@strawberry.type
class ReadQuery:
    @strawberry.field(
        permission_classes=[staff_or_scope(Scope.ENTITIES)],
        description="One entity by its USCC (lower case accepted). A malformed code or a wrong "
        "check character is a BAD_USER_INPUT error; null means no such entity is registered.",
    )
    async def entity(self, info: strawberry.Info, uscc: str) -> Entity | None:
        found = await resolve.get_entity(info.context, uscc, info.path.as_list())
        return None if found is None else Entity(uscc=found.uscc, row=found.row)

    @strawberry.field(
        permission_classes=[staff_or_scope(Scope.ENTITIES)],
        description="Entities of the register, filtered, in pages (max page size). Null, with "
        "a DEPARTMENT_UNAVAILABLE error naming the department, while the register (or, "
        "filtering by grade, the credit platform) cannot answer; other fields still arrive.",
    )
    async def entities(
        self,
        info: strawberry.Info,
        filter: EntityFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> EntityConnection | None:
        query = filter.to_query() if filter else resolve.EntityQuery()
        page = await resolve.list_entities(info.context, query, first, after, info.path.as_list())
        return None if page is None else EntityConnection.from_page(page)

    @strawberry.field(
        name="_entities",
        permission_classes=[staff_or_scope(Scope.ENTITIES)],
        description="Apollo Federation: entities by key for a router. The representations are "
        "a page of entities (the same maximum, cost and permissions as entity/entities).",
    )
    async def entities_by_reference(
        self, info: strawberry.Info, representations: list[FederationAny]
    ) -> list[ENTITY_UNION | None]:  # type: ignore[valid-type]
        found = await resolve.entities_by_reference(
            info.context, representations, info.path.as_list()
        )
        return [
            Entity(uscc=f.uscc, row=f.row) if isinstance(f, resolve.EntityLookup) else f
            for f in found
        ]

    @strawberry.field(
        permission_classes=[staff_or_scope(Scope.ENTITIES)],
        description="The departments the hub reads, with their current health.",
    )
    def departments(self, info: strawberry.Info) -> list[Department]:
        return [Department.from_source(s) for s in info.context.registry]
