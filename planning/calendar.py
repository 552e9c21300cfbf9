"""China's official working days: the one calendar every working-day count of the hub uses.

Weekends and public holidays are not working days; the make-up working days (调休, weekend days
the State Council's yearly notice declares worked) are. The schedules come from two places,
both data: the tables of the maintained ``chinesecalendar`` package (2004 to the last year
it knows) and the years a deployment adds from each new notice (``schedules_from_toml``,
given the parsed data file; the reading happens at the edge, once). A year in the data file
replaces the package's year.

A count that reaches a year neither covers goes on Monday to Friday for that year and says so:
the answer is ``provisional``, never silently a plain weekday count. The day a count starts
from is not counted; the n-th working day after it is the answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from chinese_calendar import constants as official


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """One year's notice: the days off and the weekend days worked instead."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date] = frozenset()  # make-up working days (调休)
    source: str = ""

    def __post_init__(self) -> None:
        both = self.holidays & self.workdays
        if both:
            raise ValueError(f"{self.year}: {sorted(both)[0]} is both a holiday and a working day")
        for day in self.holidays | self.workdays:
            # A notice may reach into the last days of the year before (a make-up day for
            # New Year), never further.
            if not self.year - 1 <= day.year <= self.year:
                raise ValueError(f"{self.year}: {day} is not in the notice's year")


@dataclass(frozen=True, slots=True)
class WorkingDate:
    """A date found by counting working days; ``provisional`` when the count passed through a
    year whose official schedule is not known (counted Monday to Friday there)."""

    date: date
    provisional: bool


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    schedules: Mapping[int, YearSchedule]
    _holidays: frozenset[date] = field(init=False)
    _workdays: frozenset[date] = field(init=False)

    def __post_init__(self) -> None:
        holidays = frozenset(d for s in self.schedules.values() for d in s.holidays)
        workdays = frozenset(d for s in self.schedules.values() for d in s.workdays)
        object.__setattr__(self, "_holidays", holidays)
        object.__setattr__(self, "_workdays", workdays)

    @property
    def known_years(self) -> tuple[int, ...]:
        return tuple(sorted(self.schedules))

    def knows(self, year: int) -> bool:
        return year in self.schedules

    def is_working_day(self, day: date) -> bool:
        if day in self._workdays:
            return True
        return day.weekday() < 5 and day not in self._holidays

    def add_working_days(self, start: date, days: int) -> WorkingDate:
        """The ``days``-th working day after ``start`` (``start`` itself not counted)."""
        if days < 0:
            raise ValueError("days must not be negative")
        day, counted = start, 0
        while counted < days:
            day += timedelta(days=1)
            counted += self.is_working_day(day)
        # Only the years the count went through matter (none when nothing was counted).
        years = range((start + timedelta(days=1)).year, day.year + 1) if days else ()
        return WorkingDate(day, any(not self.knows(y) for y in years))

    def extended(self, schedules: Iterable[YearSchedule]) -> WorkingCalendar:
        """This calendar with the given years added or replaced."""
        return WorkingCalendar({**self.schedules, **{s.year: s for s in schedules}})


def library_schedules() -> dict[int, YearSchedule]:
    """Every year in the ``chinesecalendar`` package's tables."""
    years = {d.year for d in official.holidays}
    return {
        y: YearSchedule(
            y,
            frozenset(d for d in official.holidays if d.year == y),
            frozenset(d for d in official.workdays if d.year == y and d.weekday() >= 5),
            "chinesecalendar",
        )
        for y in years
    }


def _days(value: Any, where: str) -> list[date]:
    """A date, or an inclusive [first, last] range of dates."""
    if isinstance(value, date):
        return [value]
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, date) for v in value)
        and value[0] <= value[1]
    ):
        return [value[0] + timedelta(days=n) for n in range((value[1] - value[0]).days + 1)]
    raise ValueError(f"{where}: {value!r} is neither a date nor a [first, last] range of dates")


def schedules_from_toml(data: Mapping[str, Any]) -> list[YearSchedule]:
    """Years of a parsed data file: ``[2027]`` tables with ``holidays`` (dates or
    [first, last] ranges), ``workdays`` (make-up working days) and ``source`` (the notice)."""
    out = []
    for key, spec in data.items():
        if not key.isdigit() or not isinstance(spec, Mapping):
            raise ValueError(f"{key!r}: expected a table per year, such as [2027]")
        unknown = set(spec) - {"holidays", "workdays", "source"}
        if unknown:
            raise ValueError(f"[{key}]: unknown keys {sorted(unknown)}")
        holidays = [d for v in spec.get("holidays", []) for d in _days(v, f"[{key}] holidays")]
        workdays = [d for v in spec.get("workdays", []) for d in _days(v, f"[{key}] workdays")]
        out.append(
            YearSchedule(
                int(key), frozenset(holidays), frozenset(workdays), str(spec.get("source", ""))
            )
        )
    return out


def official_calendar(extra: Iterable[YearSchedule] = ()) -> WorkingCalendar:
    """The package's years, with the deployment's years added or replacing them."""
    return WorkingCalendar(library_schedules()).extended(extra)
