"""Credit feedback, publicity by class (rules from 1 April 2026), repairs and list moves."""

from datetime import date

import pytest

from domain.vocabulary import CreditGrade, CreditRecordKind, InspectionResult
from domain.vocabulary import PublicityClass as Class
from planning.credit import (
    ApprovedResult,
    CreditRules,
    GradeThresholds,
    apply_result,
    broken_commitment,
    grade_for_score,
    rating_after_repair,
    repair_record,
)
from planning.credit_lists import (
    ListEntry,
    Publicity,
    PublicityRules,
    RepairRefusal,
    Withdrawal,
    application_refusal,
    is_publicized,
    list_transitions,
    penalty_class,
    publicity,
    repair_refusal,
    repair_review_refusal,
    withdrawal,
)
from planning.results import EntryOutcome, Outcome, Person, Refusal, ResultState

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


# -- publicity by class (rules in force from 1 April 2026) ------------------------------------
DECIDED = date(2026, 4, 15)


@pytest.mark.parametrize(
    ("kind", "fine", "serious", "cls"),
    [
        ("WARNING", None, False, Class.WARNING),
        ("FINE", 300_000, False, Class.MINOR),  # 3,000 yuan: the simplified procedure
        ("FINE", 300_001, None, Class.GENERAL),
        ("FINE", None, False, Class.GENERAL),  # no amount: not shown to be minor
        ("CONFISCATION", 0, False, Class.GENERAL),
        ("SUSPENSION", None, False, Class.GENERAL),
        ("LICENCE_REVOCATION", None, True, Class.SERIOUS),
        ("WARNING", None, True, Class.SERIOUS),  # the department's serious flag decides
        (None, None, None, Class.GENERAL),
    ],
)
def test_penalty_class_from_the_department_record(kind, fine, serious, cls):
    assert penalty_class(kind, fine, serious) is cls


def test_a_warning_only_penalty_is_never_published():
    assert publicity(Class.WARNING, DECIDED) is None
    assert not is_publicized(Class.WARNING, DECIDED, DECIDED)
    assert repair_refusal(Class.WARNING, DECIDED, None, DECIDED) == RepairRefusal.NOT_PUBLICIZED


def test_a_minor_penalty_is_not_published_by_default():
    assert publicity(Class.MINOR, DECIDED) is None
    assert not is_publicized(Class.MINOR, DECIDED, DECIDED)


def test_a_minor_penalty_is_published_at_most_3_months_by_setting():
    three = PublicityRules(minor_months=3)
    period = publicity(Class.MINOR, DECIDED, three)
    assert period == Publicity(DECIDED, date(2026, 4, 16), date(2026, 7, 15))
    assert is_publicized(Class.MINOR, DECIDED, date(2026, 7, 15), rules=three)
    assert not is_publicized(Class.MINOR, DECIDED, date(2026, 7, 16), rules=three)
    with pytest.raises(ValueError):
        PublicityRules(minor_months=4)


def test_general_penalty_public_3_months_to_1_year_from_the_decision():
    assert publicity(Class.GENERAL, DECIDED) == Publicity(
        DECIDED, date(2026, 7, 16), date(2027, 4, 15)
    )


def test_serious_penalty_public_1_to_3_years_from_the_decision():
    assert publicity(Class.SERIOUS, DECIDED) == Publicity(
        DECIDED, date(2027, 4, 16), date(2029, 4, 15)
    )


def test_month_end_decisions_clamp_to_month_end():
    assert publicity(Class.GENERAL, date(2025, 11, 30)).repairable_from == date(2026, 3, 1)


def test_repair_may_be_applied_for_once_the_minimum_has_passed():
    assert repair_refusal(Class.GENERAL, DECIDED, None, date(2026, 7, 15)) == (
        RepairRefusal.REPAIR_TOO_EARLY
    )
    assert repair_refusal(Class.GENERAL, DECIDED, None, date(2026, 7, 16)) is None
    assert repair_refusal(Class.SERIOUS, DECIDED, None, date(2027, 4, 15)) == (
        RepairRefusal.REPAIR_TOO_EARLY
    )
    assert repair_refusal(Class.SERIOUS, DECIDED, None, date(2027, 4, 16)) is None


def test_at_the_maximum_a_record_drops_off_by_itself():
    assert is_publicized(Class.SERIOUS, DECIDED, date(2029, 4, 15))
    assert not is_publicized(Class.SERIOUS, DECIDED, date(2029, 4, 16))
    assert not is_publicized(Class.SERIOUS, DECIDED, date(2026, 4, 14))  # not before the decision
    late = repair_refusal(Class.SERIOUS, DECIDED, None, date(2029, 4, 16))
    assert late == RepairRefusal.NOT_PUBLICIZED  # nothing left to withdraw


def test_a_withdrawn_record_is_not_public_from_its_withdrawal():
    withdrawn = date(2026, 8, 1)
    assert is_publicized(Class.GENERAL, DECIDED, date(2026, 7, 31), withdrawn)
    assert not is_publicized(Class.GENERAL, DECIDED, withdrawn, withdrawn)
    again = repair_refusal(Class.GENERAL, DECIDED, withdrawn, date(2026, 8, 2))
    assert again == RepairRefusal.NOT_PUBLICIZED


