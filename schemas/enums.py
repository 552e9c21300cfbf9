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
PublicityClass = strawberry.enum(
    v.PublicityClass,
    description="How long a dishonesty record is public, from its decision (rules from 1 April "
    "2026): WARNING never; MINOR not, or up to 3 months (HUB_MINOR_PUBLICITY_MONTHS); GENERAL "
    "3 months to 1 year; SERIOUS 1 to 3 years.",
)
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
