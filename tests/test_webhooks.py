"""Signed webhooks to department systems, against a real HTTP receiver on a real port: the
receiver verifies each signature exactly as the README shows, fails on purpose, and the hub's
own delivery workers retry, give up into dead letters, and deliver again on replay; several
workers never deliver one event twice; registrations are refused with reasons."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tasks.delivery import DeliveryWorker, Policy
from tasks.webhooks import WebhookSender
from tests.browser import serve
from tests.conftest import ADMIN_URL, Hub
from tests.test_joint_tasks import drawn_task

WAIT = 90  # seconds; the machine is shared


def verify_signature(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """The receiver's check, as in the README: standard library only."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(fields["t"])
    if abs(time.time() - timestamp) > tolerance:
        return False  # too old (or from the future): a replayed request
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), fields["v1"])


@dataclass
class Receiver:
    """A department system: answers 503 while told to fail, 401 to a bad signature, else
    204 and keeps what it got."""

    url: str = ""
    secrets: dict[str, str] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    refused_signatures: int = 0
    got: dict[str, list[tuple[int, dict]]] = field(default_factory=lambda: defaultdict(list))

    async def hook(self, request: Request) -> Response:
        name = request.path_params["name"]
        body = await request.body()
        self.calls[name] += 1
        if self.failures.get(name, 0) > 0:
            self.failures[name] -= 1
            return Response(status_code=503)
        header = request.headers.get("x-hub-signature", "")
        if not verify_signature(self.secrets[name], header, body):
            self.refused_signatures += 1
            return Response(status_code=401)
        event = orjson.loads(body)
        assert request.headers["x-hub-delivery"] == str(event["id"])
        assert request.headers["x-hub-event"] == event["kind"]
        self.got[name].append((event["id"], event))
        return Response(status_code=204)


