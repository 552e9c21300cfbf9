"""A member of the public checks an audit trail with the standard library and the public API
alone (verify/verify_audit.py): the checkpoint's Ed25519 signature, and that the trail leads
from a kept checkpoint (or from its start) to the latest one. Tampering tests use a hub store
of their own (`own_store`)."""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import sys
import uuid
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.settings import ROOT
from tests.conftest import Hub, token
from tests.test_audit_anchoring import (
    CHECKPOINT,
    REVIEW,
    drawn,
    entered,
    rewrite,
    tamper,
    trail,
)
from tests.test_crash import Server
from tests.test_joint_tasks import drawn_task

SCRIPT = ROOT / "verify" / "verify_audit.py"
_spec = importlib.util.spec_from_file_location("verify_audit", SCRIPT)
assert _spec is not None and _spec.loader is not None
verify_audit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(verify_audit)


def public_post(hub: Hub, loop: asyncio.AbstractEventLoop) -> Any:
    """The script's way of asking, through the test's hub, without a token."""

    def post(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        request = hub.raw.post("/graphql", json={"query": query, "variables": variables})
        return asyncio.run_coroutine_threadsafe(request, loop).result(60).json()

    return post


async def public_check(
    hub: Hub, task_id: str | None, kept: dict[str, Any] | None = None, key: str | None = None
) -> list[str]:
    post = public_post(hub, asyncio.get_running_loop())
    problems, _ = await asyncio.to_thread(verify_audit.check, post, task_id, kept, key)
    return problems


async def kept_checkpoint(hub: Hub, task_id: str) -> dict[str, Any]:
    return (await hub.gql(CHECKPOINT, {"t": task_id}, headers={}))["data"]["auditCheckpoint"]


def test_the_standard_library_ed25519_verifies_what_cryptography_signs() -> None:
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    for message in (b"", b"jsh-audit-checkpoint v1\nscope log", bytes(range(256)) * 4):
        signature = key.sign(message)
        assert verify_audit.ed25519_verify(public, message, signature)
        assert not verify_audit.ed25519_verify(public, message + b".", signature)
        flipped = bytes([signature[0] ^ 1]) + signature[1:]
        assert not verify_audit.ed25519_verify(public, message, flipped)
        other = Ed25519PrivateKey.generate().sign(message)
        assert not verify_audit.ed25519_verify(public, message, other)


async def test_the_script_checks_a_trail_over_http_from_start_and_from_a_kept_checkpoint(
    hub: Hub, prefix: str, tmp_path: Path
) -> None:
    task = await drawn_task(hub)
    server = Server(prefix)
    saved = tmp_path / "kept.json"

    async def run(*args: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SCRIPT),
            "--hub",
            server.url,
            task["id"],
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        return proc.returncode or 0, out.decode()

    try:
        await server.start()
        key = hub.app.state.store.signer.public_key
        code, out = await run("--public-key", key, "--save", str(saved))
        assert code == 0 and "OK: task" in out and "holds 2 entries" in out, out
        await entered(hub, task)
        code, out = await run("--kept", str(saved))
        assert code == 0 and "holds 3 entries" in out and "kept checkpoint covered (2)" in out, out
        other = base64.b64encode(bytes(32)).decode()
        code, out = await run("--public-key", other)
        assert code == 1 and "is not signed by" in out, out
    finally:
        await server.stop()


async def test_public_check_finds_a_cut_trail_the_store_no_longer_shows(own_store: Hub) -> None:
    task = await drawn(own_store)
    visit = await entered(own_store, task)
    kept = await kept_checkpoint(own_store, task["id"])
    assert kept["count"] == 3 and await public_check(own_store, task["id"], kept) == []
    seq = (await trail(own_store, task["id"]))["entries"][2]["seq"]
    vid = uuid.UUID(visit["id"])
    await tamper(  # cut the last entry and roll back its row and the hub's own checkpoints
        own_store,
        ("DELETE FROM audit_anchor WHERE seq = $1", seq),
        ("DELETE FROM audit WHERE seq = $1", seq),
        ("DELETE FROM result WHERE visit_id = $1", vid),
        ("UPDATE visit SET state = 'NOT_ENTERED' WHERE id = $1", vid),
        ("DELETE FROM audit_checkpoint WHERE count > 2",),
    )
    assert (await trail(own_store, task["id"]))["verification"]["ok"]
    (problem,) = await public_check(own_store, task["id"], kept)
    assert problem.startswith(f"entry #3 of task {task['id']}'s trail is missing"), problem


async def test_public_check_finds_an_entry_rewritten_with_every_hash_after_it(
    own_store: Hub,
) -> None:
    task = await drawn(own_store)
    await entered(own_store, task)
    reviewer = token("market", ("officer", "reviewer"), "reviewer-1")
    visit = task["visits"][0]
    await own_store.gql(
        REVIEW, {"v": visit["id"], "ok": True, "c": ""}, {"authorization": f"Bearer {reviewer}"}
    )
    # The RESULT_ENTERED entry says another category; every hash after it is recomputed.
    await rewrite(own_store, task["id"], "RESULT_ENTERED", "category", "NO_PROBLEM")
    (problem,) = await public_check(own_store, task["id"])  # from the start: no kept checkpoint
    assert problem.startswith(f"entries #1 to #4 of task {task['id']}'s trail do not lead"), problem


async def test_public_check_of_the_whole_log_finds_a_deleted_trail(own_store: Hub) -> None:
    gone = await drawn(own_store)
    await drawn(own_store)
    assert await public_check(own_store, None) == []
    seqs = [e["seq"] for e in (await trail(own_store, gone["id"]))["entries"]]
    await tamper(
        own_store,
        ("DELETE FROM audit_anchor WHERE seq = ANY($1)", seqs),
        ("DELETE FROM audit WHERE seq = ANY($1)", seqs),
    )
    (problem,) = await public_check(own_store, None)
    assert problem.startswith("entries #1 to #4 of the whole log do not lead"), problem
