"""The official working-day calendar in the graph: public, and the type of every deadline."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from planning.calendar import WorkingDate as Counted
from resolvers import calendar as resolve


@strawberry.type(description="A day found by counting China's official working days.")
class WorkingDate:
    date: date
    provisional: bool = strawberry.field(
        description="The count reached a year whose official schedule is not known yet and went "
        "on Monday to Friday there: the day may move when the State Council's notice is out."
    )

    @classmethod
    def of(cls, counted: Counted) -> WorkingDate:
        return cls(date=counted.date, provisional=counted.provisional)


@strawberry.type
class CalendarQuery:
    @strawberry.field(
        description="The `days`-th official working day after `from` (public). Weekends and "
        "public holidays are skipped, make-up working days (调休) counted; days 0 to 1000."
    )
    def add_working_days(
        self,
        info: strawberry.Info,
        from_: Annotated[date, strawberry.argument(name="from")],
        days: int,
    ) -> WorkingDate:
        return WorkingDate.of(resolve.add_working_days(info.context, from_, days))
