"""One hub process holding 2,000 open subscriptions while a draw of 1,000 visits fans out.

    python -m bench.subscriptions [--subscriptions 2000] [--visits 1000] [--entities 100000]

Seeds (or reuses) the demo departments under the prefix `bsub_` on DATABASE_URL, starts one
hub process (`hub serve`, one worker), and opens the subscriptions over graphql-transport-ws
from two client processes, one WebSocket each: every inspector of the task's departments
(market regulation, culture, fire) subscribes to `myAssignments` with their own token, the
rest are wall screens on `taskProgress(taskId)`, each with a token of its own. When the hub
reports them all open (`jsh_subscribers` on /metrics), the task is drawn through the GraphQL
mutation; every notice the clients receive is timed from its event's write (`at`, stamped by
PostgreSQL on the same host) to its arrival. Prints and writes bench/results/subscriptions.md
and .json: event-to-client p50/p99, notices expected and received, the hub's resident memory
per open subscription, its CPU during the fan-out, the draw's own time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from adapters import settings as settings_mod
from bench.procs import ROOT, free_port, start_hub, tree_cpu, tree_rss
from demo.vocab import DISTRICTS
from gateway.auth import AuthConfig, issue_token

PREFIX = "bsub_"
RESULTS = Path(__file__).parent / "results"
DEPARTMENTS = ["market", "culture", "fire"]
MINE = (
    "subscription { myAssignments { eventId at change visitId uscc entityName windowStart "
    "team { inspectorId department role } } }"
)
PROGRESS = (
    "subscription($t: ID!) { taskProgress(taskId: $t) { eventId at status visits "
    "visitCounts { state count } latePublications } }"
)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# -- the client processes ------------------------------------------------------------------
async def _client(url: str, subs: list[dict[str, Any]]) -> None:
    """Open one WebSocket per subscription; answer "count" and "report" on stdin."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    got: list[tuple[str, float]] = []  # (subscription kind, seconds from write to arrival)
    errors: list[Any] = []
    gate = asyncio.Semaphore(50)
    sockets = []
    subscribed = 0

    async def one(sub: dict[str, Any]) -> None:
        async with gate:
            ws = await connect(url, subprotocols=["graphql-transport-ws"], max_queue=None)  # type: ignore[list-item]
            sockets.append(ws)
            await ws.send(json.dumps({"type": "connection_init", "payload": sub["auth"]}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": sub["query"], "variables": sub["variables"]},
                    }
                )
            )
            nonlocal subscribed
            subscribed += 1
        first = sub["kind"] == "taskProgress"  # its first answer is the state, not an event
        with contextlib.suppress(ConnectionClosed):  # the hub stops at the end
            await read(ws, sub, first)

    async def read(ws: Any, sub: dict[str, Any], first: bool) -> None:
        async for raw in ws:
            now = time.time()
            message = json.loads(raw)
            if message["type"] != "next" or "errors" in message["payload"]:
                errors.append(message)
                continue
            if first:
                first = False
                continue
            (notice,) = message["payload"]["data"].values()
            got.append((sub["kind"], now - datetime.fromisoformat(notice["at"]).timestamp()))

    readers = [asyncio.create_task(one(s)) for s in subs]
    while subscribed < len(subs):
        failed = [t for t in readers if t.done() and t.exception()]
        if failed:
            raise failed[0].exception()  # type: ignore[misc]
        await asyncio.sleep(0.1)
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if line == "count":
            print(len(got), flush=True)
        elif line == "report" or not line:
            print(json.dumps({"got": got, "errors": errors[:5], "error_count": len(errors)}))
            break
    for ws in sockets:
        await ws.close()


