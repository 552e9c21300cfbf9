"""SQL of joint tasks in the hub store. Callers pass a connection inside their transaction."""

from __future__ import annotations

import hashlib
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import orjson

Record = asyncpg.Record

TASK_COLUMNS = (
    "id, title, lead_department, departments, scope, plan, team_size, window_start, window_end,"
    " status, seed, seed_commitment, seed_revealed, draw_seed, created_by, created_at, drawn_at,"
    " population, excluded, savings, closed_at, close_reason"
)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


async def insert_task(conn: asyncpg.Connection, task: dict[str, Any]) -> Record:
    return await conn.fetchrow(
        f"INSERT INTO task (id, title, lead_department, departments, scope, plan, team_size,"
        f" window_start, window_end, status, seed, seed_commitment, created_by)"
        f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'DRAFT', $10, $11, $12)"
        f" RETURNING {TASK_COLUMNS}",
        task["id"],
        task["title"],
        task["lead_department"],
        task["departments"],
        _json(task["scope"]),
        _json(task["plan"]),
        task["team_size"],
        task["window_start"],
        task["window_end"],
        task["seed"],
        task["seed_commitment"],
        task["created_by"],
    )


async def get_task(conn: asyncpg.Connection | asyncpg.Pool, task_id: uuid.UUID) -> Record | None:
    return await conn.fetchrow(f"SELECT {TASK_COLUMNS} FROM task WHERE id = $1", task_id)


async def lock_task(conn: asyncpg.Connection, task_id: uuid.UUID) -> Record | None:
    """The task row, locked until the transaction ends: commands on one task run in turn."""
    return await conn.fetchrow(f"SELECT {TASK_COLUMNS} FROM task WHERE id = $1 FOR UPDATE", task_id)


async def list_tasks(
    pool: asyncpg.Pool,
    statuses: Sequence[str] | None,
    after: tuple[Any, uuid.UUID] | None,
    limit: int,
) -> list[Record]:
    args: list[Any] = []
    conds = []
    if statuses:
        args.append(list(statuses))
        conds.append(f"status = ANY(${len(args)})")
    if after is not None:
        args += [after[0], after[1]]
        conds.append(f"(created_at, id) < (${len(args) - 1}, ${len(args)})")
    args.append(limit)
    where = f"WHERE {' AND '.join(conds)}" if conds else ""
    return await pool.fetch(
        f"SELECT {TASK_COLUMNS} FROM task {where} ORDER BY created_at DESC, id DESC"
        f" LIMIT ${len(args)}",
        *args,
    )


# -- the draw --------------------------------------------------------------------------------
def pack_snapshot(snapshot: dict[str, Any]) -> tuple[bytes, str]:
    raw = orjson.dumps(snapshot, option=orjson.OPT_SORT_KEYS)
    # Level 1: a million-entity snapshot compresses in a fraction of a second, ~4x smaller.
    return zlib.compress(raw, 1), hashlib.sha256(raw).hexdigest()


def unpack_snapshot(data: bytes) -> dict[str, Any]:
    return orjson.loads(zlib.decompress(data))


@dataclass(frozen=True, slots=True)
class FrozenDraw:
    """Everything a draw writes, as rows (the command prepares them before its transaction)."""

    task_id: uuid.UUID
    drawn_on: date
    seed: bytes  # the seed the draw used
    snapshot: dict[str, Any]
    entities: int  # the population's size
    forms: dict[str, str]  # hash -> body
    visits: list[tuple[Any, ...]]  # VISIT_COPY_COLUMNS
    assignments: list[tuple[Any, ...]]  # ASSIGNMENT_COPY_COLUMNS
    population: dict[str, Any]  # per grade: population, drawn
    excluded: dict[str, int]
    savings: dict[str, int]


VISIT_COPY_COLUMNS = (
    "id",
    "task_id",
    "uscc",
    "entity_name",
    "district",
    "kind",
    "industry",
    "grade",
    "rank",
    "form_hash",
)
ASSIGNMENT_COPY_COLUMNS = (
    "visit_id",
    "inspector_id",
    "department",
    "role",
    "wider_pool",
    "rank",
    "seat",
    "origin",
)


