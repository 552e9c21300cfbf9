"""Periods of credit publicity and list membership: penalty publicity, credit repair, and
the move from the abnormal-operation list to the serious-violation list.

Periods are counted as the Civil Code counts them (arts. 201–202): from the day after the
starting date, ending on the corresponding day of the last month or year (the month's last
day when it has no such day). So a general penalty decided on 2024-01-15 is publicized
through 2025-01-15, may be repaired from 2024-04-16, and is gone on 2025-01-16.
Repairs and list moves are new records; nothing here deletes or edits one.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from domain.vocabulary import CreditRecordKind
from planning.credit import CreditRecord

ABNORMAL_TO_SERIOUS_YEARS = 3


class PenaltyDomain(StrEnum):
    GENERAL = "GENERAL"
    WORK_SAFETY = "WORK_SAFETY"
    FIRE = "FIRE"
    SPECIAL_EQUIPMENT = "SPECIAL_EQUIPMENT"


# Serious penalties in these domains stay public at least a year, not six months.
LONG_MINIMUM_DOMAINS = frozenset(
    {PenaltyDomain.WORK_SAFETY, PenaltyDomain.FIRE, PenaltyDomain.SPECIAL_EQUIPMENT}
)


@dataclass(frozen=True, slots=True)
class PenaltyPublicity:
    uscc: str
    decision_no: str
    decided_on: date
    serious: bool
    domain: PenaltyDomain = PenaltyDomain.GENERAL


def add_months(day: date, months: int) -> date:
    """The corresponding day ``months`` later, or that month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def publicity_months(serious: bool, domain: PenaltyDomain) -> tuple[int, int]:
    """(minimum, maximum) publicity period in months."""
    if not serious:
        return 3, 12
    return (12 if domain in LONG_MINIMUM_DOMAINS else 6), 36


def publicity_window(
    decided_on: date, serious: bool, domain: PenaltyDomain = PenaltyDomain.GENERAL
) -> tuple[date, date]:
    """(min_end, max_end): the last day of the minimum period (repair is possible the day
    after) and the last day the penalty is public (it drops off by itself the day after)."""
    shortest, longest = publicity_months(serious, domain)
    return add_months(decided_on, shortest), add_months(decided_on, longest)


def _window(record: PenaltyPublicity) -> tuple[date, date]:
    return publicity_window(record.decided_on, record.serious, record.domain)


def can_repair(record: PenaltyPublicity, today: date) -> bool:
    """Early withdrawal is allowed once the minimum period is over and while the penalty is
    still public (after the maximum there is nothing left to withdraw)."""
    min_end, max_end = _window(record)
    return min_end < today <= max_end


def repairs_of(record: PenaltyPublicity, repairs: Iterable[CreditRecord]) -> list[CreditRecord]:
    return [
        r
        for r in repairs
        if r.kind == CreditRecordKind.REPAIR
        and r.uscc == record.uscc
        and r.refers_to == record.decision_no
    ]


def is_publicized(
    record: PenaltyPublicity, today: date, repairs: Iterable[CreditRecord] = ()
) -> bool:
    """Public from the decision date through the maximum period, unless repaired earlier."""
    _, max_end = _window(record)
    if not record.decided_on <= today <= max_end:
        return False
    return not any(r.recorded_on <= today for r in repairs_of(record, repairs))


def repair(record: PenaltyPublicity, on: date, reason: str, department: str = "") -> CreditRecord:
    """The REPAIR record that withdraws a penalty's publicity from ``on``; the penalty's own
    record stays as it was."""
    if not reason or not reason.strip():
        raise ValueError("a credit repair must state its reason")
    if not can_repair(record, on):
        min_end, max_end = _window(record)
        raise ValueError(
            f"penalty {record.decision_no} can be repaired only from {min_end + timedelta(1)} "
            f"through {max_end}, not on {on}"
        )
    return CreditRecord(
        uscc=record.uscc,
        kind=CreditRecordKind.REPAIR,
        recorded_on=on,
        summary=reason.strip(),
        source=record.decision_no,
        departments=(department,) if department else (),
        refers_to=record.decision_no,
    )


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
