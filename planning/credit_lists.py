"""Periods of credit publicity and list membership under the rules in force from 1 April 2026
(国办发〔2025〕22号 and the national credit-repair measures), credit repair, and the move from
the abnormal-operation list to the serious-violation list.

Publicity by class, counted from the decision date: a **warning** only is never published; a
**minor** penalty is not published, or at most ``minor_months`` (0–3, a setting); a **general**
one is public 3 months to 1 year, a **serious** one 1 to 3 years. Repair may be applied for once
the minimum has passed; at the maximum the record leaves publicity by itself — a computed state,
no job. Periods are counted as the Civil Code counts them (arts. 201–202): from the day after the
decision, ending on the corresponding day of the last month or year (that month's last day when
it has no such day). So a general penalty decided on 2026-04-15 is public through 2027-04-15,
may be repaired from 2026-07-16, and is gone on 2027-04-16.

The class of a department's penalty comes from its own record (``penalty_class``), that of an
inspection result from its category (``result_class``). Repairs and list moves are new records;
nothing here deletes or edits one.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from domain.vocabulary import CreditRecordKind, InspectionResult, PenaltyKind
from domain.vocabulary import PublicityClass as Class
from planning.results import Person, Refusal, is_officer, is_reviewer

ABNORMAL_TO_SERIOUS_YEARS = 3
# (minimum, maximum) months of publicity of the classes always published.
PUBLICITY_MONTHS: Mapping[Class, tuple[int, int]] = {
    Class.GENERAL: (3, 12),
    Class.SERIOUS: (12, 36),
}
# List entries a record can found, lifted with it by a repair (the black and serious-violation
# lists are joint punishments; the abnormal-operation list raises supervision). An entity still
# on one of them through another record keeps its grade after a repair.
FOUNDED_LISTS = frozenset(
    {
        CreditRecordKind.BLACK_LIST,
        CreditRecordKind.SERIOUS_VIOLATION,
        CreditRecordKind.ABNORMAL_OPERATION,
    }
)


@dataclass(frozen=True, slots=True)
class PublicityRules:
    minor_months: int = 0  # minor penalties: not published (0), or at most 3 months
    # A fine up to this amount is a minor penalty: the ceiling of the simplified procedure for
    # organisations (行政处罚法 art. 51: decided on the spot, up to 3,000 yuan).
    minor_fine_max_fen: int = 300_000

    def __post_init__(self) -> None:
        if not 0 <= self.minor_months <= 3:
            raise ValueError("minor penalties are published at most 3 months")


DEFAULT_PUBLICITY = PublicityRules()


def add_months(day: date, months: int) -> date:
    """The corresponding day ``months`` later, or that month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def penalty_class(
    kind: str | None,
    fine_fen: int | None,
    serious: bool | None,
    rules: PublicityRules = DEFAULT_PUBLICITY,
) -> Class:
    """A department's penalty, classed from its own record: the department's serious flag
    makes it serious; a penalty that is only a warning is a warning; a fine up to the
    simplified-procedure ceiling and nothing else is minor; anything else (a larger fine,
    confiscation, suspension, revocation, detention, other) is general. A source without a
    serious flag (null) counts as not serious."""
    if serious:
        return Class.SERIOUS
    if kind == PenaltyKind.WARNING:
        return Class.WARNING
    if kind == PenaltyKind.FINE and fine_fen is not None and fine_fen <= rules.minor_fine_max_fen:
        return Class.MINOR
    return Class.GENERAL


# An inspection result as a credit record: nothing found (or no activity to inspect) is no
# dishonesty; a problem corrected as ordered is minor; a problem pending further handling, an
# entity that cannot be contacted or that refused or obstructed the inspection is general.
RESULT_CLASSES: Mapping[InspectionResult, Class | None] = {
    InspectionResult.NO_PROBLEM: None,
    InspectionResult.ACTIVITY_NOT_FOUND: None,
    InspectionResult.PROBLEM_CORRECTED: Class.MINOR,
    InspectionResult.PROBLEM_PENDING: Class.GENERAL,
    InspectionResult.NOT_CONTACTABLE: Class.GENERAL,
    InspectionResult.REFUSED: Class.GENERAL,
}


def result_class(category: InspectionResult) -> Class | None:
    return RESULT_CLASSES[category]


@dataclass(frozen=True, slots=True)
class Publicity:
    """When a record is public: from its decision through ``last_day``; repair may be applied
    for from ``repairable_from``."""

    decided_on: date
    repairable_from: date
    last_day: date


def publicity(
    cls: Class | None, decided_on: date, rules: PublicityRules = DEFAULT_PUBLICITY
) -> Publicity | None:
    """The publicity period of a record of class ``cls``; None when it is never published."""
    if cls in PUBLICITY_MONTHS:
        shortest, longest = PUBLICITY_MONTHS[cls]
    elif cls == Class.MINOR and rules.minor_months:
        shortest, longest = 0, rules.minor_months  # no minimum: repairable from the next day
    else:
        return None
    minimum_end = add_months(decided_on, shortest)
    return Publicity(decided_on, minimum_end + timedelta(days=1), add_months(decided_on, longest))


def is_publicized(
    cls: Class | None,
    decided_on: date,
    today: date,
    withdrawn_on: date | None = None,
    rules: PublicityRules = DEFAULT_PUBLICITY,
) -> bool:
    """Public from the decision through the maximum period, unless a repair withdrew it."""
    period = publicity(cls, decided_on, rules)
    if period is None or not decided_on <= today <= period.last_day:
        return False
    return withdrawn_on is None or today < withdrawn_on


