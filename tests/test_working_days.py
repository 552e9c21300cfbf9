"""The official working-day calendar through the hub (rules.md, Working days): the public
`addWorkingDays` query, the data-file setting, publication deadlines with their provisional
flag, the matching deadline of a draw, and the conclusion date between draw and today."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

import pytest

from planning.calendar import official_calendar
from tests.conftest import Hub
from tests.test_joint_tasks import (
    PUBLISH,
    RECORD,
    REVIEW,
    backdate_draw,
    drawn_task,
    inspector_of,
    outcomes,
    reviewer,
)
from tests.test_partial import own_hub

ADD = "query($f: Date!, $d: Int!) { addWorkingDays(from: $f, days: $d) { date provisional } }"
PUBLIC: dict[str, str] = {}  # no credentials at all
CAL = official_calendar()


async def test_add_working_days_is_public_and_counts_the_official_calendar(hub: Hub) -> None:
    body = await hub.gql(ADD, {"f": "2026-09-29", "d": 20}, headers=PUBLIC)
    assert body == {"data": {"addWorkingDays": {"date": "2026-11-02", "provisional": False}}}
    late = await hub.gql(ADD, {"f": "2026-12-18", "d": 20}, headers=PUBLIC)
    assert late["data"]["addWorkingDays"] == {"date": "2027-01-15", "provisional": True}


@pytest.mark.parametrize(
    ("start", "days", "reason"),
    [
        ("2026-09-29", -1, "INVALID_DAYS"),
        ("2026-09-29", 1001, "INVALID_DAYS"),
        ("2026-09-29", 2**31 - 1, "INVALID_DAYS"),
        ("1999-12-31", 5, "DATE_OUT_OF_RANGE"),
        ("9999-12-31", 1000, "DATE_OUT_OF_RANGE"),
    ],
)
async def test_add_working_days_is_bounded(hub: Hub, start: str, days: int, reason: str) -> None:
    body = await hub.gql(ADD, {"f": start, "d": days}, headers=PUBLIC)
    assert body["data"] is None
    ext = body["errors"][0]["extensions"]
    assert (ext["code"], ext["reason"]) == ("BAD_USER_INPUT", reason)


async def test_a_malformed_date_is_bad_input_not_a_fault(hub: Hub) -> None:
    body = await hub.gql(ADD, {"f": "2026-02-30", "d": 1}, headers=PUBLIC)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_data_file_setting_covers_a_new_year(settings, tmp_path: Path) -> None:
    notice = tmp_path / "workdays.toml"
    notice.write_text("[2027]\nholidays = [[2027-01-01, 2027-01-03]]\nworkdays = []\n")
    async with own_hub(dataclasses.replace(settings, workdays_file=notice)) as hub:
        body = await hub.gql(ADD, {"f": "2026-12-18", "d": 20}, headers=PUBLIC)
    assert body["data"]["addWorkingDays"] == {"date": "2027-01-18", "provisional": False}


async def test_a_malformed_data_file_stops_the_start(settings, tmp_path: Path) -> None:
    from gateway.app import create_app

    bad = tmp_path / "workdays.toml"
    bad.write_text("[2027]\nholidays = ['soon']\n")
    with pytest.raises(ValueError, match="working-day calendar"):
        create_app(dataclasses.replace(settings, workdays_file=bad))


async def test_publication_deadline_on_the_official_calendar(hub: Hub) -> None:
    task = await drawn_task(hub)
    await backdate_draw(hub, task["id"], 45)
    visit = task["visits"][0]
    concluded = date.today() - timedelta(days=30)
    entry = {
        "visitId": visit["id"],
        "category": "NO_PROBLEM",
        "entries": outcomes(visit, bad=0),
        "concludedOn": concluded.isoformat(),
    }
    assert "errors" not in await hub.gql(RECORD, {"input": entry}, headers=inspector_of(visit))
    approve = {"v": visit["id"], "ok": True, "c": ""}
    assert "errors" not in await hub.gql(REVIEW, approve, headers=reviewer())
    body = await hub.gql(PUBLISH, {"t": task["id"], "close": True, "reason": "测试"})
    published = {v["uscc"]: v for v in body["data"]["publishTaskResults"]["visits"]}
    expected = CAL.add_working_days(concluded, 20)
    publication = published[visit["uscc"]]["publication"]
    assert publication["deadline"] == expected.date.isoformat()
    assert publication["late"] == (date.today() > expected.date)
    info = await hub.gql(
        "query($v: ID!) { jointVisit(id: $v) { publication { deadline provisional } } }",
        {"v": visit["id"]},
    )
    assert info["data"]["jointVisit"]["publication"] == {
        "deadline": expected.date.isoformat(),
        "provisional": expected.provisional,
    }


async def test_a_draw_states_its_matching_deadline(hub: Hub) -> None:
    task = await drawn_task(hub)
    body = await hub.gql(
        "query($t: ID!) { jointInspectionTask(id: $t) { matchingDeadline { date provisional } } }",
        {"t": task["id"]},
    )
    counted = CAL.add_working_days(date.today(), 2)
    assert body["data"]["jointInspectionTask"]["matchingDeadline"] == {
        "date": counted.date.isoformat(),
        "provisional": counted.provisional,
    }


async def test_concluded_on_lies_between_the_draw_and_today(hub: Hub) -> None:
    today = date.today()
    window = {
        "windowStart": (today + timedelta(days=10)).isoformat(),
        "windowEnd": (today + timedelta(days=40)).isoformat(),
    }
    task = await drawn_task(hub, **window)
    drawn_on = await backdate_draw(hub, task["id"], 3)
    visit = task["visits"][0]

    def entry(day: date) -> dict:
        return {
            "input": {
                "visitId": visit["id"],
                "category": "NO_PROBLEM",
                "entries": outcomes(visit, bad=0),
                "concludedOn": day.isoformat(),
            }
        }

    for day in (drawn_on - timedelta(days=1), today + timedelta(days=1)):
        body = await hub.gql(RECORD, entry(day), headers=inspector_of(visit))
        ext = body["errors"][0]["extensions"]
        assert (ext["code"], ext["reason"]) == ("BAD_USER_INPUT", "INVALID_DATE"), day
    # Between draw and today but outside the task's window: accepted and flagged.
    done = await hub.gql(
        RECORD.replace("result { version category }", "result { version outsideWindow }"),
        entry(drawn_on),
        headers=inspector_of(visit),
    )
    assert done["data"]["recordVisitResult"]["result"] == {"version": 1, "outsideWindow": True}


async def test_a_conclusion_inside_the_window_is_not_flagged(hub: Hub) -> None:
    today = date.today()
    task = await drawn_task(
        hub, windowStart=today.isoformat(), windowEnd=(today + timedelta(30)).isoformat()
    )
    visit = task["visits"][0]
    done = await hub.gql(
        RECORD.replace("result { version category }", "result { version outsideWindow }"),
        {
            "input": {
                "visitId": visit["id"],
                "category": "NO_PROBLEM",
                "entries": outcomes(visit, bad=0),
                "concludedOn": today.isoformat(),
            }
        },
        headers=inspector_of(visit),
    )
    assert done["data"]["recordVisitResult"]["result"] == {"version": 1, "outsideWindow": False}
