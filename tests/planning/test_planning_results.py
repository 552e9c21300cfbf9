"""Results: review states, routing to departments, four eyes, public record."""

import dataclasses
from datetime import date

import pytest

from domain.vocabulary import EntityKind, InspectionResult
from planning.checklist import ChecklistItem, merge_checklist
from planning.publication import InspectionRecord, PublicRecord, public_record
from planning.results import (
    EntryOutcome,
    InvalidTransition,
    Outcome,
    Person,
    Refusal,
    ResultState,
    entry_refusal,
    review_refusal,
    route_outcomes,
    transition,
)
from planning.team_draw import Assignment, Role

S = ResultState


def test_result_moves_from_entry_through_review_to_publication():
    state = S.NOT_ENTERED
    for target in (S.PENDING_REVIEW, S.APPROVED, S.PUBLISHED):
        state = transition(state, target)
    assert state is S.PUBLISHED


def test_returned_result_goes_back_to_review():
    state = transition(S.PENDING_REVIEW, S.RETURNED)
    assert transition(state, S.PENDING_REVIEW) is S.PENDING_REVIEW


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.NOT_ENTERED, S.PUBLISHED),  # nothing is published unreviewed
        (S.NOT_ENTERED, S.APPROVED),
        (S.PENDING_REVIEW, S.PUBLISHED),
        (S.RETURNED, S.APPROVED),  # a correction is reviewed again
        (S.APPROVED, S.RETURNED),
        (S.PUBLISHED, S.PENDING_REVIEW),  # publication is final
    ],
)
def test_invalid_transition_refused(current, target):
    with pytest.raises(InvalidTransition, match=f"from {current} to {target}"):
        transition(current, target)


LICENCE = [
    ChecklistItem(
        "market_regulation",
        "SC-01",
        "licence display",
        "《市场主体登记管理条例》第三十六条",
        standard_code="STD-LICENCE",
        delegable=True,
    ),
    ChecklistItem(
        "culture_tourism",
        "WL-07",
        "permit displayed",
        "《娱乐场所管理条例》第二十二条",
        standard_code="STD-LICENCE",
        delegable=True,
    ),
    ChecklistItem("fire_rescue", "XF-03", "fire exits clear", "《消防法》第二十八条"),
]


def test_each_department_gets_exactly_its_own_outcomes():
    form = merge_checklist(EntityKind.ENTERPRISE, "R", LICENCE)
    outcomes = {
        "STD-LICENCE": EntryOutcome(Outcome.NON_COMPLIANT, "permit not displayed"),
        "fire_rescue:XF-03": EntryOutcome(Outcome.COMPLIANT),
    }
    routed = route_outcomes(form, outcomes)
    assert sorted(routed) == ["culture_tourism", "fire_rescue", "market_regulation"]
    (ct,) = routed["culture_tourism"]
    assert (ct.item_code, ct.legal_basis) == ("WL-07", "《娱乐场所管理条例》第二十二条")
    assert (ct.outcome, ct.note) == (Outcome.NON_COMPLIANT, "permit not displayed")
    (mr,) = routed["market_regulation"]
    assert (mr.item_code, mr.outcome) == ("SC-01", Outcome.NON_COMPLIANT)
    (fr,) = routed["fire_rescue"]
    assert (fr.item_code, fr.outcome) == ("XF-03", Outcome.COMPLIANT)


def test_routing_refuses_missing_or_stray_outcomes():
    form = merge_checklist(EntityKind.ENTERPRISE, "R", LICENCE)
    with pytest.raises(ValueError, match="missing"):
        route_outcomes(form, {"STD-LICENCE": EntryOutcome(Outcome.COMPLIANT)})
    with pytest.raises(ValueError, match="not on the form"):
        route_outcomes(
            form,
            {
                "STD-LICENCE": EntryOutcome(Outcome.COMPLIANT),
                "fire_rescue:XF-03": EntryOutcome(Outcome.COMPLIANT),
                "STD-OTHER": EntryOutcome(Outcome.NOT_APPLICABLE),
            },
        )


def test_four_eyes_entry_by_an_inspector_of_a_team_department():
    team = frozenset({"market", "fire"})
    inspector = Person("insp", "fire", frozenset({"officer", "inspector"}))
    assert entry_refusal(inspector, team) is None
    officer = Person("off", "fire", frozenset({"officer", "reviewer", "planner"}))
    assert entry_refusal(officer, team) == Refusal.NOT_AN_INSPECTOR
    elsewhere = Person("insp", "ecology", frozenset({"inspector"}))
    assert entry_refusal(elsewhere, team) == Refusal.NOT_ON_TEAM


def test_four_eyes_review_by_another_reviewer_of_the_entering_or_lead_department():
    def review(subject, dept, roles=("reviewer",)):
        return review_refusal(Person(subject, dept, frozenset(roles)), "insp", "fire", "market")

    assert review("rev", "fire") is None  # the entering department
    assert review("rev", "market") is None  # the lead department
    assert review("rev", "culture") == Refusal.WRONG_DEPARTMENT
    assert review("rev", "market", ("planner", "officer")) == Refusal.NOT_A_REVIEWER
    assert review("insp", "fire", ("inspector", "reviewer")) == Refusal.SAME_PERSON
    assert review("insp", "market") == Refusal.SAME_PERSON  # same subject, another token


def internal_record(state=S.APPROVED):
    team = (
        Assignment("insp-0042", "fire_rescue", Role.LEADER, False, "ab" * 32, 0),
        Assignment("insp-0077", "market_regulation", Role.MEMBER, True, "cd" * 32, 0),
    )
    return InspectionRecord(
        task_id="TASK-2024-017",
        task_name="2024 catering joint inspection",
        uscc="91370202MA3C4LXX4R",
        entity_name="青岛某餐饮有限公司",
        departments=("market_regulation", "fire_rescue"),
        concluded_on=date(2024, 3, 4),
        category=InspectionResult.PROBLEM_CORRECTED,
        state=state,
        team=team,
        notes="Inspector Zhang Wei (insp-0042) noted the exit was cleared on site.",
    )


def test_public_record_has_no_inspector_data():
    record = internal_record()
    public = public_record(record, date(2024, 3, 20))
    fields = {f.name for f in dataclasses.fields(PublicRecord)}
    assert fields == {
        "task_id",
        "task_name",
        "uscc",
        "entity_name",
        "departments",
        "concluded_on",
        "published_on",
        "category",
    }
    text = repr(public)
    for m in record.team:
        assert m.inspector_id not in text and m.rank_hex not in text
    assert "Zhang" not in text
    assert public.departments == ("fire_rescue", "market_regulation")


def test_only_approved_results_are_published():
    with pytest.raises(InvalidTransition):
        public_record(internal_record(S.PENDING_REVIEW), date(2024, 3, 20))
    with pytest.raises(ValueError, match="before the inspection"):
        public_record(internal_record(), date(2024, 3, 1))
