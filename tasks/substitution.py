"""Substituting an inspector who cannot go (递补): the next one drawn, with the reason recorded.

Read first: the frozen inspector pool of the draw (immutable once drawn). Then one unit of
work: lock the task and the visit, re-check the visit still waits for its result, read the
team's history and the task's loads, pick the substitute (planning.substitution, the same
rules and seat ranking as the draw), write it and its audit entry. The original assignment
stays in the history.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import orjson

from planning.forms import form_from_data
from planning.substitution import substitute
from planning.team_draw import Assignment, Role, TeamDrawError, Visit, build_team
from resolvers.context import RequestContext
from resolvers.errors import ApiError, bad_input
from store import audit, content
from store import tasks as store
from tasks import notices, snapshot
from tasks.common import (
    INVALID_STATE,
    TEAM_SHORTFALL,
    gathering,
    lock_visit,
    not_found,
    parse_id,
    run_command,
)


async def substitute_inspector(
    ctx: RequestContext, visit_ref: str, inspector_id: str, reason: str, key: str | None
) -> uuid.UUID:
    visit_id = parse_id(visit_ref, "visit")
    if not reason or not reason.strip():
        raise bad_input("a substitution records its reason", "REASON_REQUIRED")
    payload = {"visitId": str(visit_id), "inspectorId": inspector_id, "reason": reason}
    async with gathering():
        found = await store.get_visit(ctx.store.pool, visit_id)
        if found is None:
            raise not_found("visit", visit_id)
        frozen = await store.snapshot_of(ctx.store.pool, found["task_id"])
    if frozen is None:
        raise ApiError(
            "inspectors can be substituted only on a drawn task", INVALID_STATE, state="DRAFT"
        )
    data = store.unpack_snapshot(frozen["data"])
    inspectors = [snapshot.inspector_from_data(d) for d in data["inspectors"]]
    previous = data["previous"]

    async def work(conn: asyncpg.Connection) -> dict[str, Any]:
        task, visit = await lock_visit(conn, visit_id)
        if task["status"] != "DRAWN" or visit["state"] != "NOT_ENTERED":
            raise ApiError(
                "inspectors can be substituted only before the visit's result is "
                "entered, on a drawn task",
                INVALID_STATE,
                state=visit["state"],
            )
        history = await store.assignments_of(conn, [visit_id], current_only=False)
        current = [a for a in history if a["replaced_at"] is None]
        old = next((a for a in current if a["inspector_id"] == inspector_id), None)
        if old is None:
            raise bad_input(
                f"inspector {inspector_id!r} is not on this visit's team",
                "NOT_ON_TEAM",
                inspectorId=inspector_id,
            )
        form = form_from_data(orjson.loads(visit["form"]))
        uscc = visit["uscc"].strip()
        v = Visit(uscc, visit["district"], form, frozenset(previous.get(uscc, ())))
        members = tuple(
            Assignment(
                a["inspector_id"],
                a["department"],
                Role(a["role"]),
                a["wider_pool"],
                a["rank"],
                a["seat"],
            )
            for a in current
        )
        tags = {i.id: i.tags for i in inspectors}
        team = build_team(
            v, members, (), frozenset(t for m in members for t in tags.get(m.inspector_id, ()))
        )
        loads = await store.task_loads(conn, task["id"])
        try:
            new_team, record = substitute(
                team,
                v,
                inspectors,
                bytes(task["draw_seed"]),
                inspector_id,
                reason,
                loads=loads,
                exclude={a["inspector_id"] for a in history},
            )
        except TeamDrawError as e:
            raise ApiError(str(e), TEAM_SHORTFALL) from None
        incoming = next(m for m in new_team.members if m.inspector_id == record.in_id)
        await store.replace_assignment(
            conn,
            old["id"],
            visit_id,
            {
                "inspector_id": incoming.inspector_id,
                "department": incoming.department,
                "role": incoming.role.value,
                "wider_pool": incoming.wider_pool,
                "rank": incoming.rank_hex,
                "seat": incoming.seat,
            },
            record.reason,
        )
        await audit.append(
            conn,
            ctx.store.signer,
            task["id"],
            ctx.actor,
            "SUBSTITUTED",
            {
                "visit": str(visit_id),
                "uscc": uscc,
                "out": record.out_id,
                "in": record.in_id,
                "department": record.department,
                "reason": record.reason,
                "widerPool": record.wider_pool,
            },
            content.Changed(teams=[visit_id]),
        )
        await notices.team_changed(conn, visit_id, old, record.in_id)
        return {"visitId": str(visit_id)}

    await run_command(ctx, "substituteInspector", key, payload, work)
    return visit_id