@pytest.mark.parametrize(
    ("category", "cls"),
    [
        (InspectionResult.NO_PROBLEM, None),
        (InspectionResult.ACTIVITY_NOT_FOUND, None),
        (InspectionResult.PROBLEM_CORRECTED, Class.MINOR),
        (InspectionResult.PROBLEM_PENDING, Class.GENERAL),
        (InspectionResult.NOT_CONTACTABLE, Class.GENERAL),
        (InspectionResult.REFUSED, Class.GENERAL),
    ],
)
def test_results_feed_credit_with_the_same_classes(category, cls):
    (record, *_) = apply_result(90, A, result(category)).records
    assert record.publicity_class == cls
    period = publicity(cls, record.recorded_on)
    assert record.effective_to == (period.last_day if period else None)


def test_an_abnormal_listing_is_founded_on_the_result_record():
    _, _, (first, listing) = apply_result(90, A, result(InspectionResult.NOT_CONTACTABLE))
    assert listing.kind is ABNORMAL and listing.basis == 0 and first.basis is None


# -- credit repair ----------------------------------------------------------------------------
def row(ident, kind, basis=None, decided=DECIDED, to=None, withdrawn=None):
    return {
        "id": ident,
        "kind": kind,
        "basis_id": basis,
        "decided_on": decided,
        "effective_to": to,
        "withdrawn_on": withdrawn,
    }


def test_a_repair_lifts_the_list_entries_the_record_founded():
    records = [
        row("10", CreditRecordKind.PENALTY_PUBLICITY),
        row("11", SERIOUS, basis="10", to=date(2029, 5, 1)),
        row("12", CreditRecordKind.BLACK_LIST, basis="10"),
        row("13", CreditRecordKind.BLACK_LIST, basis="10", withdrawn=date(2026, 6, 1)),
        row("14", CreditRecordKind.RED_LIST, basis="10"),  # not a punishment
        row("15", ABNORMAL, basis="10"),
    ]
    lifted = withdrawal("10", records, date(2027, 5, 1))
    assert lifted == Withdrawal("10", ("10", "11", "12", "15"), still_listed=False)


def test_an_entity_on_a_list_through_another_record_stays_listed():
    records = [
        row("10", CreditRecordKind.PENALTY_PUBLICITY),
        row("20", CreditRecordKind.BLACK_LIST, basis="19"),
        row("21", SERIOUS, to=date(2026, 12, 31)),  # over before the repair
        row("22", ABNORMAL),
    ]
    assert withdrawal("10", records, date(2027, 5, 1)).still_listed
    assert withdrawal("10", [records[0], records[3]], date(2027, 5, 1)).still_listed
    assert not withdrawal("10", records[:3:2], date(2027, 5, 1)).still_listed


def test_the_repair_is_a_record_giving_back_the_points():
    record = repair_record("E1", "10", date(2027, 5, 1), " rectified ", 70, "credit")
    assert record.kind is CreditRecordKind.REPAIR and record.refers_to == "10"
    assert (record.deduction, record.summary) == (-70, "rectified")
    with pytest.raises(ValueError, match="reason"):
        repair_record("E1", "10", date(2027, 5, 1), " ", 0, "credit")


def test_the_grade_follows_the_score_up_unless_still_listed():
    assert rating_after_repair(40, D, 50, still_listed=False) == (90, A)
    assert rating_after_repair(40, D, 50, still_listed=True) == (90, D)
    assert rating_after_repair(95, C, 10, still_listed=False) == (100, A)  # capped
    assert rating_after_repair(50, B, 5, still_listed=False) == (55, B)  # never down


def test_who_files_and_who_reviews_a_repair():
    def who(dept, *roles, sub="s1"):
        return Person(sub, dept, frozenset(roles))

    hub_record = "hub:culture,market"
    assert application_refusal(who("credit", "officer"), "credit", "fire") is None
    assert application_refusal(who("fire", "officer"), "credit", "fire") is None
    assert application_refusal(who("culture", "officer"), "credit", hub_record) is None
    assert application_refusal(who("ecology", "officer"), "credit", hub_record) == (
        Refusal.WRONG_DEPARTMENT
    )
    assert application_refusal(who("credit", "reviewer"), "credit", "fire") == (
        Refusal.NOT_AN_OFFICER
    )
    assert repair_review_refusal(who("credit", "reviewer", sub="s2"), "credit", "s1") is None
    assert repair_review_refusal(who("credit", "officer", "reviewer"), "credit", "s1") == (
        Refusal.SAME_PERSON
    )
    assert repair_review_refusal(who("fire", "reviewer", sub="s2"), "credit", "s1") == (
        Refusal.WRONG_DEPARTMENT
    )
    assert repair_review_refusal(who("credit", "officer", sub="s2"), "credit", "s1") == (
        Refusal.NOT_A_REVIEWER
    )


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
