"""The event outbox of the hub store: what the outside hears about, written in the transaction
that makes the change.

    await emit(conn, Event(Kind.VISIT_STATE, data, task_id=…, visit_id=…, departments=…))

An event therefore exists exactly when its change committed: a rolled-back command leaves
none. Each event gets a delivery row per consumer that must receive it (the credit platform,
department webhooks), so a consumer that is down loses nothing. At commit a NOTIFY on
CHANNEL wakes every hub process, which reads the new events from the table (store/feed.py).

Ids are handed out under a transaction-scoped lock, so they grow in commit order: a reader
that has seen every event up to id N catches up exactly with "id > N". The lock is taken at
the first emit of a transaction and held until it ends; commands emit after their last
other lock, so it only orders their commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import asyncpg
import orjson

CHANNEL = "jsh_events"
_ORDER_LOCK = 4_216_002  # advisory lock: event ids in commit order


class Kind(StrEnum):
    """Event kinds: a contract with subscribers and webhook receivers."""

    ASSIGNMENT = "visit.assignment"  # a team drawn, an inspector substituted on or off
    VISIT_STATE = "visit.state"  # result entered, returned, approved, published, closed
    TASK_PROGRESS = "task.progress"  # a task's visit counts by state, late publications
    RESULT_PUBLISHED = "result.published"  # a published result, as the credit platform takes it
    CREDIT_REPAIR = "credit.repair"  # an approved credit repair, for the credit platform


# Consumers inside the hub and the kinds each receives (webhooks are rows of `webhook`).
CREDIT = "credit"
INTERNAL_CONSUMERS: dict[str, tuple[Kind, ...]] = {
    CREDIT: (Kind.RESULT_PUBLISHED, Kind.CREDIT_REPAIR)
}


def inspector_key(department: str, inspector_id: str) -> str:
    """How events name an inspector: ids are the department's own, unique within it."""
    return f"{department}/{inspector_id}"


