"""Results: review states, routing to departments, publication deadline, public record."""

import dataclasses
from datetime import date, timedelta

import pytest

from domain.vocabulary import EntityKind, InspectionResult
from planning.checklist import ChecklistItem, merge_checklist
from planning.deadlines import (
    add_working_days,
    is_late,
    matching_deadline,
    publication_deadline,
)
from planning.publication import InspectionRecord, PublicRecord, public_record
from planning.results import (
    EntryOutcome,
    InvalidTransition,
    Outcome,
    ResultState,
    route_outcomes,
    transition,
)
from planning.team_draw import Assignment, Role

S = ResultState
NATIONAL_DAY_2024 = frozenset(date(2024, 10, d) for d in range(1, 8))
MAKEUP_2024 = frozenset({date(2024, 9, 29), date(2024, 10, 12)})


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


def test_publication_deadline_20_working_days():
    # Concluded Monday 4 March 2024: four full weeks later is Monday 1 April.
    assert publication_deadline(date(2024, 3, 4)) == date(2024, 4, 1)
    # Concluded on a Saturday: the count starts on the Monday.
    assert publication_deadline(date(2024, 3, 2)) == date(2024, 3, 29)


def test_deadline_skips_holidays_and_counts_makeup_days():
    plain = publication_deadline(date(2024, 9, 27))
    assert plain == date(2024, 10, 25)
    # National Day 2024: 1–7 October off; Sunday 29 Sept and Saturday 12 Oct worked.
    assert publication_deadline(date(2024, 9, 27), NATIONAL_DAY_2024, MAKEUP_2024) == date(
        2024, 10, 30
    )


def test_publication_after_deadline_is_late():
    deadline = publication_deadline(date(2024, 3, 4))
    assert not is_late(deadline, deadline)
    assert is_late(deadline + timedelta(days=1), deadline)


def test_inspectors_matched_within_2_working_days_of_the_draw():
    assert matching_deadline(date(2024, 3, 8)) == date(2024, 3, 12)  # Fri → Tue
    assert add_working_days(date(2024, 3, 8), 0) == date(2024, 3, 8)


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
