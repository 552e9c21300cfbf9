"""Results: the review states a result passes through, and routing one form's outcomes
back to every department that required each item.

"Whoever inspects, enters and publishes" (谁检查、谁录入、谁公开): each department owns its
part of a joint result, so the state machine applies to each department's part, and the
routed view gives each department exactly its own requirements, in its own item codes and
legal bases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from planning.checklist import MergedChecklist


class ResultState(StrEnum):
    NOT_ENTERED = "NOT_ENTERED"
    PENDING_REVIEW = "PENDING_REVIEW"  # entered, waiting for review
    RETURNED = "RETURNED"  # sent back for correction
    APPROVED = "APPROVED"
    PUBLISHED = "PUBLISHED"


# The only moves a result can make; publishing is final (a correction after publication is
# a new record, never an edit).
TRANSITIONS: Mapping[ResultState, frozenset[ResultState]] = {
    ResultState.NOT_ENTERED: frozenset({ResultState.PENDING_REVIEW}),
    ResultState.PENDING_REVIEW: frozenset({ResultState.RETURNED, ResultState.APPROVED}),
    ResultState.RETURNED: frozenset({ResultState.PENDING_REVIEW}),
    ResultState.APPROVED: frozenset({ResultState.PUBLISHED}),
    ResultState.PUBLISHED: frozenset(),
}


class InvalidTransition(ValueError):
    def __init__(self, current: ResultState, target: ResultState) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (final)"
        super().__init__(
            f"a result cannot go from {current} to {target}; from {current} it may go to {allowed}"
        )
        self.current = current
        self.target = target


def transition(current: ResultState, target: ResultState) -> ResultState:
    """Return ``target`` if a result in ``current`` may move there, else raise
    ``InvalidTransition``."""
    current, target = ResultState(current), ResultState(target)
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(current, target)
    return target


class Outcome(StrEnum):
    COMPLIANT = "COMPLIANT"
    NON_COMPLIANT = "NON_COMPLIANT"
    NOT_APPLICABLE = "NOT_APPLICABLE"


@dataclass(frozen=True, slots=True)
class EntryOutcome:
    """What the team found for one line of the joint form."""

    outcome: Outcome
    note: str = ""


def outcomes_of(entries: Sequence[Mapping[str, Any]]) -> dict[str, EntryOutcome]:
    """Outcomes by entry key from their stored form (key, outcome, note)."""
    return {e["key"]: EntryOutcome(Outcome(e["outcome"]), e.get("note") or "") for e in entries}


@dataclass(frozen=True, slots=True)
class RoutedOutcome:
    """One department's copy of an entry's outcome, in that department's terms."""

    department: str
    entry_key: str
    item_code: str
    item_name: str
    legal_basis: str
    outcome: Outcome
    note: str


def route_outcomes(
    checklist: MergedChecklist, outcomes: Mapping[str, EntryOutcome]
) -> dict[str, tuple[RoutedOutcome, ...]]:
    """Split the joint form's outcomes (by entry key) into each department's view.

    Every entry needs an outcome and every outcome an entry: a result with a gap or a
    stray line is refused, since a department would otherwise miss a finding it required.
    Each department's view is ordered by its own item code.
    """
    keys = {e.key for e in checklist.entries}
    missing = sorted(keys - outcomes.keys())
    unknown = sorted(outcomes.keys() - keys)
    if missing or unknown:
        raise ValueError(
            f"outcomes do not match the form: missing {missing or 'none'}, "
            f"not on the form {unknown or 'none'}"
        )
    routed: dict[str, list[RoutedOutcome]] = {}
    for entry in checklist.entries:
        found = outcomes[entry.key]
        for r in entry.requirements:
            routed.setdefault(r.department, []).append(
                RoutedOutcome(
                    r.department,
                    entry.key,
                    r.item_code,
                    r.item_name,
                    r.legal_basis,
                    found.outcome,
                    found.note,
                )
            )
    return {d: tuple(sorted(rows, key=lambda o: o.item_code)) for d, rows in sorted(routed.items())}


# -- four eyes ---------------------------------------------------------------------------------
# "Whoever inspects, enters" and "whoever enters never approves": a result is entered only by
# an inspector of a department on the visit's team, and reviewed by a reviewer of the entering
# department or of the lead department who is not the person who entered that version.
OFFICER, INSPECTOR, REVIEWER = "officer", "inspector", "reviewer"  # token roles (domain.access)


class Refusal(StrEnum):
    NOT_AN_OFFICER = "NOT_AN_OFFICER"  # credit repairs are filed by officers only
    NOT_AN_INSPECTOR = "NOT_AN_INSPECTOR"  # results are entered by inspectors only
    NOT_ON_TEAM = "NOT_ON_TEAM"  # the inspector's department is not on the visit's team
    NOT_A_REVIEWER = "NOT_A_REVIEWER"  # results are reviewed by reviewers only
    WRONG_DEPARTMENT = "WRONG_DEPARTMENT"  # not a department this step belongs to
    SAME_PERSON = "SAME_PERSON"  # the reviewer entered (or filed) what is reviewed


@dataclass(frozen=True, slots=True)
class Person:
    """Who acts, as the token says: its subject, department and roles."""

    subject: str
    department: str | None
    roles: frozenset[str]


def is_officer(roles: frozenset[str]) -> bool:
    return OFFICER in roles


def is_inspector(roles: frozenset[str]) -> bool:
    return INSPECTOR in roles


def is_reviewer(roles: frozenset[str]) -> bool:
    return REVIEWER in roles


def entry_refusal(who: Person, team_departments: frozenset[str]) -> Refusal | None:
    """Why ``who`` may not enter a result for a visit whose current team has these
    departments, or None when they may."""
    if not is_inspector(who.roles):
        return Refusal.NOT_AN_INSPECTOR
    if who.department not in team_departments:
        return Refusal.NOT_ON_TEAM
    return None


def review_refusal(
    who: Person, entered_subject: str, entered_department: str, lead_department: str
) -> Refusal | None:
    """Why ``who`` may not review the version entered by ``entered_subject`` of
    ``entered_department`` on a task led by ``lead_department``, or None when they may."""
    if not is_reviewer(who.roles):
        return Refusal.NOT_A_REVIEWER
    if who.department not in (entered_department, lead_department):
        return Refusal.WRONG_DEPARTMENT
    if who.subject == entered_subject:
        return Refusal.SAME_PERSON
    return None