@dataclass(frozen=True, slots=True)
class Event:
    kind: Kind
    data: dict[str, Any]
    task_id: uuid.UUID | None = None
    visit_id: uuid.UUID | None = None
    departments: tuple[str, ...] = ()
    inspectors: tuple[str, ...] = ()  # inspector_key()s
    id: int = 0  # set once stored
    at: datetime | None = field(default=None, compare=False)

    def envelope(self) -> dict[str, Any]:
        """The event as a webhook receiver gets it (ids only: no personal data)."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "at": self.at.isoformat() if self.at else None,
            "taskId": str(self.task_id) if self.task_id else None,
            "visitId": str(self.visit_id) if self.visit_id else None,
            "departments": list(self.departments),
            "data": self.data,
        }


async def emit(conn: asyncpg.Connection, *events: Event) -> None:
    """Append events to the outbox inside the caller's transaction, with a delivery row for
    every consumer that takes them, and NOTIFY the hub processes at commit."""
    if not events:
        return
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _ORDER_LOCK)
    rows = [
        {
            "kind": e.kind.value,
            "task_id": str(e.task_id) if e.task_id else None,
            "visit_id": str(e.visit_id) if e.visit_id else None,
            "departments": list(e.departments),
            "inspectors": list(e.inspectors),
            "data": e.data,
        }
        for e in events
    ]
    ids = await conn.fetch(
        "INSERT INTO event (kind, task_id, visit_id, departments, inspectors, data)"
        " SELECT e.kind, e.task_id, e.visit_id,"
        " ARRAY(SELECT jsonb_array_elements_text(e.departments)),"
        " ARRAY(SELECT jsonb_array_elements_text(e.inspectors)), e.data"
        " FROM jsonb_to_recordset($1::jsonb) AS e(kind text, task_id uuid, visit_id uuid,"
        " departments jsonb, inspectors jsonb, data jsonb)"
        " RETURNING id",
        orjson.dumps(rows).decode(),
    )
    takes = [(name, kind.value) for name, kinds in INTERNAL_CONSUMERS.items() for kind in kinds]
    await conn.execute(
        "INSERT INTO event_delivery (event_id, consumer)"
        " SELECT e.id, 'webhook:' || w.id FROM event e JOIN webhook w"
        "   ON w.removed_at IS NULL AND e.kind = ANY(w.kinds) AND w.department = ANY(e.departments)"
        "  WHERE e.id = ANY($1)"
        " UNION ALL"
        " SELECT e.id, c.name FROM event e"
        "   JOIN unnest($2::text[], $3::text[]) AS c(name, kind) ON e.kind = c.kind"
        "  WHERE e.id = ANY($1)",
        [r[0] for r in ids],
        [name for name, _ in takes],
        [kind for _, kind in takes],
    )
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, str(ids[-1][0]))


EVENT_COLUMNS = "id, at, kind, task_id, visit_id, departments, inspectors, data"


def from_row(r: asyncpg.Record) -> Event:
    return Event(
        kind=Kind(r["kind"]),
        data=orjson.loads(r["data"]),
        task_id=r["task_id"],
        visit_id=r["visit_id"],
        departments=tuple(r["departments"]),
        inspectors=tuple(r["inspectors"]),
        id=r["id"],
        at=r["at"],
    )


async def after(
    conn: asyncpg.Connection | asyncpg.Pool, last_id: int, limit: int = 1000
) -> list[Event]:
    """Every event committed after `last_id`, oldest first, at most `limit`."""
    rows = await conn.fetch(
        f"SELECT {EVENT_COLUMNS} FROM event WHERE id > $1 ORDER BY id LIMIT $2", last_id, limit
    )
    return [from_row(r) for r in rows]


async def last_id(conn: asyncpg.Connection | asyncpg.Pool) -> int:
    return await conn.fetchval("SELECT coalesce(max(id), 0) FROM event")


async def replay(
    conn: asyncpg.Connection | asyncpg.Pool,
    kinds: Sequence[Kind],
    last_seen: int,
    limit: int,
    *,
    task_id: uuid.UUID | None = None,
    visit_id: uuid.UUID | None = None,
    inspector: str | None = None,
) -> list[Event]:
    """One subscriber's events after `last_seen` (a resumed subscription), the newest
    `limit` of them, oldest first."""
    rows = await conn.fetch(
        f"SELECT {EVENT_COLUMNS} FROM event WHERE id > $1 AND kind = ANY($2)"
        " AND ($3::uuid IS NULL OR task_id = $3) AND ($4::uuid IS NULL OR visit_id = $4)"
        " AND ($5::text IS NULL OR inspectors @> ARRAY[$5])"
        " ORDER BY id DESC LIMIT $6",
        last_seen,
        [k.value for k in kinds],
        task_id,
        visit_id,
        inspector,
        limit,
    )
    return [from_row(r) for r in reversed(rows)]


async def prune(pool: asyncpg.Pool, older_than_days: int) -> int:
    """Delete events older than the retention whose deliveries are all done (their delivery
    rows go with them); pending and dead ones stay."""
    status = await pool.execute(
        "DELETE FROM event e WHERE e.at < now() - make_interval(days => $1)"
        " AND NOT EXISTS (SELECT 1 FROM event_delivery d WHERE d.event_id = e.id"
        " AND d.delivered_at IS NULL)",
        older_than_days,
    )
    return int(status.split()[-1])


# -- what the emitters read back inside the command's transaction ----------------------------
_TEAM_SELECT = (
    "SELECT v.id AS visit_id, v.task_id, v.uscc, v.entity_name, v.district, v.form_hash,"
    " t.window_start, t.window_end, a.inspector_id, a.department, a.role"
    " FROM visit v JOIN task t ON t.id = v.task_id"
    " JOIN assignment a ON a.visit_id = v.id AND a.replaced_at IS NULL"
)


async def teams_of_task(conn: asyncpg.Connection, task_id: uuid.UUID) -> list[asyncpg.Record]:
    """Every visit of a task with its current team, one row per seat, in draw order."""
    return await conn.fetch(
        _TEAM_SELECT + " WHERE v.task_id = $1 ORDER BY v.rank, v.id, a.id", task_id
    )


async def team_of_visit(conn: asyncpg.Connection, visit_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(_TEAM_SELECT + " WHERE v.id = $1 ORDER BY a.id", visit_id)


async def forms(conn: asyncpg.Connection, hashes: Sequence[str]) -> dict[str, Any]:
    """Form bodies by hash (a task's visits share a few forms)."""
    rows = await conn.fetch("SELECT hash, body FROM form WHERE hash = ANY($1)", list(hashes))
    return {r["hash"]: orjson.loads(r["body"]) for r in rows}


async def progress_of(
    conn: asyncpg.Connection | asyncpg.Pool, task_id: uuid.UUID
) -> asyncpg.Record | None:
    """A task's status, visit counts by state and publications (late ones too), with the last
    event id of the same snapshot: the state is exactly that after event `last_event`."""
    return await conn.fetchrow(
        "SELECT t.id, t.status, t.departments,"
        " coalesce((SELECT jsonb_object_agg(s.state, s.n) FROM (SELECT state, count(*) AS n"
        "   FROM visit WHERE task_id = t.id GROUP BY state) s), '{}') AS counts,"
        " (SELECT count(*) FROM publication p WHERE p.task_id = t.id) AS published,"
        " (SELECT count(*) FROM publication p WHERE p.task_id = t.id AND p.late) AS late,"
        " (SELECT coalesce(max(id), 0) FROM event) AS last_event"
        " FROM task t WHERE t.id = $1",
        task_id,
    )


_VISIT_STATE_SELECT = (
    "SELECT v.id, v.task_id, v.uscc, v.state, v.form_hash,"
    " (SELECT max(version) FROM result r WHERE r.visit_id = v.id) AS version FROM visit v"
)


async def visit_state(conn: asyncpg.Connection, visit_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(_VISIT_STATE_SELECT + " WHERE v.id = $1", visit_id)


async def task_visit_states(
    conn: asyncpg.Connection, task_id: uuid.UUID, states: Sequence[str]
) -> list[asyncpg.Record]:
    return await conn.fetch(
        _VISIT_STATE_SELECT + " WHERE v.task_id = $1 AND v.state = ANY($2) ORDER BY v.rank, v.id",
        task_id,
        list(states),
    )
