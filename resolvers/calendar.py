"""The working-day calendar as a public question: which day is n working days after a date."""

from __future__ import annotations

from datetime import date

from planning.calendar import WorkingDate
from resolvers.context import RequestContext
from resolvers.errors import bad_input

MAX_WORKING_DAYS = 1000  # about four years: more than any deadline of the rules
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def add_working_days(ctx: RequestContext, start: date, days: int) -> WorkingDate:
    if not 0 <= days <= MAX_WORKING_DAYS:
        raise bad_input(
            f"days must be between 0 and {MAX_WORKING_DAYS}, got {days}",
            "INVALID_DAYS",
            max=MAX_WORKING_DAYS,
        )
    if not EARLIEST <= start <= LATEST:
        raise bad_input(
            f"from must lie between {EARLIEST} and {LATEST}, got {start}", "DATE_OUT_OF_RANGE"
        )
    return ctx.settings.calendar.add_working_days(start, days)
