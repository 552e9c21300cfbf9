"""Verification: recompute a draw from its revealed seed and frozen snapshot; check the chain."""

from __future__ import annotations

import hashlib
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import date

import asyncpg

from domain.vocabulary import EntityKind
from planning.checklist import merge_checklist
from planning.entity_draw import draw_entities
from planning.ranking import matches_commitment
from planning.team_draw import Visit, draw_teams
from store import tasks as store
from tasks.common import (
    candidates_from_data,
    inspector_from_data,
    item_from_data,
    plan_from_data,
)


@dataclass
class DrawCheck:
    task_id: str
    ok: bool
    commitment_ok: bool = False
    snapshot_ok: bool = False
    entities_ok: bool = False
    teams_ok: bool = False
    entities: int = 0
    visits: int = 0
    problems: list[str] = field(default_factory=list)


async def verify_draw(pool: asyncpg.Pool, task_id: uuid.UUID) -> DrawCheck:
    check = DrawCheck(str(task_id), ok=False)
    task = await store.get_task(pool, task_id)
    if task is None or task["status"] == "DRAFT":
        check.problems.append("no such drawn task")
        return check
    seed = bytes(task["seed"])
    check.commitment_ok = matches_commitment(seed, task["seed_commitment"])
    if not check.commitment_ok:
        check.problems.append("the revealed seed does not match the published commitment")
    snap = await store.snapshot_of(pool, task_id)
    raw = zlib.decompress(snap["data"])
    check.snapshot_ok = hashlib.sha256(raw).hexdigest() == snap["sha256"]
    if not check.snapshot_ok:
        check.problems.append("the frozen snapshot does not match its recorded hash")
    snapshot = store.unpack_snapshot(snap["data"])
    plan = plan_from_data(snapshot["plan"])
    candidates = candidates_from_data(snapshot["candidates"])
    check.entities = len(candidates)
    drawn_on = date.fromisoformat(snapshot["drawnOn"])
    redraw = draw_entities(candidates, plan, seed, drawn_on)

    visits = await store.visits_of(pool, task_id)
    check.visits = len(visits)
    stored = {v["uscc"].strip(): v["rank"] for v in visits}
    recomputed = {d.uscc: d.rank_hex for d in redraw.drawn}
    check.entities_ok = stored == recomputed
    if not check.entities_ok:
        extra = sorted(set(stored) - set(recomputed))[:3]
        missing = sorted(set(recomputed) - set(stored))[:3]
        check.problems.append(f"entities differ: stored only {extra}, recomputed only {missing}")

    items = [item_from_data(i) for i in snapshot["items"]]
    inspectors = [inspector_from_data(i) for i in snapshot["inspectors"]]
    plan_visits = []
    for d in redraw.drawn:
        kind, industry, district = snapshot["entities"][d.uscc]
        form = merge_checklist(EntityKind(kind), industry, items)
        plan_visits.append(
            Visit(d.uscc, district, form, frozenset(snapshot["previous"].get(d.uscc, ())))
        )
    teams = draw_teams(
        plan_visits,
        inspectors,
        seed,
        team_size=snapshot["teamSize"],
        lead_department=snapshot["lead"],
    )
    original = await pool.fetch(
        "SELECT v.uscc, a.inspector_id FROM assignment a JOIN visit v ON v.id = a.visit_id"
        " WHERE v.task_id = $1 AND a.origin = 'DRAW' ORDER BY a.id",
        task_id,
    )
    stored_teams: dict[str, list[str]] = {}
    for r in original:
        stored_teams.setdefault(r[0].strip(), []).append(r[1])
    recomputed_teams = {t.uscc: list(t.inspector_ids) for t in teams.teams}
    check.teams_ok = stored_teams == recomputed_teams
    if not check.teams_ok:
        check.problems.append("team assignments differ from the recomputed draw")
    check.ok = check.commitment_ok and check.snapshot_ok and check.entities_ok and check.teams_ok
    return check
