"""Verification: recompute a draw from its revealed seed and frozen inputs with the one draw
(planning.draw), and compare it with what was stored."""

from __future__ import annotations

import hashlib
import uuid
import zlib
from dataclasses import dataclass, field

import asyncpg

from planning.draw import draw
from planning.ranking import matches_commitment
from store import tasks as store
from tasks import snapshot


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
    inputs, drawn_on = snapshot.from_data(store.unpack_snapshot(snap["data"]))
    check.entities = len(inputs.population)
    redraw = draw(inputs, seed, drawn_on)

    visits = await store.visits_of(pool, task_id)
    check.visits = len(visits)
    stored = {v["uscc"].strip(): v["rank"] for v in visits}
    recomputed = {d.uscc: d.rank_hex for d in redraw.entities.drawn}
    check.entities_ok = stored == recomputed
    if not check.entities_ok:
        extra = sorted(set(stored) - set(recomputed))[:3]
        missing = sorted(set(recomputed) - set(stored))[:3]
        check.problems.append(f"entities differ: stored only {extra}, recomputed only {missing}")

    stored_teams = await store.drawn_teams(pool, task_id)
    recomputed_teams = {t.uscc: list(t.inspector_ids) for t in redraw.teams.teams}
    check.teams_ok = stored_teams == recomputed_teams
    if not check.teams_ok:
        check.problems.append("team assignments differ from the recomputed draw")
    check.ok = check.commitment_ok and check.snapshot_ok and check.entities_ok and check.teams_ok
    return check
