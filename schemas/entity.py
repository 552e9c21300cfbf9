"""Entity: one market entity's record, assembled from every department by its USCC."""

from __future__ import annotations

import functools
from datetime import date
from typing import Annotated

import strawberry

from adapters.postgres import Row
from domain.access import Scope
from domain.vocabulary import DISTRICTS, INDUSTRIES
from execution.batched import Batched, ConnectionCount, EntityRecords
from resolvers import entities as resolve
from schemas.enums import CreditRecordKind, EntityKind, EntityStatus
from schemas.permissions import Staff, staff_or_scope
from schemas.records import Credit, CreditRecord, Inspection, Penalty, Permit


@strawberry.type(description="Administrative division (GB/T 2260).")
class District:
    code: str
    name: str | None


@strawberry.type(description="Industry section (GB/T 4754-2017).")
class Industry:
    code: str
    name: str | None


@strawberry.type
class Location:
    longitude: float
    latitude: float


# A few hundred codes in all: each value object is made once (and never changed).
@functools.cache
def _district(code: str) -> District:
    return District(code=code, name=DISTRICTS.get(code))


@functools.cache
def _industry(code: str) -> Industry:
    return Industry(code=code, name=INDUSTRIES.get(code))


def _one(department: str | None) -> list[str] | None:
    return None if department is None else [department]


# A federation entity: routers resolve it by key through Query._entities (schemas/query.py).
@strawberry.federation.type(
    keys=["uscc"],
    description="A market entity (市场主体), keyed by its Unified Social Credit Code. Register "
    "fields come from market regulation and are null only while it is unavailable.",
)
class Entity:
    uscc: str = strawberry.field(description="Unified Social Credit Code (18 characters).")
    row: strawberry.Private[Row | None]

    @strawberry.field
    def name(self) -> str | None:
        return self.row["name"] if self.row else None

    @strawberry.field
    def kind(self) -> EntityKind | None:
        return self.row["kind"] if self.row else None

    @strawberry.field
    def district(self) -> District | None:
        return _district(self.row["district"]) if self.row else None

    @strawberry.field
    def industry(self) -> Industry | None:
        return _industry(self.row["industry"]) if self.row else None

    @strawberry.field
    def address(self) -> str | None:
        return self.row["address"] if self.row else None

    @strawberry.field
    def location(self) -> Location | None:
        if not self.row or self.row["longitude"] is None or self.row["latitude"] is None:
            return None
        return Location(longitude=self.row["longitude"], latitude=self.row["latitude"])

    @strawberry.field
    def registered_on(self) -> date | None:
        return self.row["registered_on"] if self.row else None

    @strawberry.field
    def status(self) -> EntityStatus | None:
        return self.row["status"] if self.row else None

    @strawberry.field(
        description="Permits from every department (or one), newest first.",
        permission_classes=[staff_or_scope(Scope.PERMITS)],
    )
    async def permits(
        self,
        info: strawberry.Info,
        department: str | None = None,
        valid_on: Annotated[
            date | None, strawberry.argument(description="Only permits in force on this date.")
        ] = None,
    ) -> list[Permit] | None:
        rows = await resolve.entity_records(
            info.context, self.uscc, "permit", _one(department), info.path.as_list()
        )
        return _permits(rows, valid_on)

    @strawberry.field(
        description="Penalties from every department (or one), newest first.",
        permission_classes=[staff_or_scope(Scope.PENALTIES)],
    )
    async def penalties(
        self,
        info: strawberry.Info,
        department: str | None = None,
        since: Annotated[
            date | None,
            strawberry.argument(description="Only penalties decided on or after this date."),
        ] = None,
    ) -> list[Penalty] | None:
        rows = await resolve.entity_records(
            info.context, self.uscc, "penalty", _one(department), info.path.as_list()
        )
        return _penalties(rows, since)

    @strawberry.field(
        description="Inspections recorded by every department (or one).",
        permission_classes=[Staff],
    )
    async def inspections(
        self, info: strawberry.Info, department: str | None = None
    ) -> list[Inspection] | None:
        rows = await resolve.entity_records(
            info.context, self.uscc, "inspection", _one(department), info.path.as_list()
        )
        return _inspections(rows)

    @strawberry.field(
        description="Credit records at the public credit platform, newest first.",
        permission_classes=[staff_or_scope(Scope.CREDIT)],
    )
    async def credit_records(
        self, info: strawberry.Info, kinds: list[CreditRecordKind] | None = None
    ) -> list[CreditRecord] | None:
        rows = await resolve.entity_records(
            info.context, self.uscc, "credit_record", None, info.path.as_list()
        )
        return _credit_records(rows, kinds)

    @strawberry.field(
        description="Credit grade, score and current list memberships.",
        permission_classes=[staff_or_scope(Scope.CREDIT)],
    )
    async def credit(self, info: strawberry.Info) -> Credit | None:
        path = info.path.as_list()
        ratings = await resolve.entity_records(info.context, self.uscc, "credit_rating", None, path)
        records = await resolve.entity_records(info.context, self.uscc, "credit_record", None, path)
        return _credit(ratings, records)


