"""What each command tells the outside: its events, built from what it has just written (read
back inside its transaction) and emitted to the outbox before it commits.

Each command calls one of these once, as its last write:

    await notices.teams_drawn(conn, task_id)               # draw
    await notices.team_changed(conn, visit_id, replaced, incoming_id)  # substitution
    await notices.visit_changed(conn, visit_id)            # result entered, returned, approved
    await notices.task_published(conn, task_id)            # publication

Payloads carry ids, codes and dates only: inspectors appear by their department's id, never
by name, and a substitution's reason (often personal) stays in the audit trail.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg
import orjson

from planning.forms import form_from_data
from store import events
from store import tasks as store
from store.events import Event, Kind

# The change a visit's new state reports (visit.state's data.change).
CHANGE_OF_STATE = {
    "PENDING_REVIEW": "RESULT_ENTERED",
    "RETURNED": "RETURNED",
    "APPROVED": "APPROVED",
    "PUBLISHED": "PUBLISHED",
    "CLOSED_UNFINISHED": "CLOSED_UNFINISHED",
}


async def teams_drawn(conn: asyncpg.Connection, task_id: uuid.UUID) -> None:
    """A draw: one visit.assignment per visit (every member drawn on), and the progress."""
    seats = await events.teams_of_task(conn, task_id)
    by_visit: dict[uuid.UUID, list[asyncpg.Record]] = {}
    for s in seats:
        by_visit.setdefault(s["visit_id"], []).append(s)
    drawn = [_assignment(team, "DRAWN", added=team, removed=()) for team in by_visit.values()]
    await events.emit(conn, *drawn, await _progress(conn, task_id))


async def team_changed(
    conn: asyncpg.Connection, visit_id: uuid.UUID, replaced: Any, incoming_id: str
) -> None:
    """A substitution: `replaced` is the closed assignment row, `incoming_id` who took it."""
    team = await events.team_of_visit(conn, visit_id)
    added = [s for s in team if s["inspector_id"] == incoming_id]
    await events.emit(conn, _assignment(team, "SUBSTITUTED", added=added, removed=[replaced]))


async def visit_changed(conn: asyncpg.Connection, visit_id: uuid.UUID) -> None:
    """A visit's result entered, returned or approved: its new state, and the progress."""
    v = await events.visit_state(conn, visit_id)
    departments = await _departments(conn, [v["form_hash"]])
    await events.emit(conn, _state(v, departments), await _progress(conn, v["task_id"]))


async def task_published(conn: asyncpg.Connection, task_id: uuid.UUID) -> None:
    """A publication: each visit's new state, each published result (for credit feedback and
    the departments), and the progress."""
    visits = await events.task_visit_states(conn, task_id, ["PUBLISHED", "CLOSED_UNFINISHED"])
    departments = await _departments(conn, list({v["form_hash"] for v in visits}))
    published = [v["id"] for v in visits if v["state"] == "PUBLISHED"]
    results = await store.latest_results(conn, published)
    days = {
        r["visit_id"]: r["published_on"]
        for r in await conn.fetch(
            "SELECT visit_id, published_on FROM publication WHERE task_id = $1", task_id
        )
    }
    out = [_state(v, departments) for v in visits]
    for v in visits:
        if v["state"] == "PUBLISHED":
            r, concerned = results[v["id"]], departments[v["form_hash"]]
            data = {
                "taskId": str(task_id),
                "visitId": str(v["id"]),
                "uscc": v["uscc"].strip(),
                "departments": list(concerned),
                "concludedOn": r["concluded_on"].isoformat(),
                "decidedOn": days[v["id"]].isoformat(),
                "category": r["category"],
                "entries": orjson.loads(r["entries"]),
            }
            out.append(Event(Kind.RESULT_PUBLISHED, data, task_id, v["id"], concerned))
    await events.emit(conn, *out, await _progress(conn, task_id))


# -- the events --------------------------------------------------------------------------------
def _seat(s: Any) -> dict[str, Any]:
    return {"inspectorId": s["inspector_id"], "department": s["department"], "role": s["role"]}


def _assignment(
    team: Sequence[asyncpg.Record],
    change: str,
    added: Iterable[Any],
    removed: Sequence[Any],
) -> Event:
    v = team[0]
    concerned = [*team, *removed]
    data = {
        "taskId": str(v["task_id"]),
        "visitId": str(v["visit_id"]),
        "uscc": v["uscc"].strip(),
        "entityName": v["entity_name"],
        "district": v["district"],
        "windowStart": v["window_start"].isoformat(),
        "windowEnd": v["window_end"].isoformat(),
        "change": change,
        "team": [_seat(s) for s in team],
        "added": [_seat(s) for s in added],
        "removed": [_seat(s) for s in removed],
    }
    return Event(
        Kind.ASSIGNMENT,
        data,
        v["task_id"],
        v["visit_id"],
        departments=tuple(sorted({s["department"] for s in concerned})),
        inspectors=tuple(
            events.inspector_key(s["department"], s["inspector_id"]) for s in concerned
        ),
    )


async def _departments(conn: asyncpg.Connection, hashes: list[str]) -> dict[str, tuple[str, ...]]:
    """The departments with items on each form (by form hash)."""
    bodies = await events.forms(conn, hashes)
    return {h: form_from_data(body).departments for h, body in bodies.items()}


def _state(v: asyncpg.Record, departments: dict[str, tuple[str, ...]]) -> Event:
    data = {
        "taskId": str(v["task_id"]),
        "visitId": str(v["id"]),
        "uscc": v["uscc"].strip(),
        "state": v["state"],
        "change": CHANGE_OF_STATE[v["state"]],
        "resultVersion": v["version"],
    }
    return Event(Kind.VISIT_STATE, data, v["task_id"], v["id"], departments[v["form_hash"]])


def progress_data(row: asyncpg.Record) -> dict[str, Any]:
    """task.progress's data (also the first answer of taskProgress)."""
    counts = orjson.loads(row["counts"])
    return {
        "taskId": str(row["id"]),
        "status": row["status"],
        "counts": counts,
        "visits": sum(counts.values()),
        "published": row["published"],
        "late": row["late"],
    }


async def _progress(conn: asyncpg.Connection, task_id: uuid.UUID) -> Event:
    row = await events.progress_of(conn, task_id)
    return Event(
        Kind.TASK_PROGRESS, progress_data(row), task_id, departments=tuple(row["departments"])
    )
