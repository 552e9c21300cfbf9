"""The unified vocabulary as GraphQL enums (values come from domain/vocabulary.py)."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain import vocabulary as v

EntityKind = strawberry.enum(v.EntityKind, description="Kind of market entity (市场主体类型).")
EntityStatus = strawberry.enum(v.EntityStatus, description="Registration status (登记状态).")
PermitStatus = strawberry.enum(v.PermitStatus, description="Status of an administrative permit.")
PenaltyKind = strawberry.enum(v.PenaltyKind, description="Kind of administrative penalty.")
CreditRecordKind = strawberry.enum(v.CreditRecordKind, description="Kind of credit record.")
CreditGrade = strawberry.enum(
    v.CreditGrade,
    description="Credit grade: A good (green), B warning (yellow), C dishonest (red), "
    "D seriously dishonest (black).",
)
InspectionResult = strawberry.enum(
    v.InspectionResult,
    description="The national result categories of a random inspection.",
)


@strawberry.enum(description="Whether a department's source answers right now.")
class HealthStatus(Enum):
    UP = "UP"
    DOWN = "DOWN"