class RepairRefusal(StrEnum):
    NOT_PUBLICIZED = "NOT_PUBLICIZED"  # never published, past its maximum, or withdrawn
    REPAIR_TOO_EARLY = "REPAIR_TOO_EARLY"  # the minimum period has not passed


def repair_refusal(
    cls: Class | None,
    decided_on: date,
    withdrawn_on: date | None,
    today: date,
    rules: PublicityRules = DEFAULT_PUBLICITY,
) -> RepairRefusal | None:
    """Why a repair of this record may not be applied for today, or None when it may: once
    the minimum period is over and while the record is still public."""
    if not is_publicized(cls, decided_on, today, withdrawn_on, rules):
        return RepairRefusal.NOT_PUBLICIZED
    period = publicity(cls, decided_on, rules)
    if period is not None and today < period.repairable_from:
        return RepairRefusal.REPAIR_TOO_EARLY
    return None


def deciding_departments(source_department: str) -> frozenset[str]:
    """The departments behind a platform record: its source, or for the hub's own records
    ("hub:market,fire") every department of the joint result."""
    return frozenset(d for d in source_department.removeprefix("hub:").split(",") if d)


def application_refusal(who: Person, platform: str, source_department: str) -> Refusal | None:
    """The entity has no account in the hub: an officer of the credit platform or of the
    department that decided the record files its repair application on its behalf."""
    if not is_officer(who.roles):
        return Refusal.NOT_AN_OFFICER
    if who.department != platform and who.department not in deciding_departments(source_department):
        return Refusal.WRONG_DEPARTMENT
    return None


def repair_review_refusal(who: Person, platform: str, applicant: str) -> Refusal | None:
    """The credit platform reviews repairs (Credit China's role): a reviewer of the platform
    other than whoever filed the application."""
    if not is_reviewer(who.roles):
        return Refusal.NOT_A_REVIEWER
    if who.department != platform:
        return Refusal.WRONG_DEPARTMENT
    if who.subject == applicant:
        return Refusal.SAME_PERSON
    return None


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """What an approved repair of ``record_id`` takes out of publicity and sharing: the record
    and every list entry it founded that is still in force (the joint punishments), and
    whether the entity stays on one of those lists through other records."""

    record_id: str
    withdraw: tuple[str, ...]
    still_listed: bool


def withdrawal(record_id: str, records: Iterable[Mapping[str, Any]], on: date) -> Withdrawal:
    """From the entity's platform records (unified rows: id, kind, basis_id, decided_on,
    effective_to, withdrawn_on)."""

    def in_force(r: Mapping[str, Any]) -> bool:
        return (
            r["withdrawn_on"] is None
            and (r["decided_on"] is None or r["decided_on"] <= on)
            and (r["effective_to"] is None or on <= r["effective_to"])
        )

    records = list(records)
    tied = [
        r["id"]
        for r in records
        if r.get("basis_id") == record_id and r["kind"] in FOUNDED_LISTS and in_force(r)
    ]
    withdrawn = {record_id, *tied}
    listed = any(
        r["kind"] in FOUNDED_LISTS and r["id"] not in withdrawn and in_force(r) for r in records
    )
    return Withdrawal(record_id, tuple(sorted(withdrawn)), listed)


@dataclass(frozen=True, slots=True)
class ListEntry:
    """A period on one of the lists (``domain.vocabulary.LIST_KINDS``). ``removed_on`` is the
    first day off the list."""

    uscc: str
    kind: CreditRecordKind
    listed_on: date
    removed_on: date | None = None

    def on_list(self, day: date) -> bool:
        return self.listed_on <= day and (self.removed_on is None or day < self.removed_on)


@dataclass(frozen=True, slots=True)
class ListTransition:
    uscc: str
    from_kind: CreditRecordKind
    to_kind: CreditRecordKind
    listed_on: date  # when the entity went on the abnormal-operation list
    effective_on: date  # first day past the three years


def serious_violation_date(listed_on: date) -> date:
    """First day on which an abnormal listing from ``listed_on`` is more than 3 years old."""
    return add_months(listed_on, 12 * ABNORMAL_TO_SERIOUS_YEARS) + timedelta(days=1)


def list_transitions(entries: Iterable[ListEntry], today: date) -> tuple[ListTransition, ...]:
    """Entities due to move from the abnormal-operation list to the serious-violation list.

    Due: still on the abnormal list when it turned more than three years old, that day is
    not after ``today``, and not already on the serious-violation list. One move per
    entity (its oldest listing); ordered by date, then code. Running it again after the
    caller has recorded the moves yields nothing new.
    """
    entries = list(entries)
    serious = {
        e.uscc for e in entries if e.kind == CreditRecordKind.SERIOUS_VIOLATION and e.on_list(today)
    }
    due: dict[str, ListTransition] = {}
    for e in entries:
        if e.kind != CreditRecordKind.ABNORMAL_OPERATION or e.uscc in serious:
            continue
        effective = serious_violation_date(e.listed_on)
        if effective <= today and e.on_list(effective):
            move = ListTransition(
                e.uscc,
                CreditRecordKind.ABNORMAL_OPERATION,
                CreditRecordKind.SERIOUS_VIOLATION,
                e.listed_on,
                effective,
            )
            if e.uscc not in due or move.listed_on < due[e.uscc].listed_on:
                due[e.uscc] = move
    return tuple(sorted(due.values(), key=lambda t: (t.effective_on, t.uscc)))
