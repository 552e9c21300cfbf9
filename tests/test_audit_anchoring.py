"""The audit trail cannot be rewritten quietly: each entry anchors the content of the rows it
wrote, each change is signed into a checkpoint of the task's trail and of the whole log, and
verification names the first missing or altered entry or row.

Each test tampers with a hub store of its own (the `own_store` fixture): the whole log spans
every task of a store, so a tampered store fails everyone's verification."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from store import audit
from tests.conftest import ADMIN_URL, Hub, drop_databases, make_settings, start_hub, token
from tests.test_joint_tasks import CREATE, DRAW, RECORD, REVIEW, outcomes, task_input

TRAIL = """query($t: ID!) { auditTrail(taskId: $t) {
  entries { seq action hash contentHash }
  verification { ok entries firstBrokenSeq firstBrokenEntry reason preAnchoring unanchoredRows
                 problems { message seq entry } checkpoint { count headHash } logEntries } } }"""
CHECKPOINT = """query($t: ID!) { auditCheckpoint(taskId: $t) {
  taskId count headHash signature publicKey signedAt signedMessage } }"""
PUBLISH = """mutation($t: ID!) { publishTaskResults(taskId: $t, closeUnfinished: true,
  reason: "窗口期结束") { status } }"""


async def drawn(hub: Hub) -> dict[str, Any]:
    created = await hub.gql(CREATE, {"input": task_input(uuid.uuid4().hex)})
    body = await hub.gql(DRAW, {"id": created["data"]["createJointInspectionTask"]["id"]})
    assert "errors" not in body, body
    return body["data"]["drawJointInspection"]


async def entered(hub: Hub, task: dict[str, Any]) -> dict[str, Any]:
    """The first visit's result entered by an inspector on its team; returns the visit."""
    visit = task["visits"][0]
    inspector = token(visit["team"][0]["department"]["code"], ("officer", "inspector"), "insp-1")
    entry = {
        "visitId": visit["id"],
        "category": "PROBLEM_CORRECTED",
        "entries": outcomes(visit),
        "concludedOn": date.today().isoformat(),
    }
    body = await hub.gql(RECORD, {"input": entry}, {"authorization": f"Bearer {inspector}"})
    assert body["data"]["recordVisitResult"]["state"] == "PENDING_REVIEW", body
    return visit


async def published(hub: Hub) -> tuple[dict[str, Any], dict[str, Any]]:
    """A task whose first visit was entered, approved and published (five entries)."""
    task = await drawn(hub)
    visit = await entered(hub, task)
    reviewer = token("market", ("officer", "reviewer"), "reviewer-1")
    body = await hub.gql(
        REVIEW, {"v": visit["id"], "ok": True, "c": ""}, {"authorization": f"Bearer {reviewer}"}
    )
    assert body["data"]["reviewVisitResult"]["state"] == "APPROVED", body
    body = await hub.gql(PUBLISH, {"t": task["id"]})
    assert body["data"]["publishTaskResults"]["status"] == "PUBLISHED", body
    return task, visit


async def trail(hub: Hub, task_id: str) -> dict[str, Any]:
    body = await hub.gql(TRAIL, {"t": task_id})
    assert "errors" not in body, body
    return body["data"]["auditTrail"]


def messages(t: dict[str, Any]) -> list[str]:
    return [p["message"] for p in t["verification"]["problems"]]


async def tamper(hub: Hub, *statements: tuple[Any, ...]) -> None:
    conn = await asyncpg.connect(hub.app.state.store.dsn)
    try:
        for sql, *args in statements:
            await conn.execute(sql, *args)
    finally:
        await conn.close()


