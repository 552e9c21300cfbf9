"""What the public sees of a result ("one public"), built from the hub's internal record.

The public record is an allow-list: the entity, the task, the departments, the dates and
the result category. Inspectors, their notes and the per-item findings stay internal
(inspectors' personal data is never published), so nothing added to the internal record
later can leak by accident.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from domain.vocabulary import InspectionResult
from planning.results import InvalidTransition, ResultState, RoutedOutcome
from planning.team_draw import Assignment


@dataclass(frozen=True, slots=True)
class InspectionRecord:
    """The hub's internal record of one visit's result."""

    task_id: str
    task_name: str
    uscc: str
    entity_name: str
    departments: tuple[str, ...]
    concluded_on: date
    category: InspectionResult
    state: ResultState
    team: tuple[Assignment, ...] = ()
    outcomes: Mapping[str, tuple[RoutedOutcome, ...]] = field(default_factory=dict)
    notes: str = ""


@dataclass(frozen=True, slots=True)
class PublicRecord:
    task_id: str
    task_name: str
    uscc: str
    entity_name: str
    departments: tuple[str, ...]
    concluded_on: date
    published_on: date
    category: InspectionResult


def public_record(record: InspectionRecord, published_on: date) -> PublicRecord:
    """The publishable form of an approved (or already published) result."""
    if record.state not in (ResultState.APPROVED, ResultState.PUBLISHED):
        raise InvalidTransition(record.state, ResultState.PUBLISHED)
    if published_on < record.concluded_on:
        raise ValueError("a result cannot be published before the inspection concluded")
    return PublicRecord(
        task_id=record.task_id,
        task_name=record.task_name,
        uscc=record.uscc,
        entity_name=record.entity_name,
        departments=tuple(sorted(record.departments)),
        concluded_on=record.concluded_on,
        published_on=published_on,
        category=record.category,
    )
