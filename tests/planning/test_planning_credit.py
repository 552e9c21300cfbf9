"""Credit feedback, penalty publicity, repairs and list moves."""

from datetime import date

import pytest

from domain.vocabulary import CreditGrade, CreditRecordKind, InspectionResult
from planning.credit import (
    ApprovedResult,
    CreditRules,
    GradeThresholds,
    apply_result,
    broken_commitment,
    grade_for_score,
)
from planning.credit_lists import (
    ListEntry,
    PenaltyDomain,
    PenaltyPublicity,
    can_repair,
    is_publicized,
    list_transitions,
    publicity_window,
    repair,
)
from planning.results import EntryOutcome, Outcome, ResultState

A, B, C, D = CreditGrade.A, CreditGrade.B, CreditGrade.C, CreditGrade.D
ABNORMAL, SERIOUS = CreditRecordKind.ABNORMAL_OPERATION, CreditRecordKind.SERIOUS_VIOLATION
OK, BAD = EntryOutcome(Outcome.COMPLIANT), EntryOutcome(Outcome.NON_COMPLIANT, "found")


def result(category=InspectionResult.NO_PROBLEM, outcomes=None, state=ResultState.APPROVED):
    return ApprovedResult(
        uscc="91370202MA3C4LXX4R",
        task_id="TASK-2024-017",
        departments=("market_regulation", "fire_rescue"),
        concluded_on=date(2024, 3, 4),
        decided_on=date(2024, 3, 11),
        category=category,
        outcomes=outcomes if outcomes is not None else {"STD-LICENCE": OK},
        state=state,
    )


def test_grade_for_score_thresholds():
    assert [grade_for_score(s) for s in (100, 90, 89, 75, 74, 60, 59, 0)] == [
        A,
        A,
        B,
        B,
        C,
        C,
        D,
        D,
    ]
    custom = GradeThresholds(a=80, b=60, c=40)
    assert grade_for_score(79, custom) is B
    with pytest.raises(ValueError):
        GradeThresholds(a=60, b=75, c=90)


def test_approved_result_becomes_credit_record():
    score, grade, records = apply_result(95, A, result())
    assert (score, grade) == (95, A)
    (record,) = records
    assert record.kind is CreditRecordKind.INSPECTION_RESULT
    assert (record.source, record.recorded_on, record.deduction) == (
        "TASK-2024-017",
        date(2024, 3, 11),
        0,
    )


def test_unapproved_result_does_not_feed_credit():
    with pytest.raises(ValueError, match="approved"):
        apply_result(95, A, result(state=ResultState.PENDING_REVIEW))


def test_each_non_compliant_entry_deducts_once():
    # A shared entry required by two departments is one finding, deducted once.
    outcomes = {"STD-LICENCE": BAD, "STD-FIRE-EXIT": BAD, "fire_rescue:XF-09": OK}
    score, grade, (record,) = apply_result(
        92, A, result(InspectionResult.PROBLEM_PENDING, outcomes)
    )
    assert record.deduction == 10 and (score, grade) == (82, B)
    rules = CreditRules(points_per_non_compliance=20)
    assert apply_result(92, A, result(outcomes=outcomes), rules).score == 52


def test_refused_inspection_deducts_extra():
    score, grade, _ = apply_result(80, B, result(InspectionResult.REFUSED))
    assert (score, grade) == (60, C)
    assert apply_result(5, D, result(InspectionResult.REFUSED)).score == 0  # never below 0


def test_not_contactable_goes_on_abnormal_operation_list():
    _, _, records = apply_result(90, A, result(InspectionResult.NOT_CONTACTABLE))
    assert [r.kind for r in records] == [CreditRecordKind.INSPECTION_RESULT, ABNORMAL]
    assert records[0].deduction == 10


def test_inspection_never_raises_a_grade():
    # A D set by other records (e.g. the serious-violation list) stays D after a clean visit.
    assert apply_result(95, D, result()).grade is D