# Each list field's value from the records that arrived, shared by the resolvers above and
# by the planned executor, which loads a whole page's records at once (BATCHED below).
def _permits(rows: list[Row], valid_on: date | None) -> list[Permit]:
    rows = resolve.permits_valid_on(rows, valid_on)
    return [Permit.from_row(r) for r in resolve.sort_records(rows, "valid_from")]


def _penalties(rows: list[Row], since: date | None) -> list[Penalty]:
    if since is not None:
        rows = [r for r in rows if r["decided_on"] and r["decided_on"] >= since]
    return [Penalty.from_row(r) for r in resolve.sort_records(rows, "decided_on")]


def _inspections(rows: list[Row]) -> list[Inspection]:
    return [Inspection.from_row(r) for r in resolve.sort_records(rows, "inspected_on")]


def _credit_records(rows: list[Row], kinds: list[CreditRecordKind] | None) -> list[CreditRecord]:
    if kinds:
        wanted = {k.value for k in kinds}
        rows = [r for r in rows if r["kind"] in wanted]
    return [CreditRecord.from_row(r) for r in resolve.sort_records(rows, "decided_on")]


def _credit(ratings: list[Row], records: list[Row]) -> Credit | None:
    rating = ratings[0] if ratings else None
    if rating is None and not records:
        return None
    return Credit.build(rating, records)


BATCHED: dict[str, Batched] = {
    "permits": EntityRecords(("permit",), lambda r, a: _permits(r["permit"], a.get("valid_on"))),
    "penalties": EntityRecords(("penalty",), lambda r, a: _penalties(r["penalty"], a.get("since"))),
    "inspections": EntityRecords(("inspection",), lambda r, a: _inspections(r["inspection"])),
    "creditRecords": EntityRecords(
        ("credit_record",), lambda r, a: _credit_records(r["credit_record"], a.get("kinds"))
    ),
    "credit": EntityRecords(
        ("credit_rating", "credit_record"),
        lambda r, a: _credit(r["credit_rating"], r["credit_record"]),
    ),
}


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class EntityEdge:
    node: Entity

    @strawberry.field
    def cursor(self) -> str:
        return resolve.encode_cursor(self.node.uscc)


@strawberry.type(description="A page of entities in USCC order (Relay cursor connection).")
class EntityConnection:
    edges: list[EntityEdge]
    page_info: PageInfo
    query: strawberry.Private[resolve.EntityQuery]

    @strawberry.field(description="Entities matching the filter (null when filtering by grade).")
    async def total_count(self, info: strawberry.Info) -> int | None:
        counted = await resolve.count_entities(info.context, self.query)
        return resolve.count_value(info.context, counted, info.path.as_list())

    @classmethod
    def from_page(cls, page: resolve.EntityPage) -> EntityConnection:
        return cls(
            edges=[EntityEdge(node=Entity(uscc=r["uscc"], row=r)) for r in page.rows],
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
            query=page.query,
        )


CONNECTION_BATCHED: dict[str, Batched] = {"totalCount": ConnectionCount()}
