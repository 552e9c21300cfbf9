"""Credit feedback: an approved result becomes a credit record, which moves the entity's
score and grade, which sets how often it is drawn next time.

The deduction model is configuration (``CreditRules``; one county's model has 470 items):
each non-compliant line of the joint form deducts once, however many departments required
it (one fact, one deduction), and some result categories deduct on top. An entity that
cannot be contacted at its registered address also goes on the abnormal-operation list
(national practice for enterprises), an entry founded on the result's record.

A result's record has the publicity class of its category (``credit_lists.result_class``) and
is public for that class's period, like a department's penalty. A credit repair is a record
too: it refers to the repaired record and gives back what the withdrawn records deducted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from domain.vocabulary import CreditGrade, CreditRecordKind, InspectionResult, PublicityClass
from planning.credit_lists import DEFAULT_PUBLICITY, PublicityRules, publicity, result_class
from planning.results import EntryOutcome, Outcome, ResultState

GRADE_ORDER = (CreditGrade.A, CreditGrade.B, CreditGrade.C, CreditGrade.D)  # best first


@dataclass(frozen=True, slots=True)
class GradeThresholds:
    """Lowest score of each grade; anything below ``c`` is D."""

    a: int = 90
    b: int = 75
    c: int = 60

    def __post_init__(self) -> None:
        if not self.a > self.b > self.c:
            raise ValueError("grade thresholds must fall strictly from A to C")


DEFAULT_THRESHOLDS = GradeThresholds()


def grade_for_score(score: int, thresholds: GradeThresholds = DEFAULT_THRESHOLDS) -> CreditGrade:
    if score >= thresholds.a:
        return CreditGrade.A
    if score >= thresholds.b:
        return CreditGrade.B
    if score >= thresholds.c:
        return CreditGrade.C
    return CreditGrade.D


def worse(a: CreditGrade, b: CreditGrade) -> CreditGrade:
    return max(a, b, key=GRADE_ORDER.index)


def _default_category_points() -> dict[InspectionResult, int]:
    return {InspectionResult.REFUSED: 20, InspectionResult.NOT_CONTACTABLE: 10}


@dataclass(frozen=True, slots=True)
class CreditRules:
    points_per_non_compliance: int = 5
    category_points: Mapping[InspectionResult, int] = field(
        default_factory=_default_category_points
    )
    max_score: int = 100
    thresholds: GradeThresholds = DEFAULT_THRESHOLDS


DEFAULT_RULES = CreditRules()


@dataclass(frozen=True, slots=True)
class ApprovedResult:
    """A joint result as it leaves review: the category and the form's outcomes by entry."""

    uscc: str
    task_id: str
    departments: tuple[str, ...]
    concluded_on: date
    decided_on: date  # the day it was approved: the credit record's date
    category: InspectionResult
    outcomes: Mapping[str, EntryOutcome]
    state: ResultState = ResultState.APPROVED


@dataclass(frozen=True, slots=True)
class CreditRecord:
    """One entry of an entity's credit record. Never edited or deleted: a later record
    (e.g. a REPAIR) refers to an earlier one by ``refers_to``."""

    uscc: str
    kind: CreditRecordKind
    recorded_on: date
    summary: str
    deduction: int = 0
    source: str = ""  # task id, decision number, commitment id
    departments: tuple[str, ...] = ()
    refers_to: str | None = None
    publicity_class: PublicityClass | None = None
    effective_to: date | None = None  # last day public (a class's maximum) or listed
    basis: int | None = None  # a list entry: position of the record that founded it, same update


class CreditUpdate(NamedTuple):
    score: int
    grade: CreditGrade
    records: tuple[CreditRecord, ...]


def deduction_for(result: ApprovedResult, rules: CreditRules = DEFAULT_RULES) -> int:
    findings = sum(1 for o in result.outcomes.values() if o.outcome == Outcome.NON_COMPLIANT)
    return findings * rules.points_per_non_compliance + rules.category_points.get(
        result.category, 0
    )


def apply_result(
    score: int,
    grade: CreditGrade,
    result: ApprovedResult,
    rules: CreditRules = DEFAULT_RULES,
    periods: PublicityRules = DEFAULT_PUBLICITY,
) -> CreditUpdate:
    """Feed an approved result into the entity's credit.

    Returns the new score (never below 0), the new grade and the records to append: always
    an INSPECTION_RESULT with its category's publicity class and period, plus an
    ABNORMAL_OPERATION listing founded on it when the entity could not be contacted. An
    inspection can keep or lower a grade, never raise it: the grade may have been set by other
    records, and climbing back is the business of credit repair.
    """
    if result.state not in (ResultState.APPROVED, ResultState.PUBLISHED):
        raise ValueError(f"only an approved result feeds credit, this one is {result.state}")
    deduction = deduction_for(result, rules)
    new_score = max(0, min(rules.max_score, score) - deduction)
    new_grade = worse(grade, grade_for_score(new_score, rules.thresholds))
    cls = result_class(result.category)
    period = publicity(cls, result.decided_on, periods)
    records = [
        CreditRecord(
            uscc=result.uscc,
            kind=CreditRecordKind.INSPECTION_RESULT,
            recorded_on=result.decided_on,
            summary=f"random inspection: {result.category}",
            deduction=deduction,
            source=result.task_id,
            departments=tuple(sorted(result.departments)),
            publicity_class=cls,
            effective_to=None if period is None else period.last_day,
        )
    ]
    if result.category == InspectionResult.NOT_CONTACTABLE:
        records.append(
            CreditRecord(
                uscc=result.uscc,
                kind=CreditRecordKind.ABNORMAL_OPERATION,
                recorded_on=result.decided_on,
                summary="cannot be contacted at its registered address",
                source=result.task_id,
                departments=tuple(sorted(result.departments)),
                basis=0,
            )
        )
    return CreditUpdate(new_score, new_grade, tuple(records))


def better(a: CreditGrade, b: CreditGrade) -> CreditGrade:
    return min(a, b, key=GRADE_ORDER.index)


def repair_record(
    uscc: str, record_id: str, on: date, reason: str, restored: int, department: str
) -> CreditRecord:
    """The REPAIR record: it refers to the repaired record (which stays, withdrawn), and
    gives back the points the withdrawn records had deducted (a negative deduction)."""
    if not reason or not reason.strip():
        raise ValueError("a credit repair must state its reason")
    return CreditRecord(
        uscc=uscc,
        kind=CreditRecordKind.REPAIR,
        recorded_on=on,
        summary=reason.strip(),
        deduction=-restored,
        source=record_id,
        departments=(department,),
        refers_to=record_id,
    )


def rating_after_repair(
    score: int,
    grade: CreditGrade,
    restored: int,
    still_listed: bool,
    rules: CreditRules = DEFAULT_RULES,
) -> tuple[int, CreditGrade]:
    """The score regains what the withdrawn records deducted; the grade follows the score up
    (never down) unless the entity is still on the abnormal-operation, serious-violation or black
    list through another record."""
    new_score = min(rules.max_score, score + max(0, restored))
    if still_listed:
        return new_score, grade
    return new_score, better(grade, grade_for_score(new_score, rules.thresholds))


def broken_commitment(
    uscc: str, on: date, commitment_id: str, summary: str, department: str
) -> CreditRecord:
    """A verification inspection found a commitment-based approval's promise broken."""
    return CreditRecord(
        uscc=uscc,
        kind=CreditRecordKind.BROKEN_COMMITMENT,
        recorded_on=on,
        summary=summary,
        source=commitment_id,
        departments=(department,),
    )