async def freeze_draw(
    conn: asyncpg.Connection, draw: FrozenDraw, packed: tuple[bytes, str]
) -> None:
    """Store everything the draw produced in the caller's transaction. ``packed`` is
    ``pack_snapshot(draw.snapshot)``, made before the transaction (it takes a while)."""
    data, digest = packed
    await conn.execute(
        "INSERT INTO task_population (task_id, entities, drawn_on, sha256, data)"
        " VALUES ($1, $2, $3, $4, $5)",
        draw.task_id,
        draw.entities,
        draw.drawn_on,
        digest,
        data,
    )
    await conn.executemany(
        "INSERT INTO form (hash, body) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING",
        list(draw.forms.items()),
    )
    await conn.copy_records_to_table("visit", records=draw.visits, columns=VISIT_COPY_COLUMNS)
    await conn.copy_records_to_table(
        "assignment", records=draw.assignments, columns=ASSIGNMENT_COPY_COLUMNS
    )
    await conn.execute(
        "UPDATE task SET status = 'DRAWN', seed_revealed = true, drawn_at = now(),"
        " population = $2, excluded = $3, savings = $4, draw_seed = $5 WHERE id = $1",
        draw.task_id,
        _json(draw.population),
        _json(draw.excluded),
        _json(draw.savings),
        draw.seed,
    )


async def drawn_assignments(
    pool: asyncpg.Pool, task_id: uuid.UUID
) -> list[tuple[str, list[Record]]]:
    """The teams as the draw made them (substitutions left out), in draw order: (USCC, its
    assignments in seat order)."""
    rows = await pool.fetch(
        "SELECT v.uscc, a.inspector_id, a.department, a.role, a.seat, a.rank, a.wider_pool"
        " FROM assignment a JOIN visit v ON v.id = a.visit_id"
        " WHERE v.task_id = $1 AND a.origin = 'DRAW' ORDER BY v.rank, v.id, a.id",
        task_id,
    )
    teams: dict[str, list[Record]] = {}
    for r in rows:
        teams.setdefault(r["uscc"].strip(), []).append(r)
    return list(teams.items())


async def substitutions_of(pool: asyncpg.Pool, task_id: uuid.UUID) -> list[Record]:
    """Every substitution of a task in the order made: the visit's entity, who went out and
    who came in (with the seat, rank and wider-pool flag of the incoming seat), and why."""
    return await pool.fetch(
        "SELECT v.uscc, o.inspector_id AS out_id, a.inspector_id AS in_id, a.department,"
        " a.seat, a.rank, a.wider_pool, o.reason, a.assigned_at"
        " FROM assignment a JOIN visit v ON v.id = a.visit_id"
        " JOIN assignment o ON o.replaced_by = a.id"
        " WHERE v.task_id = $1 AND a.origin = 'SUBSTITUTION' ORDER BY a.id",
        task_id,
    )


async def snapshot_of(pool: asyncpg.Pool, task_id: uuid.UUID) -> Record | None:
    return await pool.fetchrow("SELECT * FROM task_population WHERE task_id = $1", task_id)


# -- observers of the seed -----------------------------------------------------------------
OBSERVER_COLUMNS = (
    "task_id, ordinal, name, kind, department, credential_sha256 IS NOT NULL AS credential_issued,"
    " commitment, committed_at, share, revealed_at"
)


async def insert_observers(
    conn: asyncpg.Connection, task_id: uuid.UUID, observers: Sequence[dict[str, Any]]
) -> None:
    await conn.executemany(
        "INSERT INTO task_observer (task_id, ordinal, name, kind, department)"
        " VALUES ($1, $2, $3, $4, $5)",
        [(task_id, n, o["name"], o["kind"], o["department"]) for n, o in enumerate(observers, 1)],
    )


async def observers_of(
    conn: asyncpg.Connection | asyncpg.Pool, task_ids: Sequence[uuid.UUID]
) -> list[Record]:
    return await conn.fetch(
        f"SELECT {OBSERVER_COLUMNS} FROM task_observer WHERE task_id = ANY($1)"
        " ORDER BY task_id, ordinal",
        list(task_ids),
    )


async def set_observer_credential(
    conn: asyncpg.Connection, task_id: uuid.UUID, ordinal: int, credential_sha256: str
) -> bool:
    done = await conn.execute(
        "UPDATE task_observer SET credential_sha256 = $3 WHERE task_id = $1 AND ordinal = $2",
        task_id,
        ordinal,
        credential_sha256,
    )
    return done.endswith(" 1")


async def lock_observer(
    conn: asyncpg.Connection, task_id: uuid.UUID, credential_sha256: str
) -> Record | None:
    return await conn.fetchrow(
        f"SELECT {OBSERVER_COLUMNS} FROM task_observer"
        " WHERE task_id = $1 AND credential_sha256 = $2 FOR UPDATE",
        task_id,
        credential_sha256,
    )


