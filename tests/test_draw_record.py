"""A draw anyone can recompute: the public draw record (drawRecord, hub export-draw) checked by
verify/verify_draw.py — the stand-alone verifier, run here as a plain python3 with nothing of
the hub importable — on draws with random plans, on a draw frozen by an earlier release, and
on tampered records."""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from adapters.settings import ROOT
from tasks.verification import verify_draw
from tests import frozen_draws
from tests.conftest import ADMIN_URL, Hub
from tests.test_joint_tasks import DRAW, SUBSTITUTE, create

VERIFIER = ROOT / "verify" / "verify_draw.py"
PLAIN_PYTHON = shutil.which("python3", path=os.defpath) or "python3"  # not the project's venv
RECORD = "query($t: ID!) { drawRecord(taskId: $t) }"
DISTRICTS = ["370202", "370203", "370211", "370212", "370213"]
DEPARTMENT_SETS = [["culture", "fire"], ["culture"], ["fire", "ecology"], ["emergency", "fire"]]


async def public_record(hub: Hub, task_id: str) -> dict[str, Any]:
    """The record as the public gets it: no credentials at all."""
    body = await hub.gql(RECORD, {"t": task_id}, headers={})
    assert "errors" not in body, body
    return body["data"]["drawRecord"]


async def verify_stand_alone(record: dict[str, Any], tmp: Path) -> tuple[int, str]:
    """Run the verifier as anyone would: a plain python3, isolated (-I), from an empty folder."""
    path = tmp / f"record-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps(record, ensure_ascii=False))
    proc = await asyncio.create_subprocess_exec(
        PLAIN_PYTHON,
        "-I",
        str(VERIFIER),
        str(path),
        cwd=tmp,
        env={"PATH": os.defpath},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


def random_plan(rnd: random.Random) -> dict[str, Any]:
    floor = rnd.choice([0, 0, 5, 20, 60])
    return {
        "ratios": [
            {"grade": g, "ratio": rnd.choice([0, 0.03, 0.05, 0.1, 0.2, 0.5, 1.0])}
            for g in "ABCD"
            if rnd.random() < 0.9
        ]
        or [{"grade": "B", "ratio": 0.1}],
        "floor": floor,
        "cap": rnd.choice([None, None, floor, floor + 10, floor + 40]),
        "exclusionDays": rnd.choice([None, 0, 30, 365, 1095]),
        "abnormalMultiplier": rnd.choice([1.0, 2.0, 3.0, 1.5]),
        "alwaysIncludeAbnormal": rnd.random() < 0.25,
        "capPolicy": rnd.choice(["RISK_FIRST", "PROPORTIONAL"]),
    }


async def random_draw(hub: Hub, rnd: random.Random) -> tuple[str, int]:
    """A drawn task with a random plan, scope and team size, with up to three substitutions;
    its id and the number of substitutions made."""
    scope = {"district": rnd.sample(DISTRICTS, rnd.randint(1, 3))} if rnd.random() < 0.6 else {}
    task = await create(
        hub,
        departments=rnd.choice(DEPARTMENT_SETS),
        scope=scope,
        plan=random_plan(rnd),
        teamSize=rnd.choice([2, 2, 3]),
    )
    body = await hub.gql(DRAW, {"id": task["id"]})
    assert "errors" not in body, body
    visits = body["data"]["drawJointInspection"]["visits"]
    made = 0
    for visit in rnd.sample(visits, min(len(visits), rnd.choice([0, 1, 3]))):
        out = rnd.choice(visit["team"])["inspectorId"]
        sub = await hub.gql(SUBSTITUTE, {"v": visit["id"], "i": out, "r": "请假"})
        if "errors" not in sub:  # a small pool may have no one left: refused, nothing changed
            made += 1
    return task["id"], made


async def test_fifty_random_draws_recompute_stand_alone(hub: Hub, tmp_path: Path) -> None:
    rnd = random.Random(20261201)
    substitutions = listed = proportional = excluded = 0
    for n in range(50):
        task_id, made = await random_draw(hub, rnd)
        record = await public_record(hub, task_id)
        code, out = await verify_stand_alone(record, tmp_path)
        assert code == 0, f"draw {n} ({task_id}):\n{out}"
        assert "MATCH: every part" in out
        substitutions += made
        listed += record["population"]["columns"]["abnormal"].count("1") > 0
        proportional += record["plan"]["capPolicy"] == "PROPORTIONAL"
        excluded += record["population"]["excluded"]["RECENTLY_INSPECTED"] > 0
    # The random plans did exercise what the specification covers.
    assert substitutions >= 10 and listed >= 10 and proportional >= 10 and excluded >= 5


async def test_a_draw_frozen_before_the_pure_draw_recomputes_stand_alone(
    hub: Hub, tmp_path: Path
) -> None:
    conn = await asyncpg.connect(hub.app.state.store.dsn)
    try:
        task_id = await frozen_draws.load(conn)
    finally:
        await conn.close()
    record = await public_record(hub, str(task_id))
    assert len(record["substitutions"]) == 2
    code, out = await verify_stand_alone(record, tmp_path)
    assert code == 0, out
    assert (await verify_draw(hub.app.state.store.pool, task_id)).substitutions_ok


TAMPERING = {
    "a drawn entity's rank": lambda r: r["drawn"][0].update(rank="0" * 64),
    "an inspector on a team": lambda r: r["teams"][0]["members"][0].update(inspector="X-1"),
    "a grade in the population": lambda r: r["population"]["columns"].update(
        grade="D" + r["population"]["columns"]["grade"][1:]
    ),
    "the seed": lambda r: r["seed"].update(seed="ab" * 32),
    "the population's counts": lambda r: r["population"]["byGrade"]["B"].update(drawn=0),
    "a substitute": lambda r: r["substitutions"][0].update({"in": r["substitutions"][0]["out"]}),
}


@pytest.mark.parametrize("part", TAMPERING)
async def test_a_tampered_record_does_not_verify(hub: Hub, tmp_path: Path, part: str) -> None:
    task = await create(hub, plan={"ratios": [{"grade": g, "ratio": 0.2} for g in "ABCD"]})
    drawn = (await hub.gql(DRAW, {"id": task["id"]}))["data"]["drawJointInspection"]
    visit = drawn["visits"][0]
    await hub.gql(SUBSTITUTE, {"v": visit["id"], "i": visit["team"][0]["inspectorId"], "r": "x"})
    record = await public_record(hub, task["id"])
    TAMPERING[part](record)
    code, out = await verify_stand_alone(record, tmp_path)
    assert code == 1, out
    assert "MISMATCH" in out and "DIFFERS" in out


async def test_draw_record_is_public_and_names_no_one(hub: Hub) -> None:
    task = await create(hub)
    before = await public_record(hub, task["id"])
    assert before["task"]["status"] == "DRAFT" and "population" not in before
    assert before["seed"]["hubShare"] is None and len(before["seed"]["hubCommitment"]) == 64
    await hub.gql(DRAW, {"id": task["id"]})
    text = json.dumps(await public_record(hub, task["id"]), ensure_ascii=False)
    people = [
        (r["name"], r["certificate"])
        for code in ("market", "culture", "fire")
        for r in await hub.registry.get(code).all("inspector")
    ]
    assert people and not [p for p in people if p[0] in text or p[1] in text]
    missing = await hub.gql(RECORD, {"t": str(uuid.uuid4())}, headers={})
    assert missing["data"]["drawRecord"] is None


async def test_export_draw_from_the_shell_verifies(hub: Hub, prefix: str, tmp_path: Path) -> None:
    task = await create(hub)
    await hub.gql(DRAW, {"id": task["id"]})
    env = {**os.environ, "DATABASE_URL": ADMIN_URL, "HUB_DB_PREFIX": prefix}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli",
        "export-draw",
        task["id"],
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    code, report = await verify_stand_alone(json.loads(out), tmp_path)
    assert code == 0, report