async def rewrite(hub: Hub, task_id: str, action: str, key: str, value: Any) -> None:
    """Set detail[key] of the task's `action` entry and recompute every hash after it, in the
    task's chain and in the whole log: all but the signed checkpoints agree again."""
    conn = await asyncpg.connect(hub.app.state.store.dsn)
    try:
        rows = await audit.trail(conn, uuid.UUID(task_id))
        prev = audit.genesis(task_id)
        for r in rows:
            detail = orjson.loads(r["detail"])
            if r["action"] == action:
                detail[key] = value
            h = audit.entry_hash(
                prev, task_id, r["at"], r["actor"], r["action"], detail, r["content"]
            )
            await conn.execute(
                "UPDATE audit SET detail = $2, prev_hash = $3, hash = $4 WHERE seq = $1",
                r["seq"],
                orjson.dumps(detail).decode(),
                prev,
                h,
            )
            prev = h
        log_prev = audit.LOG_GENESIS
        for r in await conn.fetch(
            "SELECT seq, hash FROM audit WHERE log_index IS NOT NULL ORDER BY log_index"
        ):
            log_hash = audit.log_hash(log_prev, r["hash"])
            await conn.execute(
                "UPDATE audit SET log_prev = $2, log_hash = $3 WHERE seq = $1",
                r["seq"],
                log_prev,
                log_hash,
            )
            log_prev = log_hash
    finally:
        await conn.close()


