"""The hub's working-day deadlines, each counted on China's official calendar
(``planning.calendar``): results published within 20 working days of the inspection's
conclusion; inspectors matched within 2 working days of the entity draw; a credit-repair
application reviewed within 10 working days; the decision shared by local platforms within 3.

The day an event happens is not counted; the deadline is the n-th working day after it, and an
action on the deadline itself is on time. A deadline is provisional when its count reached a
year whose official schedule is not known yet.
"""

from __future__ import annotations

from datetime import date

from planning.calendar import WorkingCalendar, WorkingDate

PUBLICATION_WORKING_DAYS = 20
MATCHING_WORKING_DAYS = 2
REPAIR_REVIEW_WORKING_DAYS = 10
REPAIR_SHARING_WORKING_DAYS = 3


def publication_deadline(calendar: WorkingCalendar, concluded_on: date) -> WorkingDate:
    """Last day on which a result concluded on ``concluded_on`` may be published on time."""
    return calendar.add_working_days(concluded_on, PUBLICATION_WORKING_DAYS)


def matching_deadline(calendar: WorkingCalendar, drawn_on: date) -> WorkingDate:
    """Last day for matching inspectors to an entity draw made on ``drawn_on``."""
    return calendar.add_working_days(drawn_on, MATCHING_WORKING_DAYS)


def repair_review_deadline(calendar: WorkingCalendar, applied_on: date) -> WorkingDate:
    """Last day for reviewing a credit-repair application filed on ``applied_on``."""
    return calendar.add_working_days(applied_on, REPAIR_REVIEW_WORKING_DAYS)


def repair_sharing_deadline(calendar: WorkingCalendar, decided_on: date) -> WorkingDate:
    """Last day for local platforms to share a repair decided on ``decided_on``."""
    return calendar.add_working_days(decided_on, REPAIR_SHARING_WORKING_DAYS)


def is_late(done_on: date, deadline: date) -> bool:
    return done_on > deadline
