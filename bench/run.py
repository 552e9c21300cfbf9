"""The hub against PostGraphile 4 at the reference scale, one command:

    python -m bench.run [--quick] [--duration S] [--rounds N] [--processes 1,2]
                        [--workloads W1,W2,W3,W4,W5] [--hub-cache on|off] [--departments FILE]

Seeds (or reuses) the demo departments at 1,081,742 entities under the prefix `ref_` on
DATABASE_URL (the health commission's on MYSQL_URL; the six others are the ones read here);
installs PostGraphile 4 and autocannon into bench/.node (git-ignored) unless there; then,
with one server process each and again with two, runs the hub and PostGraphile
(over the market-regulation database) in alternating blocks of interleaved rounds, driven by
the same autocannon driver (bench/load.mjs): 16 connections, every request with other
variables, medians over the rounds. Workloads: W1 one entity's full record; W2 a page of 100
entities of one district with permits and penalties of market regulation (the like-for-like
query, also against PostGraphile and the direct-SQL floor); W3 the same page from every
department; W4 the merged checklist preview; W5 a 5% draw with teams over the whole city.
Statements per request are counted on the wire in a separate pass (bench/pgcount.py).
Writes bench/results/latest.md (the table, the machine, the command) and latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import secrets
import statistics
import subprocess
import sys
import time
import tomllib
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import orjson
import psutil

from adapters import settings as settings_mod
from bench import workloads as wl
from bench.draw_reference import seeded_size
from bench.pgcount import CountingProxy, diff
from bench.procs import (
    ROOT,
    RssSampler,
    Server,
    ensure_node_packages,
    free_port,
    run_load,
    start_hub,
    start_postgraphile,
    tree_cpu,
)
from gateway.auth import AuthConfig, issue_token
from store import signing

PREFIX = "ref_"
RESULTS = Path(__file__).parent / "results"
# Variable sets of the warm phase: more than the connections (no two identical requests in
# flight), few enough that the warm-up requests each one and a warm run cycles through them.
WARM_SET = 32
PROBE = {"query": "{ __typename }"}


@dataclass(frozen=True, slots=True)
class Target:
    key: str  # e.g. "W2/hub"
    workload: str  # W1..W4, or W2pg for PostGraphile's W2 document
    server: str  # hub | postgraphile
    label: str


TARGETS = [
    Target("W2/hub", "W2", "hub", "W2 page of 100, market permits + penalties"),
    Target("W2/postgraphile", "W2pg", "postgraphile", "W2 page of 100, market permits + penalties"),
    Target("W1/hub", "W1", "hub", "W1 one entity, full record, 6 departments"),
    Target("W3/hub", "W3", "hub", "W3 page of 100, every department"),
    Target("W4/hub", "W4", "hub", "W4 merged checklist preview (3 departments)"),
]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def median(xs: list[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return statistics.median(vals) if vals else None


# -- setup ------------------------------------------------------------------------------------
def ensure_seeded(admin: str, entities: int, prefix: str = PREFIX) -> None:
    size = asyncio.run(seeded_size(admin, prefix))
    if size == entities:
        log(f"reusing {prefix}* ({size:,} entities)")
        return
    log(f"seeding {entities:,} entities under {prefix}… (found {size})")
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "demo.seed", "--database-url", admin, "--prefix", prefix]
    subprocess.run([*cmd, "--entities", str(entities)], check=True, cwd=ROOT)
    log(f"seeded in {time.perf_counter() - start:.0f} s")


def with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit((parts.scheme, f"{auth}{host}:{port}", parts.path, parts.query, ""))


class Departments:
    """The hub's department list (HUB_DEPARTMENTS or departments.toml); the demo's fire API is
    started for an `http` department that reads it (like `hub demo` does)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.spec = tomllib.loads(path.read_text())["departments"]
        self.apis: list[subprocess.Popen[bytes]] = []
        self.env_keys: set[str] = set()  # variables set for the hub by start_apis

    def start_apis(self, env: dict[str, str], logdir: Path) -> list[str]:
        started = []
        for code, spec in self.spec.items():
            if spec.get("kind") != "http" or env.get(spec.get("url_env", "")):
                continue
            if spec.get("mapping") != "fire_http":
                sys.exit(f"department {code} is an HTTP API: set {spec.get('url_env')}")
            port, token = free_port(), secrets.token_urlsafe(24)
            token_env = spec.get("token_env") or "FIRE_API_TOKEN"
            env[spec["url_env"]], env[token_env] = f"http://127.0.0.1:{port}", token
            self.env_keys |= {spec["url_env"], token_env}
            out = (logdir / f"fire-api-{port}.log").open("wb")
            self.apis.append(
                subprocess.Popen(
                    [sys.executable, "-m", "demo.fire_api", "--port", str(port), "--token", token],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            for _ in range(300):
                try:
                    headers = {"authorization": f"Bearer {token}"}
                    if httpx.get(f"{env[spec['url_env']]}/health", headers=headers).is_success:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            else:
                sys.exit(f"the {code} API did not start; see {logdir}")
            started.append(f"{code} (demo.fire_api on port {port})")
        return started

    def stop_apis(self) -> None:
        for p in self.apis:
            p.terminate()
            p.wait(10)
        self.apis.clear()


def machine(admin: str, versions: dict[str, str]) -> dict[str, Any]:
    async def pg() -> str:
        conn = await asyncpg.connect(admin)
        try:
            return await conn.fetchval("SHOW server_version")
        finally:
            await conn.close()

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memoryGiB": round(psutil.virtual_memory().total / 2**30, 1),
        "postgresql": asyncio.run(pg()),
        "python": platform.python_version(),
        "node": node,
        **versions,
    }


# -- one configuration: the hub and PostGraphile with N processes ----------------------------
class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.admin = os.environ.get("DATABASE_URL", settings_mod.DEFAULT_DATABASE_URL)
        self.market = settings_mod.database_dsn(self.admin, f"{PREFIX}market")
        self.secret = secrets.token_urlsafe(32)
        self.env = {
            "HUB_AUDIT_KEY": signing.new_private_key(),  # unless one is configured
            **os.environ,
            "DATABASE_URL": self.admin,
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "HUB_DB_PREFIX": PREFIX,
            "HUB_JWT_SECRET": self.secret,
            "HUB_RATE_PLANNER": "100000000/60",  # rate limits must not interfere
            "HUB_LOG_LEVEL": "WARNING",
            "HUB_CACHE": args.hub_cache,
        }
        self.env["HUB_DEPARTMENTS"] = str(Path(args.departments).resolve())
        self.departments = Departments(Path(self.env["HUB_DEPARTMENTS"]))
        self.token = issue_token(
            AuthConfig.from_env(self.env), "bench", "market", ["planner"], ttl=6 * 3600
        )
        self.runs: list[dict[str, Any]] = []
        self.floor: list[dict[str, Any]] = []
        self.draws: list[dict[str, Any]] = []
        self.checks: dict[str, Any] = {}
        self.targets = [t for t in TARGETS if t.key.split("/")[0] in args.workloads]
        self.hub_log: dict[int, dict[str, int]] = {}  # processes -> warning/error lines
        self.started: list[Server] = []
        self.statements: dict[str, Any] = {}
        self.cold_offset: dict[str, int] = defaultdict(int)
        # Server logs and the load tool's scratch files (bench/results/raw/ is git-ignored).
        self.workdir = RESULTS / "raw" / time.strftime("%Y%m%d-%H%M%S")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.pools: wl.Pools
        self.dept_apis: list[str] = []

    # Each workload family owns a region of the shuffled variables (W2 and PostGraphile's W2
    # share one: different servers). A region starts with the warm set, then a reserve for the
    # statement count's cold requests, then one slice per cold run that nobody requested
    # before in this benchmark.
    def region(self, workload: str) -> tuple[int, int]:
        half = len(self.pools.usccs) // 2
        if workload in ("W1", "W2", "W2pg"):
            return 0, half
        return half, len(self.pools.usccs) - half  # W3, W4

    def warm_bodies(self, workload: str) -> list[str]:
        return wl.bodies(workload, self.pools, self.region(workload)[0], WARM_SET)

    def count_bodies(self, workload: str) -> list[str]:
        start = self.region(workload)[0] + WARM_SET
        return wl.bodies(workload, self.pools, start, self.args.count_requests)

    def cold_bodies(self, workload: str) -> list[str]:
        """Pages nobody read before: W2 on the hub and on PostGraphile take different slices
        of their shared region (the same pages would reach the second server already in
        PostgreSQL's buffers, warmed by the first)."""
        start, size = self.region(workload)
        family = "W2" if workload == "W2pg" else workload
        sharing = 2 if family == "W2" and "postgraphile" in {t.server for t in self.targets} else 1
        reserved = WARM_SET + self.args.count_requests
        runs = self.args.rounds * len(self.args.processes) * sharing
        per_run = (size - reserved) // runs
        offset = start + reserved + self.cold_offset[family] * per_run
        self.cold_offset[family] += 1
        return wl.bodies(workload, self.pools, offset, per_run)

    async def start(self, name: str, processes: int) -> Server:
        if name == "hub":
            server = start_hub(free_port(), processes, self.env, self.token, self.workdir)
        else:
            server = start_postgraphile(free_port(), processes, self.market, self.workdir)
        self.started.append(server)
        await server.wait_ready(PROBE)
        return server

    def stop(self, server: Server) -> None:
        server.stop()
        if server.name == "hub":
            summary = self.hub_log.setdefault(server.processes, {})
            for msg, n in log_summary(server.log).items():
                summary[msg] = summary.get(msg, 0) + n

    async def check(self, hub: Server, pg: Server) -> None:
        """Every workload answers without errors; W2 gives the same rows from the hub,
        PostGraphile and the direct-SQL floor (a few pages, compared entity by entity)."""
        async with httpx.AsyncClient(timeout=120) as client:
            for t in self.targets:
                server = hub if t.server == "hub" else pg
                for body in self.warm_bodies(t.workload)[:3]:
                    r = await client.post(server.url, content=body, headers=self.headers(server))
                    answer = r.json()
                    if r.status_code != 200 or answer.get("errors"):
                        raise RuntimeError(f"{t.key} answers {r.status_code}: {r.text[:600]}")
            pages = self.pools.pages[: self.args.spot_check]
            conn = await asyncpg.connect(self.market)
            same, entities, permits, penalties = 0, 0, 0, 0
            try:
                for page in pages:
                    h = await client.post(
                        hub.url,
                        headers=self.headers(hub),
                        json={
                            "query": wl.W2,
                            "variables": {
                                "d": page.district,
                                "after": wl.encode_cursor(page.after),
                            },
                        },
                    )
                    p = await client.post(
                        pg.url,
                        json={
                            "query": wl.W2_POSTGRAPHILE,
                            "variables": {
                                "d": page.district,
                                "after": wl.postgraphile_cursor(page.after),
                            },
                        },
                    )
                    f = orjson.loads(await wl.floor_page(conn, page))
                    hub_rows = [
                        (
                            e["node"]["uscc"],
                            sorted(x["id"] for x in e["node"]["permits"]),
                            sorted(x["id"] for x in e["node"]["penalties"]),
                        )
                        for e in h.json()["data"]["entities"]["edges"]
                    ]
                    pg_rows = [
                        (
                            e["node"]["tyshxydm"],
                            sorted(x["xkid"] for x in e["node"]["xzxksByTyshxydm"]["nodes"]),
                            sorted(x["cfid"] for x in e["node"]["xzcfsByTyshxydm"]["nodes"]),
                        )
                        for e in p.json()["data"]["allScztdjs"]["edges"]
                    ]
                    floor_rows = [
                        (
                            e["node"]["tyshxydm"],
                            sorted(str(x["xkid"]) for x in e["node"]["permits"]),
                            sorted(str(x["cfid"]) for x in e["node"]["penalties"]),
                        )
                        for e in f["data"]["entities"]["edges"]
                    ]
                    if hub_rows == pg_rows == floor_rows:
                        same += 1
                    else:
                        log(
                            f"MISMATCH on page {page}: hub {len(hub_rows)} entities, "
                            f"PostGraphile {len(pg_rows)}, floor {len(floor_rows)}"
                        )
                    entities += len(hub_rows)
                    permits += sum(len(r[1]) for r in hub_rows)
                    penalties += sum(len(r[2]) for r in hub_rows)
            finally:
                await conn.close()
        self.checks = {
            "pages": len(pages),
            "identical": same,
            "entities": entities,
            "permits": permits,
            "penalties": penalties,
        }
        log(
            f"W2 spot check: {same}/{len(pages)} pages identical on the hub, PostGraphile and "
            f"the floor ({entities} entities, {permits} permits, {penalties} penalties)"
        )

    def headers(self, server: Server) -> dict[str, str]:
        return {"content-type": "application/json", **server.headers}

    async def load(self, server: Server, bodies: list[str], seconds: float) -> dict[str, Any]:
        return await run_load(server, bodies, self.args.connections, seconds, self.workdir)

    async def configuration(self, processes: int) -> None:
        """Rounds with N processes per server. One server runs at a time (started, warmed up,
        measured, stopped), in alternating order: the database server's connection limit
        (100 here) cannot hold an idle hub's pools and a loaded PostGraphile together."""
        first = processes == self.args.processes[0]
        if first:
            hub, pg = await asyncio.gather(self.start("hub", 1), self.start("postgraphile", 1))
            try:
                await self.check(hub, pg)
            finally:
                self.stop(hub)
                self.stop(pg)
        names = [n for n in ("hub", "postgraphile") if any(t.server == n for t in self.targets)]
        for rnd in range(self.args.rounds):
            for name in names if rnd % 2 == 0 else names[::-1]:
                server = await self.start(name, processes)
                try:
                    await self.measure(server, rnd)
                finally:
                    self.stop(server)
            if first and "W2" in self.args.workloads:
                f = await wl.run_floor(
                    self.market, self.pools.pages[::-1], self.args.connections, self.args.duration
                )
                f["round"] = rnd + 1
                self.floor.append(f)
                log(
                    f"  round {rnd + 1} direct-SQL floor W2 {f['reqPerSec']:8.1f} req/s"
                    f"  p50 {f['p50']:6.0f} ms  p99 {f['p99']:6.0f} ms"
                )
        if first and "W5" in self.args.workloads:
            hub = await self.start("hub", processes)
            try:
                await self.draw(hub)
            finally:
                self.stop(hub)

    async def measure(self, server: Server, rnd: int) -> None:
        """A server's targets: a warm-up, one request per warm variable set (a cache fills
        here, the process warms), then every target cold and warm."""
        targets = [t for t in self.targets if t.server == server.name]
        for t in targets:
            r = await run_load(
                server,
                self.warm_bodies(t.workload),
                self.args.connections,
                0,
                self.workdir,
                amount=WARM_SET,
            )
            log(f"  warm-up {t.key}/{server.processes}: {r['reqPerSec']:.1f} req/s")
        for phase in ("cold", "warm"):
            for t in targets if rnd % 2 == 0 else targets[::-1]:
                bodies = (
                    self.cold_bodies(t.workload)
                    if phase == "cold"
                    else self.warm_bodies(t.workload)
                )
                r = await self.load(server, bodies, self.args.duration)
                r.update(target=t.key, processes=server.processes, round=rnd + 1, phase=phase)
                self.runs.append(r)
                codes = ", ".join(f"{c} {n}" for c, n in r["errorCodes"].items())
                log(
                    f"  round {rnd + 1} {phase:4} {t.key}/{server.processes:<3}"
                    f" {r['reqPerSec']:8.1f} req/s  p50 {r['p50']:6.0f} ms  p99 {r['p99']:6.0f} ms"
                    f"  {r['peakRssMiB']:5.0f} MiB  {r['failed']} failed"
                    + (f" ({codes})" if codes else "")
                    + ("  (variables wrapped)" if r["wrapped"] and phase == "cold" else "")
                )

    async def draw(self, hub: Server) -> None:
        """W5: create and draw a whole-city task through the mutations, one per round."""
        async with httpx.AsyncClient(timeout=1800, headers=self.headers(hub)) as client:
            for n in range(self.args.rounds):
                key = f"bench-{uuid.uuid4().hex}"
                r = await client.post(hub.url, json=wl.w5_create_body(key))
                if r.json().get("errors"):
                    raise RuntimeError(f"task not created: {r.text[:600]}")
                task = r.json()["data"]["createJointInspectionTask"]["id"]
                body = {"query": wl.W5_DRAW, "variables": {"id": task, "key": key + "-draw"}}
                cpu0 = tree_cpu(hub.pid)
                with RssSampler(hub.pid) as rss:
                    start = time.perf_counter()
                    r = await client.post(hub.url, json=body)
                    seconds = time.perf_counter() - start
                answer = r.json()
                if answer.get("errors"):
                    e = answer["errors"][0]
                    code = (e.get("extensions") or {}).get("code", "ERROR")
                    error = f"{code}: {e.get('message', '')}"[:300]
                    self.draws.append({"seconds": seconds, "error": error})
                    log(f"  W5 draw {n + 1} failed after {seconds:.1f} s: {error}")
                    return  # the same failure would repeat
                drawn = answer["data"]["drawJointInspection"]
                visits = sum(g["drawn"] for g in drawn["population"])
                population = sum(g["population"] for g in drawn["population"])
                self.draws.append(
                    {
                        "seconds": seconds,
                        "peakRssMiB": rss.peak / 2**20,
                        "visits": visits,
                        "population": population,
                        "serverCpuSeconds": tree_cpu(hub.pid) - cpu0,
                    }
                )
                log(
                    f"  W5 draw {n + 1}: {seconds:.1f} s, {visits:,} visits of {population:,},"
                    f" peak {rss.peak / 2**20:.0f} MiB"
                )

    # -- statements per request, on the wire -------------------------------------------------
    async def count_statements(self) -> None:
        """One hub and one PostGraphile (one process each) reaching PostgreSQL through the
        counting proxy: after a warm-up, N requests of each workload (4 at a time), the
        statements they caused per database divided by N."""
        parts = urlsplit(self.admin)
        proxy = CountingProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
        port = await proxy.start()
        proxied = with_port(self.admin, port)
        env = {k: v for k, v in self.env.items() if k not in self.departments.env_keys}
        env["DATABASE_URL"] = proxied
        apis = Departments(self.departments.path)
        # In a thread: the proxy serves on this event loop while the API checks its database.
        await asyncio.to_thread(apis.start_apis, env, self.workdir)
        hub = start_hub(free_port(), 1, env, self.token, self.workdir)
        pg = start_postgraphile(
            free_port(), 1, settings_mod.database_dsn(proxied, f"{PREFIX}market"), self.workdir
        )
        n = self.args.count_requests
        try:
            await asyncio.gather(hub.wait_ready(PROBE), pg.wait_ready(PROBE))
            async with httpx.AsyncClient(timeout=120) as client:
                sem = asyncio.Semaphore(4)

                async def send(server: Server, body: str) -> None:
                    async with sem:
                        await client.post(server.url, content=body, headers=self.headers(server))

                async def count(server: Server, bodies: list[str]) -> dict[str, Any]:
                    before = proxy.snapshot()
                    await asyncio.gather(*(send(server, b) for b in bodies))
                    await asyncio.sleep(0.2)
                    return per_request(diff(proxy.snapshot(), before), len(bodies))

                for t in self.targets:
                    server = hub if t.server == "hub" else pg
                    warm = self.warm_bodies(t.workload)[:n]
                    # Connections opened, statements prepared, the warm set cached (if cached).
                    await asyncio.gather(*(send(server, b) for b in warm))
                    cold = await count(server, self.count_bodies(t.workload))
                    self.statements[t.key] = {"cold": cold, "warm": await count(server, warm)}
                    log(
                        f"  statements {t.key}: cold {fmt_statements(cold)};"
                        f" warm {fmt_statements(self.statements[t.key]['warm'])}"
                    )
                if "W2" in self.args.workloads:
                    await self.count_floor(
                        proxy, settings_mod.database_dsn(proxied, f"{PREFIX}market")
                    )
        finally:
            await asyncio.gather(
                asyncio.to_thread(hub.stop),
                asyncio.to_thread(pg.stop),
                asyncio.to_thread(apis.stop_apis),
            )
            await proxy.stop()

    async def count_floor(self, proxy: CountingProxy, dsn: str) -> None:
        n = self.args.count_requests
        conn = await asyncpg.connect(dsn)
        try:
            pages = self.pools.pages[WARM_SET : WARM_SET + n]
            await wl.floor_page(conn, pages[0])
            before = proxy.snapshot()
            for page in pages:
                await wl.floor_page(conn, page)
            floor = per_request(diff(proxy.snapshot(), before), n)
            self.statements["W2/floor"] = {"cold": floor, "warm": floor}
        finally:
            await conn.close()
        log(f"  statements W2/floor: {fmt_statements(floor)}")

    # -- the whole run ---------------------------------------------------------------------------
    async def run(self) -> None:
        self.pools = await wl.sample_pools(self.market, self.args.variables, self.args.seed)
        log(
            f"{len(self.pools.usccs):,} random entities as variables (sample seed {self.args.seed})"
        )
        self.dept_apis = self.departments.start_apis(self.env, self.workdir)
        try:
            for processes in self.args.processes:
                log(f"— hub and PostGraphile, {processes} process(es) each —")
                await self.configuration(processes)
        finally:
            for server in self.started:
                server.stop()
            self.departments.stop_apis()
        if self.args.count_requests:
            log("— SQL statements per request (counting proxy, separate pass) —")
            await self.count_statements()


def log_summary(path: Path) -> dict[str, int]:
    """Warnings and errors in a hub's log, by message: JSON lines (reason or exception), and
    plain lines outside tracebacks (worker processes may log unformatted)."""
    counts: dict[str, int] = defaultdict(int)
    for line in path.read_text(errors="replace").splitlines():
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            entry = None
        if isinstance(entry, dict):
            if entry.get("level") in ("warning", "error", "critical"):
                msg = str(entry.get("msg", "")).strip()
                exc = str(entry.get("exc", "")).strip().splitlines()
                detail = entry.get("reason") or (exc[-1] if exc else "")
                counts[f"{msg}" + (f" ({detail})" if detail else "")] += 1
        elif line and not line[0].isspace() and not _NOISE.match(line):
            counts[line.strip()[:160]] += 1
    return dict(counts)


# Traceback framing and GraphQL source excerpts, not messages.
_NOISE = re.compile(r"Traceback|The above exception|During handling|INFO|GraphQL request|\d+ \|")


def per_request(counts: dict[str, dict[str, int]], n: int) -> dict[str, Any]:
    by_db = {db: round(c.get("sql", 0) / n, 2) for db, c in counts.items() if c.get("sql")}
    other: dict[str, float] = defaultdict(float)
    for c in counts.values():
        for kind, v in c.items():
            if kind != "sql":
                other[kind] += v / n
    return {
        "sql": round(sum(by_db.values()), 2),
        "byDatabase": by_db,
        "other": {k: round(v, 2) for k, v in other.items()},
        "requests": n,
    }


def fmt_statements(s: dict[str, Any]) -> str:
    dbs = ", ".join(f"{db.removeprefix(PREFIX)} {v:g}" for db, v in sorted(s["byDatabase"].items()))
    return f"{s['sql']:g} ({dbs})"


# -- the report -------------------------------------------------------------------------------
def summarize(bench: Bench) -> dict[str, Any]:
    groups: dict[tuple[str, int, str], list[dict[str, Any]]] = defaultdict(list)
    for r in bench.runs:
        groups[(r["target"], r["processes"], r["phase"])].append(r)
    out: dict[str, Any] = {}
    for (target, procs, phase), rs in groups.items():
        out.setdefault(f"{target}/{procs}", {})[phase] = {
            "reqPerSec": median([r["reqPerSec"] for r in rs]),
            "p50": median([r["p50"] for r in rs]),
            "p99": median([r["p99"] for r in rs]),
            "peakRssMiB": max(r["peakRssMiB"] for r in rs),
            "serverCpuMsPerRequest": median([r["serverCpuMsPerRequest"] for r in rs]),
            "loadCpuShare": median([r["cpuSeconds"] / r["seconds"] for r in rs]),
            "failed": sum(r["failed"] for r in rs),
            "errorCodes": dict(sum((Counter(r.get("errorCodes", {})) for r in rs), Counter())),
            "requests": sum(r["requests"] for r in rs),
            "wrapped": any(r["wrapped"] for r in rs) if phase == "cold" else None,
            "rounds": len(rs),
        }
    return out


def fmt(x: float | None, digits: int = 0) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _stmts(st: dict[str, Any] | None) -> str:
    if not st:
        return "–"
    cold, warm = st["cold"]["sql"], st["warm"]["sql"]
    return f"{cold:g}" if cold == warm else f"{cold:g} / {warm:g}"


def report(bench: Bench, info: dict[str, Any], command: str, elapsed: float) -> str:
    a, s = bench.args, summarize(bench)
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {info['cores']} cores"
        f" ({info['cpu']}), {info['memoryGiB']} GiB, PostgreSQL {info['postgresql']} on the same"
        f" host; Python {info['python']}, Node {info['node']}, PostGraphile {info['postgraphile']},"
        f" autocannon {info['autocannon']}. Command: `{command}` ({elapsed / 60:.1f} min).",
        "",
        f"{a.connections} connections, {a.duration:g} s per run, {a.rounds} interleaved rounds,"
        " medians; every request carries other variables. Reference city: "
        f"{a.entities:,} entities, read from six PostgreSQL department databases.",
        "",
        "| workload | server | procs | cold req/s | cold p50 / p99 ms | warm req/s"
        " | warm p50 / p99 ms | peak RSS MiB | CPU ms/req | SQL stmts/req (cold / warm)"
        " | failed |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for t in bench.targets:
        for procs in a.processes:
            g = s.get(f"{t.key}/{procs}")
            if not g:
                continue
            c, w = g.get("cold", {}), g.get("warm", {})
            cpu = median([c.get("serverCpuMsPerRequest"), w.get("serverCpuMsPerRequest")])
            lines.append(
                _row([
                    t.label, "hub" if t.server == "hub" else "PostGraphile 4", str(procs),
                    fmt(c.get("reqPerSec"), 1), f"{fmt(c.get('p50'))} / {fmt(c.get('p99'))}",
                    fmt(w.get("reqPerSec"), 1), f"{fmt(w.get('p50'))} / {fmt(w.get('p99'))}",
                    fmt(max(c.get("peakRssMiB", 0), w.get("peakRssMiB", 0))), fmt(cpu, 1),
                    _stmts(bench.statements.get(t.key)),
                    f"{c.get('failed', 0)} / {w.get('failed', 0)}",
                ])
            )  # fmt: skip
    floor = median([f["reqPerSec"] for f in bench.floor])
    if bench.floor:
        lines.append(
            _row([
                "W2 direct-SQL floor (asyncpg + orjson; no HTTP, no GraphQL)", "bench process",
                "1", fmt(floor, 1),
                f"{fmt(median([f['p50'] for f in bench.floor]))}"
                f" / {fmt(median([f['p99'] for f in bench.floor]))}",
                "", "", "", "", _stmts(bench.statements.get("W2/floor")), "",
            ])
        )  # fmt: skip
    failed_draws = [x for x in bench.draws if "error" in x]
    if failed_draws:
        lines.append(
            _row([
                "W5 draw 5% with teams, whole city", "hub", str(a.processes[0]),
                f"failed after {failed_draws[0]['seconds']:.1f} s: {failed_draws[0]['error']}",
                "", "", "", "", "", "–", str(len(failed_draws)),
            ])
        )  # fmt: skip
    if d := [x for x in bench.draws if "error" not in x]:
        lines.append(
            _row([
                f"W5 draw 5% with teams, whole city ({d[0]['population']:,} in the population,"
                f" {d[0]['visits']:,} visits)", "hub", str(a.processes[0]),
                f"{fmt(median([x['seconds'] for x in d]), 1)} s per draw (median)", "", "", "",
                fmt(max(x["peakRssMiB"] for x in d)),
                fmt(median([1000 * x["serverCpuSeconds"] for x in d])), "–", "",
            ])
        )  # fmt: skip
    w2 = [
        "",
        "W2, the like-for-like query:",
        "",
        "| procs | hub req/s | PostGraphile req/s | hub / PostGraphile | hub p99 ms"
        " | PostGraphile p99 ms | hub / direct-SQL floor | PostGraphile / floor |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for procs in a.processes:
        for phase in ("cold", "warm"):
            h = s.get(f"W2/hub/{procs}", {}).get(phase)
            p = s.get(f"W2/postgraphile/{procs}", {}).get(phase)
            if not h or not p:
                continue
            w2.append(
                _row([
                    f"{procs} ({phase})", fmt(h["reqPerSec"], 1), fmt(p["reqPerSec"], 1),
                    f"**{fmt(h['reqPerSec'] / p['reqPerSec'] if p['reqPerSec'] else None, 2)}×**",
                    fmt(h["p99"]), fmt(p["p99"]),
                    f"{fmt(h['reqPerSec'] / floor if floor else None, 2)}×",
                    f"{fmt(p['reqPerSec'] / floor if floor else None, 2)}×",
                ])
            )  # fmt: skip
    if len(w2) > 6:
        lines += w2
    if bench.statements:
        lines += [
            "",
            "SQL statements per request by database (cold; warm where it differs), and other"
            " protocol traffic (session resets, driver catalog queries, transaction control):",
            "",
            "| workload | statements | by database | other |",
            "|---|---|---|---|",
        ]
        for key, st in bench.statements.items():
            for phase in ("cold", "warm"):
                x = st[phase]
                if phase == "warm" and x["byDatabase"] == st["cold"]["byDatabase"]:
                    continue
                dbs = ", ".join(
                    f"{db.removeprefix(PREFIX)} {v:g}" for db, v in sorted(x["byDatabase"].items())
                )
                other = ", ".join(f"{k} {v:g}" for k, v in sorted(x["other"].items()))
                lines.append(_row([f"{key} ({phase})", f"{x['sql']:g}", dbs, other or "–"]))
    lines += notes(bench, info)
    return "\n".join(lines) + "\n"


def notes(bench: Bench, info: dict[str, Any]) -> list[str]:
    a, c = bench.args, bench.checks
    failed = sum(r["failed"] for r in bench.runs)
    wrapped = sorted({r["target"] for r in bench.runs if r["phase"] == "cold" and r["wrapped"]})
    load_share = median([r["cpuSeconds"] / r["seconds"] for r in bench.runs]) or 0
    cache = (
        "; with it off, cold and warm are the same configuration and differ only in"
        " PostgreSQL's buffer cache."
        if a.hub_cache == "off"
        else " (cold pays the misses and the fills). PostGraphile has no cache of its own."
    )
    out = [
        "",
        "Notes:",
        f"- Cold: each request's variables were never requested before in this benchmark (a"
        f" cache misses every one); warm: a fixed set of {WARM_SET} variable sets, each requested"
        " in a warm-up after every server start and again in every warm run. Each server is"
        " started for its block of each round and stopped after (one server up at a time: the"
        " database's connection limit). The hub ran with"
        f" HUB_CACHE={a.hub_cache} in both{cache}"
        + (f" Cold runs that cycled their variables: {', '.join(wrapped)}." if wrapped else ""),
        f"- W2 rows verified identical on the hub, PostGraphile and the floor on"
        f" {c.get('identical', 0)}/{c.get('pages', 0)} pages ({c.get('entities', 0)} entities,"
        f" {c.get('permits', 0)} permits, {c.get('penalties', 0)} penalties). The market database"
        " has no foreign keys from XZXK/XZCF to SCZTDJ: PostGraphile gets the relations from"
        " smart tags (bench/postgraphile.tags.json5), the database is unchanged. PostGraphile"
        " returns the stored codes; the hub maps codes to the unified vocabulary, checks field"
        " permissions, and writes an access-log row per request to its store (the `hub`"
        " statement).",
        f"- failed = non-2xx, socket errors, timeouts and answers with GraphQL errors, summed"
        f" over the rounds ({failed} in all). Latencies are autocannon's; requests still in"
        " flight when a run ends are not counted.",
        "- Peak RSS: the server's process tree (uvicorn or node cluster master and workers),"
        " sampled every 0.25 s. CPU ms/req: the server tree's CPU time over its requests;"
        " PostgreSQL's own CPU is not in it.",
        f"- {info['cores']} cores shared by the server, PostgreSQL and the load tool (autocannon,"
        f" one Node process, ≈{load_share * 100:.0f}% of a core in the median run); the"
        " direct-SQL floor runs in the benchmark's own Python process (16 tasks, one core).",
        "- SQL statements: counted on the wire by a proxy (bench/pgcount.py) in a separate pass,"
        f" {a.count_requests} requests per workload and phase, 4 at a time, after a warm-up."
        " pg_stat_statements is available but not preloaded on this server, and"
        " pg_stat_database.xact_commit counts transactions, not statements.",
    ]
    codes: Counter[str] = Counter()
    for r in bench.runs:
        codes.update(r.get("errorCodes", {}))
    samples = list(dict.fromkeys(m for r in bench.runs for m in r.get("errorSamples", [])))
    if codes:
        out.append(
            "- GraphQL errors in the answers, by code: "
            + ", ".join(f"{code} {n:,}" for code, n in codes.most_common())
            + "; for instance: "
            + "; ".join(f"“{m}”" for m in samples[:4])
            + ". (A department's call has a 2 s budget, waiting for a pooled connection included.)"
        )
    for procs, counts in bench.hub_log.items():
        if counts:
            top = sorted(counts.items(), key=lambda kv: -kv[1])[:4]
            out.append(
                f"- The hub's log with {procs} process(es), over the whole configuration: "
                + "; ".join(f"{n:,} × {msg}" for msg, n in top)
                + ". (ClientDisconnect: requests cut off when a run ends.)"
            )
    if bench.dept_apis:
        out.append(
            "- Department APIs started for the hub (as `hub demo` does):"
            f" {', '.join(bench.dept_apis)}; their processes are not in the hub's memory or CPU"
            " figures."
        )
    if bench.draws:
        out.append(
            f"- W5: createJointInspectionTask + drawJointInspection over HTTP, {len(bench.draws)}"
            " draws (one per round); the time of the draw request, the hub tree's peak RSS and"
            " CPU (ms per draw)."
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="5 s runs, 2 rounds (smoke test)")
    parser.add_argument("--duration", type=float, help="seconds per run (default 10; quick 5)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3; quick 2)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--processes", default="1,2", help="server processes per configuration")
    parser.add_argument("--entities", type=int, default=1_081_742)
    parser.add_argument(
        "--variables", type=int, default=120_000, help="entities sampled as variables"
    )
    parser.add_argument("--seed", type=int, help="sample seed (default: random, recorded)")
    parser.add_argument("--hub-cache", choices=["on", "off"], default="on", help="HUB_CACHE")
    parser.add_argument(
        "--departments",
        default=str(Path(__file__).parent / "departments.toml"),
        help="HUB_DEPARTMENTS for the hub (default bench/departments.toml: all six from their"
        " databases; departments.toml: the repository's, fire through its demo HTTP API)",
    )
    parser.add_argument("--workloads", default="W1,W2,W3,W4,W5", help="a selection, e.g. W2,W5")
    parser.add_argument("--count-requests", type=int, default=40, help="0 skips the count pass")
    parser.add_argument("--spot-check", type=int, default=5, help="W2 pages compared")
    parser.add_argument("--output", default=str(RESULTS / "latest"), help="path without suffix")
    args = parser.parse_args()
    args.duration = args.duration or (5 if args.quick else 10)
    args.rounds = args.rounds or (2 if args.quick else 3)
    args.processes = [int(p) for p in args.processes.split(",")]
    args.workloads = [w.strip().upper() for w in args.workloads.split(",")]
    args.seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    command = "python -m bench.run" + "".join(f" {a}" for a in sys.argv[1:])

    start = time.perf_counter()
    admin = os.environ.get("DATABASE_URL", settings_mod.DEFAULT_DATABASE_URL)
    ensure_seeded(admin, args.entities)
    versions = ensure_node_packages()
    info = machine(admin, versions)
    log(f"machine: {info}")
    bench = Bench(args)
    asyncio.run(bench.run())
    elapsed = time.perf_counter() - start
    table = report(bench, info, command, elapsed)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(table)
    out.with_suffix(".json").write_bytes(
        orjson.dumps(
            {
                "command": command,
                "machine": info,
                "args": vars(args),
                "summary": summarize(bench),
                "runs": bench.runs,
                "floor": bench.floor,
                "draws": bench.draws,
                "statements": bench.statements,
                "checks": bench.checks,
                "hubLog": {str(k): v for k, v in bench.hub_log.items()},
                "elapsedSeconds": elapsed,
            },
            option=orjson.OPT_INDENT_2,
        )
    )
    print("\n" + table)
    log(f"wrote {out.with_suffix('.md')} and {out.with_suffix('.json')} in {elapsed / 60:.1f} min")


if __name__ == "__main__":
    main()
