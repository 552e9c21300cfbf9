"""Draws frozen by earlier releases, kept as fixtures and loaded into a test's hub store.

tests/fixtures/draw_made_before_the_pure_draw.json was frozen by the release before the draw
became one pure function (commit 9212c33): a task of 377 entities with an exclusion window, a
floor, a cap and listed-entity weighting, teams of three, and two substitutions — every row it
wrote (task, frozen inputs, forms, visits, assignments, audit entries), dumped as it was.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

import asyncpg

from store.migrate import MIGRATIONS

FIXTURES = Path(__file__).parent / "fixtures"
BEFORE_THE_PURE_DRAW = FIXTURES / "draw_made_before_the_pure_draw.json"
FROZEN_AT_MIGRATION = 3  # the hub store's schema when it was frozen


def _value(v: Any) -> Any:
    if isinstance(v, dict) and len(v) == 1:
        ((tag, raw),) = v.items()
        if tag == "$bytes":
            return base64.b64decode(raw)
        if tag == "$datetime":
            return datetime.fromisoformat(raw)
        if tag == "$date":
            return date.fromisoformat(raw)
    return v


async def load(conn: asyncpg.Connection, path: Path = BEFORE_THE_PURE_DRAW) -> uuid.UUID:
    """Insert a frozen draw's rows as they were (once per store); returns the task id.
    Serial ids are renumbered (the store may hold other rows) keeping their order."""
    rows = json.loads(path.read_text())
    tables = {t: [{k: _value(v) for k, v in r.items()} for r in rs] for t, rs in rows.items()}
    (task,) = tables["task"]
    task_id = uuid.UUID(task["id"])
    for r in tables["visit"]:
        r["id"], r["task_id"] = uuid.UUID(r["id"]), uuid.UUID(r["task_id"])
    for r in tables["assignment"]:
        r["visit_id"] = uuid.UUID(r["visit_id"])
    task["id"] = task_id
    tables["task_population"][0]["task_id"] = task_id
    if await conn.fetchval("SELECT 1 FROM task WHERE id = $1", task_id):
        return task_id  # loaded by an earlier test of this run
    async with conn.transaction():
        await _insert(conn, "task", [task])
        await _insert(conn, "task_population", tables["task_population"])
        for form in tables["form"]:
            await conn.execute(
                "INSERT INTO form (hash, body) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                form["hash"],
                form["body"],
            )
        await _insert(conn, "visit", tables["visit"])
        new_id: dict[int, int] = {}
        replaced: list[tuple[int, int]] = []  # (new id, old id of its replacement)
        for a in tables["assignment"]:
            old, replaced_by = a.pop("id"), a.pop("replaced_by")
            new_id[old] = await _insert(conn, "assignment", [a], returning="id")
            if replaced_by is not None:
                replaced.append((new_id[old], replaced_by))
        for row_id, by in replaced:
            await conn.execute(
                "UPDATE assignment SET replaced_by = $1 WHERE id = $2", new_id[by], row_id
            )
        for entry in tables["audit"]:
            entry.pop("seq")
            entry["task_id"] = task_id
            await _insert(conn, "audit", [entry])
        for step in data_steps(after=FROZEN_AT_MIGRATION):
            await conn.execute(step)
    return task_id


def data_steps(after: int) -> list[str]:
    """The UPDATE statements on tasks of the migrations after ``after``: what they did to the
    task rows that existed when they ran (here, the one just loaded)."""
    steps = []
    for path in sorted(MIGRATIONS.glob("*.sql")):
        if int(path.name.split("_", 1)[0]) > after:
            text = path.read_text()
            steps += [s.strip() for s in text.split(";") if s.strip().startswith("UPDATE task ")]
    return steps


async def _insert(
    conn: asyncpg.Connection, table: str, rows: list[dict[str, Any]], returning: str = ""
) -> Any:
    last = None
    for r in rows:
        cols = list(r)
        sql = (
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES"
            f" ({', '.join(f'${i + 1}' for i in range(len(cols)))})"
            + (f" RETURNING {returning}" if returning else "")
        )
        last = await conn.fetchval(sql, *r.values())
    return last