def test_broken_commitment_becomes_credit_record():
    record = broken_commitment(
        "91370202MA3C4LXX4R",
        date(2024, 5, 6),
        "CMT-88",
        "premises not as committed",
        "market_regulation",
    )
    assert record.kind is CreditRecordKind.BROKEN_COMMITMENT and record.source == "CMT-88"


def penalty(serious=False, domain=PenaltyDomain.GENERAL):
    return PenaltyPublicity(
        "91370202MA3C4LXX4R", "青市监罚〔2024〕15号", date(2024, 1, 15), serious, domain
    )


def test_general_penalty_public_3_months_to_1_year():
    assert publicity_window(date(2024, 1, 15), False) == (date(2024, 4, 15), date(2025, 1, 15))


def test_serious_penalty_public_6_months_to_3_years():
    assert publicity_window(date(2024, 1, 15), True) == (date(2024, 7, 15), date(2027, 1, 15))


@pytest.mark.parametrize(
    "domain", [PenaltyDomain.WORK_SAFETY, PenaltyDomain.FIRE, PenaltyDomain.SPECIAL_EQUIPMENT]
)
def test_serious_safety_fire_special_equipment_minimum_1_year(domain):
    assert publicity_window(date(2024, 1, 15), True, domain)[0] == date(2025, 1, 15)


def test_month_end_decisions_clamp_to_month_end():
    assert publicity_window(date(2023, 11, 30), False)[0] == date(2024, 2, 29)


def test_repair_only_after_minimum_period():
    p = penalty()
    assert not can_repair(p, date(2024, 4, 15))  # last day of the minimum period
    assert can_repair(p, date(2024, 4, 16))
    with pytest.raises(ValueError, match="only from 2024-04-16"):
        repair(p, date(2024, 4, 15), "fine paid, rectified")
    with pytest.raises(ValueError, match="reason"):
        repair(p, date(2024, 4, 16), " ")


def test_repair_is_a_record_not_a_deletion():
    p = penalty()
    record = repair(p, date(2024, 5, 1), "fine paid, rectified", "market_regulation")
    assert record.kind is CreditRecordKind.REPAIR and record.refers_to == p.decision_no
    assert is_publicized(p, date(2024, 4, 30), [record])
    assert not is_publicized(p, date(2024, 5, 1), [record])
    assert is_publicized(p, date(2024, 5, 1))  # the penalty itself is unchanged


def test_publicity_drops_off_at_maximum_by_itself():
    p = penalty(serious=True)
    assert is_publicized(p, date(2027, 1, 15))
    assert not is_publicized(p, date(2027, 1, 16))
    assert not can_repair(p, date(2027, 1, 16))  # nothing left to withdraw
    assert not is_publicized(p, date(2024, 1, 14))  # not before the decision


def test_abnormal_over_3_years_moves_to_serious_violation():
    entries = [ListEntry("E1", ABNORMAL, date(2021, 3, 10))]
    assert list_transitions(entries, date(2024, 3, 10)) == ()  # exactly three years
    (move,) = list_transitions(entries, date(2024, 3, 11))
    assert (move.uscc, move.from_kind, move.to_kind) == ("E1", ABNORMAL, SERIOUS)
    assert move.effective_on == date(2024, 3, 11)


def test_abnormal_entry_removed_in_time_does_not_move():
    removed = [ListEntry("E2", ABNORMAL, date(2021, 3, 10), removed_on=date(2023, 1, 5))]
    assert list_transitions(removed, date(2025, 1, 1)) == ()


def test_list_move_is_made_once():
    entries = [
        ListEntry("E3", ABNORMAL, date(2020, 1, 2)),
        ListEntry("E3", ABNORMAL, date(2020, 6, 2)),
        ListEntry("E4", ABNORMAL, date(2020, 1, 2)),
        ListEntry("E4", SERIOUS, date(2023, 1, 3)),  # already moved
    ]
    moves = list_transitions(entries, date(2024, 1, 1))
    assert [(m.uscc, m.listed_on) for m in moves] == [("E3", date(2020, 1, 2))]