class Clients:
    def __init__(self, url: str, subs: list[dict[str, Any]]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.subscriptions", "--client", url],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(subs) + "\n")
        self.proc.stdin.flush()

    def ask(self, command: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline()

    def ready(self) -> None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"client failed to open its subscriptions ({line!r})")


# -- the run -------------------------------------------------------------------------------
async def seeded(admin: str) -> int | None:
    try:
        conn = await asyncpg.connect(settings_mod.database_dsn(admin, f"{PREFIX}market"))
    except asyncpg.InvalidCatalogNameError:
        return None
    try:
        return await conn.fetchval("SELECT count(*) FROM scztdj")
    except asyncpg.UndefinedTableError:
        return None
    finally:
        await conn.close()


async def gql(client: httpx.AsyncClient, url: str, query: str, **variables: Any) -> Any:
    r = await client.post(url, json={"query": query, "variables": variables})
    body = r.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


async def open_subscribers(hub_base: str, count: int, timeout: float = 180) -> None:
    async with httpx.AsyncClient() as client:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = (await client.get(hub_base + "/metrics")).text
            line = next((x for x in text.splitlines() if x.startswith("jsh_subscribers ")), "")
            if line and float(line.split()[1]) >= count:
                return
            await asyncio.sleep(0.5)
    raise RuntimeError(f"the hub did not report {count} open subscriptions")


async def lag_buckets(hub_base: str) -> dict[float, float]:
    """The hub's jsh_event_lag_seconds histogram: cumulative count per upper bound."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(hub_base + "/metrics")).text
    out = {}
    for line in text.splitlines():
        if line.startswith("jsh_event_lag_seconds_bucket{"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            out[float(le)] = float(line.rsplit(" ", 1)[1])
    return out


def bucket_quantile(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """The upper bound of the bucket holding the q-quantile of what was observed between."""
    counts = sorted((le, after[le] - before.get(le, 0.0)) for le in after)
    total = counts[-1][1] if counts else 0
    return next((le for le, n in counts if total and n >= q * total), float("inf"))


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


async def run(subscriptions: int, visits: int, entities: int) -> dict[str, Any]:
    admin = os.environ.get("DATABASE_URL", settings_mod.DEFAULT_DATABASE_URL)
    if await seeded(admin) != entities:
        log(f"seeding {entities:,} entities under {PREFIX}…")
        cmd = [sys.executable, "-m", "demo.seed", "--database-url", admin, "--prefix", PREFIX]
        subprocess.run([*cmd, "--entities", str(entities)], check=True, cwd=ROOT)
    secret = secrets.token_urlsafe(32)
    env = {
        **os.environ,
        "DATABASE_URL": admin,
        "HUB_DB_PREFIX": PREFIX,
        "HUB_DEPARTMENTS": str(Path(__file__).parent / "departments.toml"),
        "HUB_JWT_SECRET": secret,
        "HUB_LOG_LEVEL": "WARNING",
    }
    cfg = AuthConfig.from_env({"HUB_JWT_SECRET": secret})
    planner = issue_token(cfg, "bench-planner", "market", ["planner"])
    port = free_port()
    logdir = Path(os.environ.get("TMPDIR", "/tmp"))
    hub = start_hub(port, 1, env, planner, logdir)
    base = f"http://127.0.0.1:{port}"
    try:
        await hub.wait_ready({"query": "{ __typename }"})
        async with httpx.AsyncClient(headers=hub.headers, timeout=600) as client:
            task = await gql(
                client,
                hub.url,
                """mutation($i: CreateJointInspectionTaskInput!) {
                     createJointInspectionTask(input: $i) { id } }""",
                i={
                    "title": "订阅基准",
                    "leadDepartment": "market",
                    "departments": DEPARTMENTS[1:],
                    "plan": {"ratios": [{"grade": g, "ratio": 1.0} for g in "ABCD"], "cap": visits},
                    "windowStart": "2026-12-01",
                    "windowEnd": "2026-12-31",
                    "idempotencyKey": uuid.uuid4().hex,
                },
            )
            task_id = task["createJointInspectionTask"]["id"]
            inspectors: list[tuple[str, str]] = []
            for d in DISTRICTS:
                data = await gql(
                    client,
                    hub.url,
                    "query($x: String!) { departments { code inspectors(district: $x) { id } } }",
                    x=d.code,
                )
                inspectors += [
                    (dep["code"], i["id"])
                    for dep in data["departments"]
                    if dep["code"] in DEPARTMENTS
                    for i in dep["inspectors"] or []
                ]
            inspectors = inspectors[:subscriptions]
            subs = [
                {
                    "kind": "myAssignments",
                    "auth": {
                        "Authorization": "Bearer "
                        + issue_token(cfg, i, dept, ["officer", "inspector"])
                    },
                    "query": MINE,
                    "variables": {},
                }
                for dept, i in inspectors
            ]
            subs += [
                {
                    "kind": "taskProgress",
                    "auth": {
                        "Authorization": "Bearer "
                        + issue_token(cfg, f"wall-{n}", "market", ["officer"])
                    },
                    "query": PROGRESS,
                    "variables": {"t": task_id},
                }
                for n in range(subscriptions - len(subs))
            ]
            rss_before = tree_rss(hub.pid)
            ws_url = base.replace("http://", "ws://") + "/graphql"
            half = len(subs) // 2
            clients = [Clients(ws_url, subs[:half]), Clients(ws_url, subs[half:])]
            log(f"opening {len(subs)} subscriptions ({len(inspectors)} inspectors)…")
            for c in clients:
                c.ready()
            await open_subscribers(base, len(subs))
            await asyncio.sleep(2)  # settle
            rss_after = tree_rss(hub.pid)
            cpu_before = tree_cpu(hub.pid)
            lag_before = await lag_buckets(base)
            log("drawing…")
            start = time.perf_counter()
            drawn = await gql(
                client,
                hub.url,
                "mutation($t: ID!) { drawJointInspection(taskId: $t) { visitCounts { count } } }",
                t=task_id,
            )
            draw_seconds = time.perf_counter() - start
            n_visits = sum(c["count"] for c in drawn["drawJointInspection"]["visitCounts"])
        conn = await asyncpg.connect(settings_mod.database_dsn(admin, f"{PREFIX}hub"))
        try:
            seats = await conn.fetchval(
                "SELECT count(*) FROM assignment a JOIN visit v ON v.id = a.visit_id"
                " WHERE v.task_id = $1 AND (a.department, a.inspector_id) IN"
                " (SELECT * FROM unnest($2::text[], $3::text[]))",
                uuid.UUID(task_id),
                [d for d, _ in inspectors],
                [i for _, i in inspectors],
            )
        finally:
            await conn.close()
        expected = seats + (len(subs) - len(inspectors))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if sum(int(c.ask("count")) for c in clients) >= expected:
                break
            await asyncio.sleep(0.5)
        cpu = tree_cpu(hub.pid) - cpu_before
        lag_after = await lag_buckets(base)
        reports = [json.loads(c.ask("report")) for c in clients]
        for c in clients:
            c.proc.wait(30)
    finally:
        hub.stop()
    got = [g for r in reports for g in r["got"]]
    lat = {k: [s for kind, s in got if kind == k] for k in ("myAssignments", "taskProgress")}
    everything = [s for _, s in got]
    return {
        "subscriptions": len(subs),
        "inspectors": len(inspectors),
        "wall_screens": len(subs) - len(inspectors),
        "visits": n_visits,
        "draw_seconds": round(draw_seconds, 2),
        "notices_expected": expected,
        "notices_received": len(got),
        "errors": sum(r["error_count"] for r in reports),
        "latency_ms": {
            k: {
                "p50": round(statistics.median(v) * 1000, 1),
                "p99": round(pct(v, 99) * 1000, 1),
                "max": round(max(v) * 1000, 1),
                "n": len(v),
            }
            for k, v in {**lat, "all": everything}.items()
            if v
        },
        "rss_mib_before": round(rss_before / 2**20, 1),
        "rss_mib_with_subscriptions": round(rss_after / 2**20, 1),
        "kib_per_subscription": round((rss_after - rss_before) / len(subs) / 1024, 1),
        "hub_cpu_seconds_fan_out": round(cpu, 2),
        # From an event's write to its hand-out by the hub's feed (before any subscriber runs).
        "feed_lag_ms_p50_at_most": bucket_quantile(lag_before, lag_after, 0.5) * 1000,
        "feed_lag_ms_p99_at_most": bucket_quantile(lag_before, lag_after, 0.99) * 1000,
    }


def report(r: dict[str, Any], command: str, seconds: float) -> str:
    lat = r["latency_ms"]
    rows = "\n".join(
        f"| {k} | {v['n']:,} | {v['p50']} | {v['p99']} | {v['max']} |" for k, v in lat.items()
    )
    title = f"{r['subscriptions']:,} open, a draw of {r['visits']:,} visits"
    return f"""# Subscriptions: one hub process, {title}

Command: `{command}` ({seconds:.0f} s), {time.strftime("%Y-%m-%d %H:%M")}, {platform.node()}:
{os.cpu_count()} cores shared by the hub, PostgreSQL, Redis and the two client processes.

{r["inspectors"]:,} inspectors on `myAssignments` (every inspector of market regulation,
culture and fire), {r["wall_screens"]:,} wall screens on `taskProgress`, one WebSocket each
(graphql-transport-ws). The draw took {r["draw_seconds"]} s (the mutation's answer, commit
included); its events are written at its end.

| subscription | notices | p50 ms | p99 ms | max ms |
|---|---|---|---|---|
{rows}

Event-to-client: from the event's write in the draw's transaction (PostgreSQL's clock) to its
arrival at the client (same host), so it includes the rest of the draw's transaction and its
commit, the NOTIFY, the hub reading the events, running each subscriber's selection, and the
WebSocket.

- notices expected {r["notices_expected"]:,}, received {r["notices_received"]:,},
  errors {r["errors"]}
- hub resident memory: {r["rss_mib_before"]} MiB before the connections,
  {r["rss_mib_with_subscriptions"]} MiB with them open: **{r["kib_per_subscription"]} KiB per
  open subscription** (its WebSocket, protocol handler, context and queue)
- hub CPU from the draw's request to the last notice: {r["hub_cpu_seconds_fan_out"]} s
  (the draw itself included)
- from an event's write to its hand-out in the hub process (commit, NOTIFY, the feed reading
  it; before any subscriber's selection runs): p50 ≤ {r["feed_lag_ms_p50_at_most"]:g} ms,
  p99 ≤ {r["feed_lag_ms_p99_at_most"]:g} ms (bucket bounds of `jsh_event_lag_seconds`)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=2000)
    parser.add_argument("--visits", type=int, default=1000)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        asyncio.run(_client(args.client, json.loads(sys.stdin.readline())))
        return
    start = time.perf_counter()
    result = asyncio.run(run(args.subscriptions, args.visits, args.entities))
    seconds = time.perf_counter() - start
    command = "python -m bench.subscriptions " + " ".join(sys.argv[1:])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "subscriptions.json").write_text(json.dumps(result, indent=2) + "\n")
    text = report(result, command.strip(), seconds)
    (RESULTS / "subscriptions.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
