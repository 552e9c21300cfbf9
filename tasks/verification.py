"""Verification: recompute a draw from its revealed seed and frozen inputs with the one draw
(planning.draw), and compare it with what was stored."""

from __future__ import annotations

import hashlib
import uuid
import zlib
from dataclasses import dataclass, field

import asyncpg

from planning.draw import Draw, DrawInputs, draw
from planning.ranking import joint_seed, matches_commitment
from planning.substitution import substitute
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
    substitutions_ok: bool = False
    entities: int = 0
    visits: int = 0
    problems: list[str] = field(default_factory=list)


async def verify_draw(pool: asyncpg.Pool, task_id: uuid.UUID) -> DrawCheck:
    check = DrawCheck(str(task_id), ok=False)
    task = await store.get_task(pool, task_id)
    if task is None or task["status"] == "DRAFT":
        check.problems.append("no such drawn task")
        return check
    seed = bytes(task["draw_seed"])
    observers = await store.observers_of(pool, [task_id])
    check.commitment_ok = matches_commitment(bytes(task["seed"]), task["seed_commitment"])
    if not check.commitment_ok:
        check.problems.append("the hub's revealed share does not match its commitment")
    for o in observers:
        if o["share"] is None or not matches_commitment(bytes(o["share"]), o["commitment"]):
            check.commitment_ok = False
            check.problems.append(f"observer {o['ordinal']}'s share does not match its commitment")
    if observers and all(o["share"] is not None for o in observers):
        joint = joint_seed(bytes(task["seed"]), [bytes(o["share"]) for o in observers])
    else:
        joint = bytes(task["seed"])
    if joint != seed:
        check.commitment_ok = False
        check.problems.append("the draw's seed is not the one its shares make")
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

    stored_teams = {
        u: [a["inspector_id"] for a in members]
        for u, members in await store.drawn_assignments(pool, task_id)
    }
    recomputed_teams = {t.uscc: list(t.inspector_ids) for t in redraw.teams.teams}
    check.teams_ok = stored_teams == recomputed_teams
    if not check.teams_ok:
        check.problems.append("team assignments differ from the recomputed draw")
    replayed = await _substitutions(pool, task_id, inputs, redraw, seed)
    check.substitutions_ok = not replayed
    check.problems += replayed
    check.ok = (
        check.commitment_ok
        and check.snapshot_ok
        and check.entities_ok
        and check.teams_ok
        and check.substitutions_ok
    )
    return check


async def _substitutions(
    pool: asyncpg.Pool, task_id: uuid.UUID, inputs: DrawInputs, redraw: Draw, seed: bytes
) -> list[str]:
    """Replay every substitution in the order made, each with the task's loads and the
    visit's history as they were then; name the ones that differ."""
    teams = {t.uscc: t for t in redraw.teams.teams}
    visits = {v.uscc: v for v in redraw.visits}
    loads = dict(redraw.teams.loads)
    history = {u: set(t.inspector_ids) for u, t in teams.items()}
    problems = []
    for n, s in enumerate(await store.substitutions_of(pool, task_id), 1):
        uscc = s["uscc"].strip()
        try:
            team, made = substitute(
                teams[uscc],
                visits[uscc],
                inputs.teams.inspectors,
                seed,
                s["out_id"],
                s["reason"],
                loads=loads,
                exclude=history[uscc],
            )
        except (KeyError, ValueError) as e:
            problems.append(f"substitution {n} ({uscc}) cannot be replayed: {e}")
            break
        if (made.in_id, made.rank_hex, made.wider_pool) != (s["in_id"], s["rank"], s["wider_pool"]):
            problems.append(
                f"substitution {n} ({uscc}): recomputed {made.in_id}, stored {s['in_id']}"
            )
        teams[uscc] = team
        history[uscc].add(made.in_id)
        loads[made.out_id] -= 1
        loads[made.in_id] = loads.get(made.in_id, 0) + 1
    return problems