@pytest.fixture(scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    app = Starlette(routes=[Route("/hooks/{name}", r.hook, methods=["POST"])])
    async with serve(app) as url:
        r.url = url
        yield r


async def cli(prefix: str, *args: str, **env: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli",
        *args,
        env={**os.environ, "DATABASE_URL": ADMIN_URL, "HUB_DB_PREFIX": prefix, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), WAIT)
    return proc.returncode or 0, out.decode(), err.decode()


async def add_hook(prefix: str, receiver: Receiver, name: str, department: str, *kinds: str) -> str:
    args = ["webhook", "add", "--department", department, "--url", f"{receiver.url}/hooks/{name}"]
    for k in kinds:
        args += ["--kind", k]
    code, out, err = await cli(prefix, *args)
    assert code == 0, (out, err)
    described, secret_line = out.strip().splitlines()
    receiver.secrets[name] = secret_line.rsplit(" ", 1)[1]
    hook = orjson.loads(described)
    assert hook["department"] == department and hook["kinds"] == sorted(kinds)
    return hook["id"]


async def eventually(check, what: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(WAIT * 10):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {WAIT} s: {what}")


async def deliveries_of(hub: Hub, hook_id: str) -> list[asyncpg.Record]:
    return await hub.app.state.store.pool.fetch(
        "SELECT * FROM event_delivery WHERE consumer = $1 ORDER BY event_id", f"webhook:{hook_id}"
    )


async def test_signed_webhooks_retry_then_deliver_per_department(
    hub: Hub, prefix: str, receiver: Receiver
) -> None:
    fire = await add_hook(prefix, receiver, "fire", "fire", "visit.assignment", "task.progress")
    ecology = await add_hook(prefix, receiver, "eco", "ecology", "visit.assignment")
    receiver.failures["fire"] = 2
    try:
        task = await drawn_task(hub)
        expected = {
            r["id"]
            for r in await hub.app.state.store.pool.fetch(
                "SELECT id FROM event WHERE task_id = $1 AND 'fire' = ANY(departments)"
                " AND kind IN ('visit.assignment', 'task.progress')",
                uuid.UUID(task["id"]),
            )
        }
        assert len(expected) >= 2  # the progress and at least one team with fire on it

        async def all_delivered() -> bool:
            rows = [r for r in await deliveries_of(hub, fire) if r["event_id"] in expected]
            return len(rows) == len(expected) and all(r["delivered_at"] for r in rows)

        await eventually(all_delivered, "every event for fire delivered")
        assert {i for i, _ in receiver.got["fire"]} >= expected
        rows = [r for r in await deliveries_of(hub, fire) if r["event_id"] in expected]
        assert sum(r["attempts"] for r in rows) == len(expected) + 2, "two retries"
        assert receiver.refused_signatures == 0
        for _, event in receiver.got["fire"]:
            assert set(event) == {"id", "kind", "at", "taskId", "visitId", "departments", "data"}
            assert "fire" in event["departments"]
            for seat in event["data"].get("team", []):  # ids only: no personal data
                assert set(seat) == {"inspectorId", "department", "role"}
        # Ecology is not on this task: nothing was owed to its webhook.
        assert await deliveries_of(hub, ecology) == []
    finally:
        for hook in (fire, ecology):
            assert (await cli(prefix, "webhook", "remove", "--id", hook))[0] == 0


async def test_dead_letter_after_the_last_attempt_then_replay(
    hub: Hub, prefix: str, receiver: Receiver
) -> None:
    hook = await add_hook(prefix, receiver, "culture", "culture", "task.progress")
    receiver.failures["culture"] = 10**6  # down until told otherwise
    try:
        task = await drawn_task(hub)

        async def dead() -> bool:
            code, out, _ = await cli(prefix, "webhook", "dead", "--id", hook)
            return code == 0 and task["id"] in out

        await eventually(dead, "a dead letter")
        code, out, _ = await cli(prefix, "webhook", "dead", "--id", hook)
        (letter,) = [orjson.loads(line) for line in out.splitlines() if task["id"] in line]
        assert letter["attempts"] == 4 and letter["lastError"].startswith("HTTP 503")
        assert letter["kind"] == "task.progress" and receiver.calls["culture"] >= 4
        receiver.failures["culture"] = 0
        code, out, _ = await cli(prefix, "webhook", "replay", "--id", hook)
        assert code == 0 and out.startswith("1 dead letter(s) pending again")

        async def delivered() -> bool:
            return any(e["taskId"] == task["id"] for _, e in receiver.got["culture"])

        await eventually(delivered, "the replayed letter delivered")
        code, out, _ = await cli(prefix, "webhook", "dead", "--id", hook)
        assert task["id"] not in out
    finally:
        await cli(prefix, "webhook", "remove", "--id", hook)


async def test_several_workers_never_deliver_an_event_twice(
    hub: Hub, prefix: str, receiver: Receiver
) -> None:
    hook = await add_hook(prefix, receiver, "market", "market", "visit.assignment")
    store = hub.app.state.store
    sender = WebhookSender(lambda: store.pool)
    workers = [
        DeliveryWorker(lambda: store.pool, {"webhook": sender}, Policy(batch=5)) for _ in range(3)
    ]
    stop = asyncio.Event()

    async def keep_delivering(worker: DeliveryWorker) -> None:
        while not stop.is_set():
            await worker.run_once("webhook")
            await asyncio.sleep(0)

    runners = [asyncio.create_task(keep_delivering(w)) for w in workers]
    try:
        tasks = [await drawn_task(hub) for _ in range(2)]
        expected = {r["event_id"] for r in await deliveries_of(hub, hook)}
        visits = {v["id"] for t in tasks for v in t["visits"]}
        assert expected and len(expected) <= len(visits)

        async def done() -> bool:
            return all(r["delivered_at"] for r in await deliveries_of(hub, hook))

        await eventually(done, "every delivery made")
        ids = [i for i, _ in receiver.got["market"]]
        assert len(ids) == len(set(ids)), "an event was delivered twice"
        assert set(ids) == expected
    finally:
        stop.set()
        await asyncio.gather(*runners)
        await sender.close()
        await cli(prefix, "webhook", "remove", "--id", hook)


async def test_registration_is_checked_and_the_secret_kept_sealed(
    hub: Hub, prefix: str, receiver: Receiver
) -> None:
    for args, reason in [
        (["--department", "fire", "--url", "ftp://x", "--kind", "visit.state"], "INVALID_URL"),
        (["--department", "fire", "--url", "http://a:b@x", "--kind", "visit.state"], "INVALID_URL"),
        (["--department", "fire", "--url", "http://x", "--kind", "visit.nope"], "UNKNOWN_KIND"),
        (["--department", "fire", "--url", "http://x"], "UNKNOWN_KIND"),
        (
            ["--department", "nowhere", "--url", "http://x", "--kind", "visit.state"],
            "UNKNOWN_DEPARTMENT",
        ),
    ]:
        code, out, err = await cli(prefix, "webhook", "add", *args)
        assert code == 2 and err.startswith(reason), (args, out, err)
    hook = await add_hook(prefix, receiver, "sealed", "emergency", "visit.state")
    secret = receiver.secrets["sealed"]
    stored = await hub.app.state.store.pool.fetchval(
        "SELECT secret FROM webhook WHERE id = $1", uuid.UUID(hook)
    )
    assert secret.encode() not in bytes(stored)
    code, out, _ = await cli(prefix, "webhook", "list", "--department", "emergency")
    assert hook in out and secret not in out and "secret" not in out
    assert (await cli(prefix, "webhook", "remove", "--id", hook))[1].strip() == "removed"
    assert (await cli(prefix, "webhook", "remove", "--id", hook))[0] == 1
    assert hook not in (await cli(prefix, "webhook", "list"))[1]
    assert (await cli(prefix, "webhook", "remove", "--id", "nope"))[0] != 0