async def commit_share(
    conn: asyncpg.Connection, task_id: uuid.UUID, ordinal: int, commitment: str
) -> None:
    await conn.execute(
        "UPDATE task_observer SET commitment = $3, committed_at = now()"
        " WHERE task_id = $1 AND ordinal = $2",
        task_id,
        ordinal,
        commitment,
    )


async def reveal_share(
    conn: asyncpg.Connection, task_id: uuid.UUID, ordinal: int, share: bytes
) -> None:
    await conn.execute(
        "UPDATE task_observer SET share = $3, revealed_at = now()"
        " WHERE task_id = $1 AND ordinal = $2",
        task_id,
        ordinal,
        share,
    )


# -- visits and teams -------------------------------------------------------------------------
VISIT_COLUMNS = (
    "id, task_id, uscc, entity_name, district, kind, industry, grade, rank, state,"
    " (SELECT body FROM form WHERE form.hash = visit.form_hash) AS form"
)


async def visits_of(
    conn: asyncpg.Connection | asyncpg.Pool,
    task_id: uuid.UUID,
    states: Sequence[str] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Record]:
    """Visits in draw order (their rank); a page of them when `limit` is given."""
    return await conn.fetch(
        f"SELECT {VISIT_COLUMNS} FROM visit WHERE task_id = $1"
        " AND ($2::text[] IS NULL OR state = ANY($2)) ORDER BY rank, id LIMIT $3 OFFSET $4",
        task_id,
        list(states) if states else None,
        limit,
        offset,
    )


async def visit_counts(pool: asyncpg.Pool, task_id: uuid.UUID) -> dict[str, int]:
    rows = await pool.fetch(
        "SELECT state, count(*) FROM visit WHERE task_id = $1 GROUP BY state", task_id
    )
    return {r[0]: r[1] for r in rows}


async def lock_visit(conn: asyncpg.Connection, visit_id: uuid.UUID) -> Record | None:
    return await conn.fetchrow(
        f"SELECT {VISIT_COLUMNS} FROM visit WHERE id = $1 FOR UPDATE", visit_id
    )


async def get_visit(pool: asyncpg.Pool | asyncpg.Connection, visit_id: uuid.UUID) -> Record | None:
    return await pool.fetchrow(f"SELECT {VISIT_COLUMNS} FROM visit WHERE id = $1", visit_id)


async def assignments_of(
    conn: asyncpg.Connection | asyncpg.Pool, visit_ids: Sequence[uuid.UUID], current_only: bool
) -> list[Record]:
    only = " AND replaced_at IS NULL" if current_only else ""
    return await conn.fetch(
        "SELECT * FROM assignment WHERE visit_id = ANY($1)" + only + " ORDER BY visit_id, id",
        list(visit_ids),
    )


async def task_loads(conn: asyncpg.Connection, task_id: uuid.UUID) -> dict[str, int]:
    """Seats each inspector holds across the task now: substitution keeps workload even."""
    rows = await conn.fetch(
        "SELECT a.inspector_id, count(*) FROM assignment a JOIN visit v ON v.id = a.visit_id"
        " WHERE v.task_id = $1 AND a.replaced_at IS NULL GROUP BY a.inspector_id",
        task_id,
    )
    return {r[0]: r[1] for r in rows}


async def replace_assignment(
    conn: asyncpg.Connection, old_id: int, visit_id: uuid.UUID, new: dict[str, Any], reason: str
) -> int:
    new_id = await conn.fetchval(
        "INSERT INTO assignment (visit_id, inspector_id, department, role, wider_pool, rank,"
        " seat, origin) VALUES ($1, $2, $3, $4, $5, $6, $7, 'SUBSTITUTION') RETURNING id",
        visit_id,
        new["inspector_id"],
        new["department"],
        new["role"],
        new["wider_pool"],
        new["rank"],
        new["seat"],
    )
    await conn.execute(
        "UPDATE assignment SET replaced_at = now(), replaced_by = $2, reason = $3 WHERE id = $1",
        old_id,
        new_id,
        reason,
    )
    return new_id


# -- results, publication ------------------------------------------------------------------
async def latest_result(
    conn: asyncpg.Connection | asyncpg.Pool, visit_id: uuid.UUID
) -> Record | None:
    return await conn.fetchrow(
        "SELECT * FROM result WHERE visit_id = $1 ORDER BY version DESC LIMIT 1", visit_id
    )


async def latest_results(
    conn: asyncpg.Connection | asyncpg.Pool, visit_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Record]:
    rows = await conn.fetch(
        "SELECT DISTINCT ON (visit_id) * FROM result WHERE visit_id = ANY($1)"
        " ORDER BY visit_id, version DESC",
        list(visit_ids),
    )
    return {r["visit_id"]: r for r in rows}


