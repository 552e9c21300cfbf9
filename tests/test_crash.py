"""Nothing lost: the hub killed with SIGKILL in the middle of a draw or a result submission
leaves the whole change or none of it, and a retry with the same idempotency key completes it.

Each round starts a real server process, slows the store or a department so that the kill
lands inside the transaction, kills it, checks the store, restarts, retries. Rounds:
HUB_KILL_ROUNDS (default 3).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import sys
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from store import audit_verify, signing
from tasks.verification import verify_draw
from tests.conftest import ADMIN_URL, AUTH, REDIS_URL, token
from tests.test_resilience import slowed

ROUNDS = int(os.environ.get("HUB_KILL_ROUNDS", "3"))
PLANNER = {"authorization": f"Bearer {token()}"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`hub serve` in a process of its own; `env` adds settings, `log` keeps its stderr."""

    def __init__(self, prefix: str, log: Path | None = None, **env: str) -> None:
        self.log = log
        self.env = {
            **os.environ,
            "DATABASE_URL": ADMIN_URL,
            "REDIS_URL": REDIS_URL,
            "HUB_DB_PREFIX": prefix,
            "HUB_JWT_SECRET": AUTH.hs256_secret or "",
            "HUB_LOG_LEVEL": "WARNING",
            **env,
        }
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        # A fresh port each time: the killed server's socket may linger a moment.
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with open(self.log or os.devnull, "ab") as stderr:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "gateway.cli",
                "serve",
                "--port",
                str(self.port),
                env=self.env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=stderr,
            )
        async with httpx.AsyncClient() as c:
            for _ in range(600):
                if self.proc.returncode is not None:
                    break
                try:
                    if (await c.get(f"{self.url}/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError(f"server did not start (exit code {self.proc.returncode})")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.proc and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc:
            await self.proc.wait()

    async def gql(
        self, query: str, variables: dict[str, Any], headers: dict[str, str] = PLANNER
    ) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=30) as c:
            r = await c.post(
                f"{self.url}/graphql",
                json={"query": query, "variables": variables},
                headers=headers,
            )
            return r.json()


CREATE = """mutation($k: String!) { createJointInspectionTask(input: {
  title: "kill test", leadDepartment: "market", departments: ["culture", "fire"],
  plan: { ratios: [{grade: A, ratio: 0.05}, {grade: B, ratio: 0.1}, {grade: C, ratio: 0.3},
                   {grade: D, ratio: 1}] },
  windowStart: "2026-12-01", windowEnd: "2026-12-31", idempotencyKey: $k }) { id } }"""
DRAW = """mutation($t: ID!, $k: String) { drawJointInspection(taskId: $t, idempotencyKey: $k) {
  status visits(first: 1) { id team { department { code } } form { entries { key } } } } }"""
RECORD = """mutation($i: RecordVisitResultInput!) { recordVisitResult(input: $i) {
  state result { version } } }"""


async def _kill_during(server: Server, query: str, variables: dict, headers: dict) -> None:
    request = asyncio.create_task(server.gql(query, variables, headers))
    # Sometimes inside the slowed transaction, sometimes just after it committed.
    await asyncio.sleep(random.uniform(0.15, 1.8))
    server.kill()
    with contextlib.suppress(httpx.TransportError, ValueError):
        await request  # the connection died with the server, as it should


async def test_kill_during_draw_and_result_entry(prefix, seeded, hub) -> None:
    store = await asyncpg.connect(ADMIN_URL.rsplit("/", 1)[0] + f"/{prefix}hub")
    server = Server(prefix)
    try:
        for n in range(ROUNDS):
            await server.start()
            task_id = (await server.gql(CREATE, {"k": uuid.uuid4().hex}))["data"][
                "createJointInspectionTask"
            ]["id"]
            key = uuid.uuid4().hex
            async with slowed(_dsn(prefix, "culture"), "checkItem", 1.0):
                await _kill_during(server, DRAW, {"t": task_id, "k": key}, PLANNER)
            await server.proc.wait()  # type: ignore[union-attr]
            tid = uuid.UUID(task_id)
            status = await store.fetchval("SELECT status FROM task WHERE id = $1", tid)
            visits = await store.fetchval("SELECT count(*) FROM visit WHERE task_id = $1", tid)
            frozen = await store.fetchval(
                "SELECT count(*) FROM task_population WHERE task_id = $1", tid
            )
            assert (status, visits > 0, frozen) in (("DRAFT", False, 0), ("DRAWN", True, 1))
            await server.start()
            drawn = (await server.gql(DRAW, {"t": task_id, "k": key}))["data"][
                "drawJointInspection"
            ]
            assert drawn["status"] == "DRAWN"
            pool = await asyncpg.create_pool(ADMIN_URL.rsplit("/", 1)[0] + f"/{prefix}hub")
            try:
                assert (await verify_draw(pool, tid)).ok
                trusted = signing.trusted_keys(signing.from_env())
                assert (await audit_verify.verify(pool, tid, trusted)).ok
            finally:
                await pool.close()
            actions = [
                r["action"]
                for r in await store.fetch(
                    "SELECT action FROM audit WHERE task_id = $1 ORDER BY seq", tid
                )
            ]
            assert actions == ["CREATED", "DRAWN"]

            # The same for a result: the store itself is slow inside the transaction.
            visit = drawn["visits"][0]
            officer = {
                "authorization": "Bearer "
                + token(visit["team"][0]["department"]["code"], ("officer", "inspector"))
            }
            entry = {
                "visitId": visit["id"],
                "category": "NO_PROBLEM",
                "concludedOn": date.today().isoformat(),  # between the draw and today
                "idempotencyKey": uuid.uuid4().hex,
                "entries": [
                    {"key": e["key"], "outcome": "COMPLIANT"} for e in visit["form"]["entries"]
                ],
            }
            await store.execute(
                "CREATE OR REPLACE FUNCTION hub_test_slow_result() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(1); RETURN NEW; END $$;"
                "CREATE TRIGGER hub_test_slow BEFORE INSERT ON result FOR EACH ROW "
                "EXECUTE FUNCTION hub_test_slow_result()"
            )
            try:
                await _kill_during(server, RECORD, {"i": entry}, officer)
                await server.proc.wait()  # type: ignore[union-attr]
            finally:
                await store.execute("DROP TRIGGER hub_test_slow ON result")
            vid = uuid.UUID(visit["id"])
            results = await store.fetchval("SELECT count(*) FROM result WHERE visit_id = $1", vid)
            state = await store.fetchval("SELECT state FROM visit WHERE id = $1", vid)
            assert (results, state) in ((0, "NOT_ENTERED"), (1, "PENDING_REVIEW"))
            print(f"round {n + 1}: killed draw left {status}, killed entry left {state}")
            await server.start()
            done = (await server.gql(RECORD, {"i": entry}, officer))["data"]["recordVisitResult"]
            assert done == {"state": "PENDING_REVIEW", "result": {"version": 1}}
            await server.stop()
    finally:
        await server.stop()
        await store.close()


def _dsn(prefix: str, department: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{prefix}{department}"