async def verify_audit_cli(hub: Hub, task_id: str, *args: str) -> tuple[int, str]:
    env = {
        **os.environ,
        "DATABASE_URL": ADMIN_URL,
        "HUB_DB_PREFIX": hub.app.state.settings.db_prefix,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli",
        "verify-audit",
        task_id,
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_an_intact_trail_verifies_with_every_row_anchored(own_store: Hub) -> None:
    task, _ = await published(own_store)
    t = await trail(own_store, task["id"])
    assert [e["action"] for e in t["entries"]] == [
        "CREATED",
        "DRAWN",
        "RESULT_ENTERED",
        "APPROVED",
        "PUBLISHED",
    ]
    assert all(e["contentHash"] for e in t["entries"])
    v = t["verification"]
    assert v["ok"], v["problems"]
    assert v["checkpoint"] == {"count": 5, "headHash": t["entries"][-1]["hash"]}
    assert v["preAnchoring"] == 0 and v["logEntries"] == 5
    code, out = await verify_audit_cli(own_store, task["id"])
    assert code == 0 and "chain intact" in out, out


async def test_truncated_trail_names_the_first_missing_entry(
    own_store: Hub, tmp_path: Path
) -> None:
    task = await drawn(own_store)
    visit = await entered(own_store, task)
    reviewer = token("market", ("officer", "reviewer"), "reviewer-1")
    body = await own_store.gql(
        REVIEW,
        {"v": visit["id"], "ok": False, "c": "请补充整改照片"},
        {"authorization": f"Bearer {reviewer}"},
    )
    assert body["data"]["reviewVisitResult"]["state"] == "RETURNED", body
    kept = await own_store.gql(CHECKPOINT, {"t": task["id"]}, headers={})  # public: no token
    assert kept["data"]["auditCheckpoint"]["count"] == 4
    saved = tmp_path / "checkpoint.json"
    saved.write_bytes(orjson.dumps(kept))
    cut = [e["seq"] for e in (await trail(own_store, task["id"]))["entries"]][2:]
    await tamper(
        own_store,
        ("DELETE FROM audit_anchor WHERE seq = ANY($1)", cut),
        ("DELETE FROM audit WHERE seq = ANY($1)", cut),
    )
    t = await trail(own_store, task["id"])
    v = t["verification"]
    assert not v["ok"] and v["firstBrokenEntry"] == 3
    assert v["reason"].startswith("entry #3 of the trail is missing: the checkpoint signed at")
    assert any("the whole log has 2 entries" in m for m in messages(t))
    code, out = await verify_audit_cli(own_store, task["id"])
    assert code == 1 and "entry #3 of the trail is missing" in out, out

    # Roll everything back to the state after the draw, the hub's own checkpoints included:
    # the store agrees with itself again, and only a checkpoint kept outside the hub still
    # shows what was cut.
    vid = uuid.UUID(visit["id"])
    await tamper(
        own_store,
        ("DELETE FROM result WHERE visit_id = $1", vid),
        ("UPDATE visit SET state = 'NOT_ENTERED' WHERE id = $1", vid),
        ("DELETE FROM audit_checkpoint WHERE count > 2",),
    )
    assert (await trail(own_store, task["id"]))["verification"]["ok"]
    code, out = await verify_audit_cli(own_store, task["id"], "--checkpoint", str(saved))
    assert code == 1, out
    assert "entry #3 of the trail is missing: the kept checkpoint signed at" in out, out


async def test_rehashed_trail_is_caught_by_the_signed_checkpoint(own_store: Hub) -> None:
    task = await drawn(own_store)
    await entered(own_store, task)
    entries = (await trail(own_store, task["id"]))["entries"]
    drawn_seq = entries[1]["seq"]
    # Edit the DRAWN entry, then recompute every hash after it: the task's chain and the log.
    await rewrite(own_store, task["id"], "DRAWN", "entitiesDrawn", 999)
    v = (await trail(own_store, task["id"]))["verification"]
    found = messages(await trail(own_store, task["id"]))
    assert not any("match its hash" in m or "does not follow" in m for m in found), found
    assert not v["ok"] and v["firstBrokenSeq"] == drawn_seq and v["firstBrokenEntry"] == 2
    assert v["reason"].startswith(f"entry #2 of the trail (seq {drawn_seq}) differs from the one")
    assert any("the log was rewritten" in m for m in found)
    code, out = await verify_audit_cli(own_store, task["id"])
    assert code == 1 and f"seq {drawn_seq}" in out, out


async def test_result_row_edited_directly_is_named(own_store: Hub) -> None:
    task, visit = await published(own_store)
    last = (await trail(own_store, task["id"]))["entries"][-1]["seq"]
    await tamper(
        own_store,
        (
            "UPDATE result SET category = 'NO_PROBLEM' WHERE visit_id = $1",
            uuid.UUID(visit["id"]),
        ),
    )
    v = (await trail(own_store, task["id"]))["verification"]
    assert not v["ok"]
    assert f"result of visit {visit['id']} version 1 was altered after entry seq {last}" in [
        p["message"] for p in v["problems"]
    ]


async def test_publication_row_edited_directly_is_named(own_store: Hub) -> None:
    task, visit = await published(own_store)
    last = (await trail(own_store, task["id"]))["entries"][-1]["seq"]
    await tamper(
        own_store,
        (
            "UPDATE publication SET record = jsonb_set(record, '{category}', '\"NO_PROBLEM\"')"
            " WHERE visit_id = $1",
            uuid.UUID(visit["id"]),
        ),
    )
    public = await own_store.gql(
        "query($t: ID!) { publishedResults(taskId: $t) { edges { node { category } } } }",
        {"t": task["id"]},
        headers={},
    )
    assert public["data"]["publishedResults"]["edges"][0]["node"]["category"] == "NO_PROBLEM"
    v = (await trail(own_store, task["id"]))["verification"]
    assert not v["ok"]
    assert f"publication of visit {visit['id']} was altered after entry seq {last}" in [
        p["message"] for p in v["problems"]
    ]


async def test_inspector_swapped_in_an_assignment_row_is_named(own_store: Hub) -> None:
    task = await drawn(own_store)
    visit, other = task["visits"][0], task["visits"][1]
    drawn_seq = (await trail(own_store, task["id"]))["entries"][1]["seq"]
    stranger = next(
        m["inspectorId"]
        for m in other["team"]
        if m["inspectorId"] not in {t["inspectorId"] for t in visit["team"]}
    )
    await tamper(
        own_store,
        (
            "UPDATE assignment SET inspector_id = $2 WHERE id = (SELECT min(id) FROM assignment"
            " WHERE visit_id = $1)",
            uuid.UUID(visit["id"]),
            stranger,
        ),
    )
    v = (await trail(own_store, task["id"]))["verification"]
    assert not v["ok"]
    assert v["reason"] == (
        f"team (assignments) of visit {visit['id']} was altered after entry seq {drawn_seq}"
    )


async def test_deleting_a_whole_tasks_trail_fails_the_log(own_store: Hub) -> None:
    gone = await drawn(own_store)
    kept = await drawn(own_store)
    seqs = [e["seq"] for e in (await trail(own_store, gone["id"]))["entries"]]
    await tamper(
        own_store,
        ("DELETE FROM audit_anchor WHERE seq = ANY($1)", seqs),
        ("DELETE FROM audit WHERE seq = ANY($1)", seqs),
        ("DELETE FROM audit_checkpoint WHERE scope = $1", gone["id"]),
    )
    v = (await trail(own_store, kept["id"]))["verification"]
    assert not v["ok"]
    assert any(
        "does not follow log entry #2" in m or "the whole log has 2 entries" in m
        for m in messages(await trail(own_store, kept["id"]))
    ), v


async def test_trail_of_a_draw_before_anchoring_still_verifies(own_store: Hub) -> None:
    """The rows a draw left before this change (format 1: no content hashes, no place in the
    log, no checkpoints) verify as pre-anchoring; what happens after them is anchored."""
    task = await drawn(own_store)
    task_id = uuid.UUID(task["id"])
    conn = await asyncpg.connect(own_store.app.state.store.dsn)
    try:  # the store as the earlier hub left it
        await conn.execute("DELETE FROM audit_anchor")
        await conn.execute("DELETE FROM audit_checkpoint")
        prev = audit.genesis(task["id"])
        for r in await audit.trail(conn, task_id):
            h = audit.entry_hash(
                prev,
                task["id"],
                r["at"],
                r["actor"],
                r["action"],
                orjson.loads(r["detail"]),
                fmt=1,
            )
            await conn.execute(
                "UPDATE audit SET format = 1, content = NULL, task_index = NULL, log_index = NULL,"
                " log_prev = NULL, log_hash = NULL, prev_hash = $2, hash = $3 WHERE seq = $1",
                r["seq"],
                prev,
                h,
            )
            prev = h
    finally:
        await conn.close()
    v = (await trail(own_store, task["id"]))["verification"]
    assert v["ok"], v["problems"]
    assert v["preAnchoring"] == 2 and v["unanchoredRows"] > 0 and v["checkpoint"] is None
    public = await own_store.gql(CHECKPOINT, {"t": task["id"]}, headers={})
    assert public["data"]["auditCheckpoint"] is None

    visit = await entered(own_store, task)  # the old task goes on: the new entry is anchored
    t = await trail(own_store, task["id"])
    assert t["verification"]["ok"], t["verification"]["problems"]
    assert t["verification"]["preAnchoring"] == 2
    assert t["verification"]["checkpoint"]["count"] == 3
    await tamper(
        own_store,
        ("UPDATE result SET category = 'NO_PROBLEM' WHERE visit_id = $1", uuid.UUID(visit["id"])),
    )
    v = (await trail(own_store, task["id"]))["verification"]
    assert v["reason"] == (
        f"result of visit {visit['id']} version 1 was altered after entry seq "
        f"{t['entries'][2]['seq']}"
    )


async def test_migration_leaves_earlier_entries_as_they_were(prefix: str) -> None:
    from store.migrate import ensure_database, migrate

    name = f"{prefix}m{uuid.uuid4().hex[:6]}_hub"
    dsn = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    await ensure_database(ADMIN_URL, name)
    try:
        await migrate(dsn, upto=3)
        conn = await asyncpg.connect(dsn)
        try:
            task_id = uuid.uuid4()
            await conn.execute(
                "INSERT INTO task (id, title, lead_department, departments, scope, plan,"
                " team_size, window_start, window_end, status, seed, seed_commitment, created_by)"
                " VALUES ($1, 't', 'market', '{market,fire}', '{}', '{}', 2, '2026-12-01',"
                " '2026-12-31', 'DRAFT', '\\x00', 'c', 'planner:p')",
                task_id,
            )
            prev = audit.genesis(str(task_id))
            for action in ("CREATED", "DRAWN"):  # as the hub before anchoring appended them
                at = await conn.fetchval("SELECT date_trunc('milliseconds', clock_timestamp())")
                h = audit.entry_hash(prev, str(task_id), at, "planner:p", action, {"n": 1}, fmt=1)
                await conn.execute(
                    "INSERT INTO audit (task_id, at, actor, action, detail, prev_hash, hash)"
                    " VALUES ($1, $2, 'planner:p', $3, '{\"n\": 1}', $4, $5)",
                    task_id,
                    at,
                    action,
                    prev,
                    h,
                )
                prev = h
            before = [tuple(r) for r in await conn.fetch("SELECT * FROM audit ORDER BY seq")]
            await migrate(dsn)
            after = await conn.fetch(
                "SELECT seq, task_id, at, actor, action, detail, prev_hash, hash FROM audit"
                " ORDER BY seq"
            )
            assert [tuple(r) for r in after] == before
            from store.audit_verify import verify

            check = await verify(conn, task_id, frozenset())
            assert check.ok, check.problems
            assert check.pre_anchoring == 2 and check.checkpoint is None
        finally:
            await conn.close()
    finally:
        await drop_databases(ADMIN_URL, name)


async def test_checkpoints_are_public_signed_and_kept_on_published_results(own_store: Hub) -> None:
    task, _ = await published(own_store)
    body = await own_store.gql(CHECKPOINT, {"t": task["id"]}, headers={})  # no token
    cp = body["data"]["auditCheckpoint"]
    entries = (await trail(own_store, task["id"]))["entries"]
    assert cp["taskId"] == task["id"]
    assert cp["count"] == len(entries) and cp["headHash"] == entries[-1]["hash"]
    assert cp["signedMessage"] == "\n".join(
        [
            "jsh-audit-checkpoint v1",
            f"scope {task['id']}",
            f"count {cp['count']}",
            f"head {cp['headHash']}",
            f"signed-at {cp['signedAt']}",
        ]
    )
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(cp["publicKey"]))
    key.verify(base64.b64decode(cp["signature"]), cp["signedMessage"].encode())  # raises if bad
    assert cp["publicKey"] == own_store.app.state.store.signer.public_key

    log = await own_store.gql(
        "{ auditLogCheckpoint { taskId count headHash signature publicKey signedMessage } }",
        headers={},
    )
    whole = log["data"]["auditLogCheckpoint"]
    assert whole["taskId"] is None and whole["count"] == len(entries)
    key.verify(base64.b64decode(whole["signature"]), whole["signedMessage"].encode())

    results = await own_store.gql(
        "query($t: ID!) { publishedResults(taskId: $t) { edges { node { uscc "
        "checkpoint { count headHash signature } } } } }",
        {"t": task["id"]},
        headers={},
    )
    (node,) = [e["node"] for e in results["data"]["publishedResults"]["edges"]]
    assert node["checkpoint"] == {k: cp[k] for k in ("count", "headHash", "signature")}

    unknown = await own_store.gql(CHECKPOINT, {"t": str(uuid.uuid4())}, headers={})
    assert unknown["data"]["auditCheckpoint"] is None
    bad = await own_store.gql(CHECKPOINT, {"t": "not-a-task"}, headers={})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_changes_are_refused_without_an_audit_key(
    prefix: str, seeded: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUB_AUDIT_KEY", raising=False)
    monkeypatch.delenv("HUB_AUDIT_KEY_FILE", raising=False)
    own_prefix = f"{prefix}k{uuid.uuid4().hex[:6]}_"
    app, lifespan, client = await start_hub(make_settings(prefix, db_prefix=own_prefix))
    try:
        hub = Hub(app, client)
        body = await hub.gql(CREATE, {"input": task_input(uuid.uuid4().hex)})
        assert body["errors"][0]["extensions"]["code"] == "AUDIT_KEY_MISSING"
        assert await app.state.store.pool.fetchval("SELECT count(*) FROM task") == 0
    finally:
        await client.aclose()
        await lifespan.__aexit__(None, None, None)
        await drop_databases(ADMIN_URL, own_prefix)


async def test_credit_repair_row_edited_directly_is_named(own_store: Hub, dept_dsn: Any) -> None:
    from tests.test_credit_repair import APPLY, CREDIT_OFFICER, CREDIT_REVIEWER, application, plant

    p = await plant(dept_dsn)
    body = await own_store.gql(APPLY, application(p, p.general), headers=CREDIT_OFFICER)
    repair = body["data"]["applyCreditRepair"]
    decided = await own_store.gql(
        'mutation($id: ID!) { reviewCreditRepair(id: $id, approve: false, comment: "材料不全")'
        " { state } }",
        {"id": repair["id"]},
        headers=CREDIT_REVIEWER,
    )
    assert decided["data"]["reviewCreditRepair"]["state"] == "REJECTED", decided
    t = await trail(own_store, repair["auditTrailId"])
    assert t["verification"]["ok"], t["verification"]["problems"]
    assert [e["action"] for e in t["entries"]] == ["REPAIR_APPLIED", "REPAIR_REJECTED"]
    await tamper(
        own_store,
        ("UPDATE credit_repair SET state = 'APPROVED' WHERE id = $1", uuid.UUID(repair["id"])),
    )
    code, out = await verify_audit_cli(own_store, repair["auditTrailId"])
    assert code == 1, out
    assert (
        f"credit repair {repair['id']} was altered after entry seq {t['entries'][1]['seq']}" in out
    )