async def insert_result(
    conn: asyncpg.Connection,
    visit_id: uuid.UUID,
    category: str,
    entries: list[dict[str, Any]],
    concluded_on: date,
    actor: str,
    subject: str,
    department: str,
    outside_window: bool,
) -> int:
    version = await conn.fetchval(
        "INSERT INTO result (visit_id, version, category, entries, concluded_on, entered_by,"
        " entered_subject, entered_department, outside_window)"
        " SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6, $7, $8 FROM result"
        " WHERE visit_id = $1 RETURNING version",
        visit_id,
        category,
        _json(entries),
        concluded_on,
        actor,
        subject,
        department,
        outside_window,
    )
    await conn.execute("UPDATE visit SET state = 'PENDING_REVIEW' WHERE id = $1", visit_id)
    return version


async def review_result(
    conn: asyncpg.Connection,
    visit_id: uuid.UUID,
    version: int,
    approve: bool,
    comment: str,
    actor: str,
) -> None:
    await conn.execute(
        "UPDATE result SET reviewed_by = $3, reviewed_at = now(), approved = $4,"
        " review_comment = $5 WHERE visit_id = $1 AND version = $2",
        visit_id,
        version,
        actor,
        approve,
        comment,
    )
    await conn.execute(
        "UPDATE visit SET state = $2 WHERE id = $1", visit_id, "APPROVED" if approve else "RETURNED"
    )


async def insert_publications(conn: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> None:
    await conn.copy_records_to_table(
        "publication",
        records=rows,
        columns=[
            "visit_id",
            "task_id",
            "uscc",
            "published_on",
            "deadline",
            "late",
            "record",
            "provisional",
        ],
    )
    await conn.execute(
        "UPDATE visit SET state = 'PUBLISHED' WHERE id = ANY($1)", [r[0] for r in rows]
    )


async def published(
    pool: asyncpg.Pool,
    uscc: str | None,
    task_id: uuid.UUID | None,
    after: tuple[date, uuid.UUID] | None,
    limit: int,
) -> list[Record]:
    args: list[Any] = []
    conds = []
    if uscc:
        args.append(uscc)
        conds.append(f"uscc = ${len(args)}")
    if task_id:
        args.append(task_id)
        conds.append(f"task_id = ${len(args)}")
    if after:
        args += [after[0], after[1]]
        conds.append(f"(published_on, visit_id) < (${len(args) - 1}, ${len(args)})")
    args.append(limit)
    where = f"WHERE {' AND '.join(conds)}" if conds else ""
    return await pool.fetch(
        f"SELECT * FROM publication {where} ORDER BY published_on DESC, visit_id DESC"
        f" LIMIT ${len(args)}",
        *args,
    )


async def joint_inspections(
    pool: asyncpg.Pool | asyncpg.Connection, usccs: Sequence[str]
) -> list[tuple[str, str, date, list[str]]]:
    """Every joint visit of these entities with its team as it went (substitutes in, the
    replaced out), one row per department on the team: (uscc, department, date, inspector
    ids). The date is the result's conclusion, or the draw's date while none is entered;
    visits closed unfinished never happened."""
    rows = await pool.fetch(
        "SELECT v.uscc, a.department, coalesce(r.concluded_on, p.drawn_on),"
        " array_agg(a.inspector_id ORDER BY a.id)"
        " FROM visit v JOIN task_population p ON p.task_id = v.task_id"
        " JOIN assignment a ON a.visit_id = v.id AND a.replaced_at IS NULL"
        " LEFT JOIN LATERAL (SELECT concluded_on FROM result WHERE result.visit_id = v.id"
        "   ORDER BY version DESC LIMIT 1) r ON true"
        " WHERE v.uscc = ANY($1) AND v.state <> 'CLOSED_UNFINISHED'"
        " GROUP BY v.id, v.uscc, a.department, r.concluded_on, p.drawn_on",
        list(usccs),
    )
    return [(r[0].strip(), r[1], r[2], list(r[3])) for r in rows]


async def recently_concluded(
    pool: asyncpg.Pool | asyncpg.Connection, since: date
) -> dict[str, date]:
    """Entities whose joint visits concluded on or after `since` (these count as inspected)."""
    rows = await pool.fetch(
        "SELECT v.uscc, max(r.concluded_on) FROM result r JOIN visit v ON v.id = r.visit_id"
        " WHERE r.concluded_on >= $1 GROUP BY v.uscc",
        since,
    )
    return {r[0].strip(): r[1] for r in rows}
