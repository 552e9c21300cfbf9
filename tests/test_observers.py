"""Observers take part in the seed: each commits to a share before the draw and reveals it at
the draw, with nothing but the credential a planner handed out; the seed is the hash of the
hub's share and theirs, so nobody — the operator included — knows it in advance."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from pathlib import Path

from tasks.verification import verify_draw
from tests.conftest import Hub, token
from tests.test_draw_record import public_record, verify_stand_alone
from tests.test_joint_tasks import DRAW, create

OBSERVERS = [
    {"name": "市消防救援支队", "kind": "DEPARTMENT", "department": "fire"},
    {"name": "王某（社会监督员）", "kind": "CITIZEN_SUPERVISOR"},
]
ISSUE = "mutation($t: ID!, $o: Int!) { issueObserverCredential(taskId: $t, observer: $o) }"
COMMIT = """mutation($t: ID!, $c: String!, $h: String!) {
  commitSeedShare(taskId: $t, credential: $c, commitment: $h) { ordinal commitment revealed } }"""
REVEAL = """mutation($t: ID!, $c: String!, $s: String!) {
  revealSeedShare(taskId: $t, credential: $c, share: $s) { ordinal revealed share } }"""
TASK = """query($t: ID!) { jointInspectionTask(id: $t) { status seed seedCommitment drawSeed
  observers { ordinal name kind department credentialIssued commitment revealed share } } }"""
PUBLIC: dict[str, str] = {}  # no credentials at all: what an observer without an account sends


def code_of(body: dict) -> tuple[str, str | None]:
    ext = body["errors"][0]["extensions"]
    return ext["code"], ext.get("reason")


async def test_observers_take_part_in_the_seed(hub: Hub, tmp_path: Path) -> None:
    task = await create(hub, observers=OBSERVERS)
    t = task["id"]
    seen = (await hub.gql(TASK, {"t": t}))["data"]["jointInspectionTask"]
    assert [(o["ordinal"], o["kind"], o["credentialIssued"]) for o in seen["observers"]] == [
        (1, "DEPARTMENT", False),
        (2, "CITIZEN_SUPERVISOR", False),
    ]
    assert code_of(await hub.gql(DRAW, {"id": t})) == ("INVALID_STATE", "SHARES_NOT_REVEALED")

    officer = {"authorization": f"Bearer {token('fire', ('officer',))}"}
    assert code_of(await hub.gql(ISSUE, {"t": t, "o": 1}, headers=officer))[0] == "FORBIDDEN"
    lost = (await hub.gql(ISSUE, {"t": t, "o": 1}))["data"]["issueObserverCredential"]
    cred = [
        (await hub.gql(ISSUE, {"t": t, "o": n}))["data"]["issueObserverCredential"] for n in (1, 2)
    ]
    assert all(c.startswith("jso_") for c in cred) and lost != cred[0]
    shares = [secrets.token_bytes(32) for _ in cred]
    commits = [hashlib.sha256(s).hexdigest() for s in shares]

    def commit(n: int, digest: str, credential: str | None = None) -> dict:
        return {"t": t, "c": credential or cred[n], "h": digest}

    def reveal(n: int, share: bytes) -> dict:
        return {"t": t, "c": cred[n], "s": share.hex()}

    refused = await hub.gql(COMMIT, commit(0, commits[0], lost), headers=PUBLIC)
    assert code_of(refused) == ("FORBIDDEN", "INVALID_CREDENTIAL"), "a reissued credential replaces"
    assert code_of(await hub.gql(COMMIT, commit(0, "xyz"), headers=PUBLIC))[1] == "INVALID_HEX"
    first = await hub.gql(COMMIT, commit(0, commits[0]), headers=PUBLIC)
    assert first["data"]["commitSeedShare"] == {
        "ordinal": 1,
        "commitment": commits[0],
        "revealed": False,
    }
    early = await hub.gql(REVEAL, reveal(0, shares[0]), headers=PUBLIC)
    assert code_of(early) == ("INVALID_STATE", "COMMITMENTS_OPEN")
    assert "errors" not in await hub.gql(COMMIT, commit(1, commits[1]), headers=PUBLIC)
    changed = await hub.gql(COMMIT, commit(1, commits[0]), headers=PUBLIC)
    assert code_of(changed) == ("INVALID_STATE", "ALREADY_COMMITTED")
    wrong = await hub.gql(REVEAL, reveal(0, shares[1]), headers=PUBLIC)
    assert code_of(wrong) == ("BAD_USER_INPUT", "SHARE_MISMATCH")
    for n in (0, 1):
        body = await hub.gql(REVEAL, reveal(n, shares[n]), headers=PUBLIC)
        assert body["data"]["revealSeedShare"] == {
            "ordinal": n + 1,
            "revealed": True,
            "share": None,
        }

    before = await public_record(hub, t)
    assert [o["commitment"] for o in before["seed"]["observers"]] == commits
    assert before["seed"]["hubShare"] is None, "the hub's share stays secret until the draw"
    assert "errors" not in await hub.gql(DRAW, {"id": t})
    after = (await hub.gql(TASK, {"t": t}))["data"]["jointInspectionTask"]
    hub_share = bytes.fromhex(after["seed"])
    assert hashlib.sha256(hub_share).hexdigest() == after["seedCommitment"]
    expected = hashlib.sha256(b"jsh-seed-v1" + hub_share + shares[0] + shares[1]).hexdigest()
    assert after["drawSeed"] == expected
    assert [o["share"] for o in after["observers"]] == [s.hex() for s in shares]

    late = await hub.gql(REVEAL, reveal(0, shares[0]), headers=PUBLIC)
    assert code_of(late)[0] == "INVALID_STATE", "the seed is fixed once drawn"
    assert (await verify_draw(hub.app.state.store.pool, uuid.UUID(t))).ok
    code, out = await verify_stand_alone(await public_record(hub, t), tmp_path)
    assert code == 0 and "observer 2" in out, out


async def test_without_observers_the_hubs_share_is_the_seed(hub: Hub) -> None:
    task = await create(hub)
    assert "errors" not in await hub.gql(DRAW, {"id": task["id"]})
    after = (await hub.gql(TASK, {"t": task["id"]}))["data"]["jointInspectionTask"]
    assert after["observers"] == [] and after["drawSeed"] == after["seed"]


async def test_observer_input_is_validated(hub: Hub) -> None:
    from tests.test_joint_tasks import CREATE, task_input

    for bad, reason in [
        ({"name": " ", "kind": "OTHER"}, "INVALID_OBSERVER"),
        ({"name": "x", "kind": "DEPARTMENT"}, "INVALID_OBSERVER"),
        ({"name": "x", "kind": "DEPARTMENT", "department": "nowhere"}, "UNKNOWN_DEPARTMENT"),
        ({"name": "x", "kind": "OTHER", "department": "fire"}, "INVALID_OBSERVER"),
    ]:
        body = await hub.gql(CREATE, {"input": task_input(uuid.uuid4().hex, observers=[bad])})
        assert code_of(body) == ("BAD_USER_INPUT", reason), bad
