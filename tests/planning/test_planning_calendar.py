"""China's official working days (rules.md, Working days) and the deadlines counted on them."""

import tomllib
from datetime import date, timedelta

import pytest

from planning.calendar import YearSchedule, official_calendar, schedules_from_toml
from planning.deadlines import (
    is_late,
    matching_deadline,
    publication_deadline,
    repair_review_deadline,
    repair_sharing_deadline,
)

CAL = official_calendar()

# rules.md: the 2026 schedule.
HOLIDAYS_2026 = {
    "New Year": (date(2026, 1, 1), date(2026, 1, 3)),
    "Spring Festival": (date(2026, 2, 15), date(2026, 2, 23)),
    "Qingming": (date(2026, 4, 4), date(2026, 4, 6)),
    "Labour Day": (date(2026, 5, 1), date(2026, 5, 5)),
    "Dragon Boat": (date(2026, 6, 19), date(2026, 6, 21)),
    "Mid-Autumn": (date(2026, 9, 25), date(2026, 9, 27)),
    "National Day": (date(2026, 10, 1), date(2026, 10, 7)),
}
MAKEUP_2026 = [
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
]
NOTICE_2027 = """
[2027]
source = "test notice"
holidays = [[2027-01-01, 2027-01-03], [2027-02-05, 2027-02-13], 2027-04-05]
workdays = [2027-02-14, 2027-02-20]
"""


def test_2026_09_29_plus_20_working_days_is_2026_11_02():
    # Mid-Autumn is over; National Day takes 1–7 Oct; Saturday 10 Oct is worked.
    assert CAL.add_working_days(date(2026, 9, 29), 20).date == date(2026, 11, 2)
    assert publication_deadline(CAL, date(2026, 9, 29)).date == date(2026, 11, 2)
    assert not publication_deadline(CAL, date(2026, 9, 29)).provisional


@pytest.mark.parametrize("name", list(HOLIDAYS_2026))
def test_each_2026_holiday_block_is_not_worked(name):
    first, last = HOLIDAYS_2026[name]
    day = first
    while day <= last:
        assert not CAL.is_working_day(day), (name, day)
        day += timedelta(days=1)
    # The block is counted over: the first working day after the eve is after the block.
    after = CAL.add_working_days(first - timedelta(days=1), 1).date
    assert after > last, name


@pytest.mark.parametrize("day", MAKEUP_2026, ids=str)
def test_each_2026_makeup_day_is_worked(day):
    assert day.weekday() >= 5, "a make-up working day is a weekend day"
    assert CAL.is_working_day(day)
    assert CAL.add_working_days(day - timedelta(days=1), 1).date == day


def test_a_deadline_in_a_year_nobody_covers_is_provisional_monday_to_friday():
    assert CAL.knows(2026) and not CAL.knows(2027)
    # From Friday 18 Dec 2026, 20 working days: 2026 by its schedule, 2027 Monday–Friday.
    counted = CAL.add_working_days(date(2026, 12, 18), 20)
    assert counted.provisional
    assert counted.date == date(2027, 1, 15)  # 1 Jan 2027 counted as a plain Friday
    # A count that stays in a known year is not provisional.
    assert not CAL.add_working_days(date(2026, 12, 1), 10).provisional
    assert not CAL.add_working_days(date(2030, 6, 3), 0).provisional  # nothing counted


def test_the_data_file_extends_the_calendar_with_a_new_year():
    extended = official_calendar(schedules_from_toml(tomllib.loads(NOTICE_2027)))
    counted = extended.add_working_days(date(2026, 12, 18), 20)
    assert not counted.provisional
    assert not extended.is_working_day(date(2027, 1, 1))
    assert extended.is_working_day(date(2027, 2, 14))  # a Sunday worked
    assert counted.date == date(2027, 1, 18)  # 1 Jan off (a Friday): one day later
    # Still provisional where the file stops.
    assert extended.add_working_days(date(2027, 12, 20), 20).provisional


def test_a_data_file_year_replaces_the_package_year():
    corrected = official_calendar([YearSchedule(2026, frozenset({date(2026, 11, 2)}))])
    assert not corrected.is_working_day(date(2026, 11, 2))
    assert corrected.is_working_day(date(2026, 10, 8))  # the package's holidays are replaced


@pytest.mark.parametrize(
    "text",
    [
        "[next]\nholidays = [2027-01-01]",
        "[2027]\nholidays = ['2027-01-01']",
        "[2027]\nholidays = [[2027-01-03, 2027-01-01]]",
        "[2027]\nholidays = [2027-01-01]\nworkdays = [2027-01-01]",
        "[2027]\nholidays = [2029-01-01]",
        "[2027]\nholiday = [2027-01-01]",
    ],
)
def test_a_malformed_data_file_is_refused(text):
    with pytest.raises(ValueError):
        official_calendar(schedules_from_toml(tomllib.loads(text)))


def test_every_deadline_counts_on_the_one_calendar():
    # Thursday 30 April 2026: Labour Day 1–5 May, Saturday 9 May worked.
    assert matching_deadline(CAL, date(2026, 4, 30)).date == date(2026, 5, 7)
    assert repair_review_deadline(CAL, date(2026, 4, 30)).date == date(2026, 5, 18)
    assert repair_sharing_deadline(CAL, date(2026, 4, 30)).date == date(2026, 5, 8)
    # Friday 13 Feb 2026: 14 Feb worked, Spring Festival 15–23 Feb, 28 Feb worked.
    assert publication_deadline(CAL, date(2026, 2, 13)).date == date(2026, 3, 19)


def test_publication_after_the_deadline_is_late():
    deadline = publication_deadline(CAL, date(2026, 3, 4)).date
    assert not is_late(deadline, deadline)
    assert is_late(deadline + timedelta(days=1), deadline)
