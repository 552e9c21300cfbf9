"""Working-day deadlines: results published within 20 working days of the inspection's
conclusion; inspectors matched within 2 working days of the entity draw.

Working days are Monday to Friday, less the public holidays and plus the make-up working
weekend days (调休) the caller passes in: the State Council publishes both each year, so
they are data, not code. The day an event happens is not counted; the deadline is the n-th
working day after it, and a publication on the deadline itself is on time.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

PUBLICATION_WORKING_DAYS = 20
MATCHING_WORKING_DAYS = 2


def is_working_day(
    day: date,
    holidays: Collection[date] = frozenset(),
    makeup_workdays: Collection[date] = frozenset(),
) -> bool:
    if day in makeup_workdays:
        return True
    return day.weekday() < 5 and day not in holidays


def add_working_days(
    start: date,
    days: int,
    holidays: Collection[date] = frozenset(),
    makeup_workdays: Collection[date] = frozenset(),
) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day, holidays, makeup_workdays):
            counted += 1
    return day


def publication_deadline(
    concluded_on: date,
    holidays: Collection[date] = frozenset(),
    makeup_workdays: Collection[date] = frozenset(),
    working_days: int = PUBLICATION_WORKING_DAYS,
) -> date:
    """Last day on which a result concluded on ``concluded_on`` may be published on time."""
    return add_working_days(concluded_on, working_days, holidays, makeup_workdays)


def matching_deadline(
    drawn_on: date,
    holidays: Collection[date] = frozenset(),
    makeup_workdays: Collection[date] = frozenset(),
) -> date:
    """Last day for matching inspectors to an entity draw made on ``drawn_on``."""
    return add_working_days(drawn_on, MATCHING_WORKING_DAYS, holidays, makeup_workdays)


def is_late(done_on: date, deadline: date) -> bool:
    return done_on > deadline
