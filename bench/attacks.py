"""The attacks of issue 11 against one hub process, while a probe reads one entity every 250 ms:

    python -m bench.attacks [--seconds 20] [--entities 20000] [--prefix atk_] [--attacks 1,2,3,4,5]

Seeds (or reuses) the demo departments under the prefix (20,000 entities, the demo's size),
starts a Redis of its own (attack 4 stops it with SIGSTOP), fire rescue's demo API and one
hub process (`gateway.cli serve`, default rate limits, the cache on as in the demo). Then,
after a quiet baseline, runs each attack class for `--seconds` from a separate process while
the probe (an officer of its own) reads one entity every 250 ms on a fixed schedule, and
prints per attack the probe's p50 / p99 / worst latency and its failures (not 200, errors in
the answer, or no answer within 5 s), with what the attack got. Writes
bench/results/attacks.md.

Attack classes (issue 11, items 1-5):
  1. bursts of five name searches from four officers: a NUL in the fragment, LIKE wildcards,
     fragments that match nothing (a whole scan without an index), a common two-character
     fragment with totalCount, an over-long fragment;
  2. officers' `_entities` with 2,400 representations, names only (under the cost limit) and
     with every department's permits;
  3. the public's `publishedResults` with a fresh X-Forwarded-For on every request (addresses
     and garbage such as `not-an-ip-7`);
  4. the hub's Redis frozen with SIGSTOP for the whole attack (resumed after);
  5. officers sending operations with unique names (`query Op<random>`) while /metrics is
     scraped every second; its size before and after is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import platform
import random
import secrets
import signal
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import psutil

from adapters import settings as settings_mod
from bench.procs import ROOT, free_port, start_hub
from bench.run import Departments, ensure_seeded, log
from embedded.redis import start_redis
from gateway.auth import AuthConfig, issue_token

RESULTS = Path(__file__).parent / "results"
PROBE_EVERY = 0.25
PROBE_TIMEOUT = 5.0
JSON_BODY = {"content-type": "application/json"}  # bodies sent compact, as clients do
ENTITY = "query($u: String!) { entity(uscc: $u) { uscc name status credit { grade } } }"
SEARCH = """query($f: EntityFilter) {
  entities(filter: $f, first: 20) { totalCount edges { node { uscc name } } } }"""
REPRESENTATIONS = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Entity { uscc name permits { number department { code } } } } }"""
NAMES = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Entity { uscc name } } }"
PUBLISHED = "{ publishedResults(first: 5) { edges { cursor node { uscc } } } }"
ATTACKS = {
    1: "NUL / pathological nameContains bursts",
    2: "big `_entities` representation lists",
    3: "X-Forwarded-For rotation against the public limit",
    4: "SIGSTOPped Redis",
    5: "unique operation names flooding metrics",
}


# -- the attacker, in a process of its own (its load must not delay the probe's loop) ---------
def _search_payloads() -> list[dict[str, Any]]:
    return [
        {"f": {"nameContains": "a\u0000"}},
        {"f": {"nameContains": "%_" * 32}},
        {"f": {"nameContains": f"无此名称{random.randrange(10**6)}"}},
        {"f": {"nameContains": "有限"}},
        {"f": {"nameContains": "x" * 5000}},
    ]


async def _attack(
    kind: int, url: str, tokens: dict[str, str], usccs: list[str], until: float
) -> Counter[str]:
    tally: Counter[str] = Counter()
    base = url.rsplit("/graphql", 1)[0]

    async def send(
        client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str]
    ) -> None:
        try:
            r = await client.post(url, content=orjson.dumps(body), headers={**headers, **JSON_BODY})
        except httpx.HTTPError:
            tally["no answer"] += 1
            return
        if r.status_code != 200:
            tally[str(r.status_code)] += 1
            return
        codes = {e.get("extensions", {}).get("code") for e in r.json().get("errors") or ()}
        tally["200 " + ("/".join(sorted(c or "?" for c in codes)) if codes else "ok")] += 1

    async def officer_loop(
        i: int, work: Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[None]]
    ) -> None:
        headers = {"authorization": f"Bearer {tokens[f'officer-{i}']}"}
        async with httpx.AsyncClient(timeout=30) as client:
            while time.monotonic() < until:
                await work(client, headers)

    async def burst(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        await asyncio.gather(
            *(send(client, {"query": SEARCH, "variables": v}, headers) for v in _search_payloads())
        )

    async def representations(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """2,400 representations, as in the issue: with names only (under the cost limit, over
        the page maximum) and with every department's permits (over the cost limit)."""
        big = [{"__typename": "Entity", "uscc": random.choice(usccs)} for _ in range(2400)]
        await asyncio.gather(
            send(client, {"query": NAMES, "variables": {"r": big}}, headers),
            send(client, {"query": REPRESENTATIONS, "variables": {"r": big}}, headers),
        )

    async def forwarded(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        n = random.randrange(10**9)
        spoofed = f"10.{n % 256}.{n // 256 % 256}.{n // 65536 % 256}" if n % 2 else f"not-an-ip-{n}"
        await send(client, {"query": PUBLISHED}, {"x-forwarded-for": spoofed})

    async def unique_names(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        await send(client, {"query": f"query Op{uuid.uuid4().hex} {{ __typename }}"}, headers)

    async def scrape() -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            while time.monotonic() < until:
                with contextlib.suppress(httpx.HTTPError):
                    r = await client.get(f"{base}/metrics")
                    tally["metrics scraped"] += 1
                    tally["metrics bytes (last)"] = len(r.content)
                await asyncio.sleep(1)

    work = {1: burst, 2: representations, 3: forwarded, 5: unique_names}.get(kind)
    if work is not None:
        loops = [officer_loop(i, work) for i in range(4)]
        await asyncio.gather(*loops, *([scrape()] if kind == 5 else []))
    return tally


def _attacker(
    kind: int, url: str, tokens: dict[str, str], usccs: list[str], until: float, out: Any
) -> None:
    out.put(dict(asyncio.run(_attack(kind, url, tokens, usccs, until))))


# -- the probe ---------------------------------------------------------------------------------
async def probe(url: str, token: str, usccs: list[str], seconds: float) -> tuple[list[float], int]:
    """One entity every PROBE_EVERY seconds on a fixed schedule (a slow answer does not delay
    the next); latencies of the good answers, and the number of failures."""
    latencies: list[float] = []
    failures = 0
    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=PROBE_TIMEOUT, headers=headers) as client:

        async def one(uscc: str) -> None:
            nonlocal failures
            start = time.perf_counter()
            try:
                r = await client.post(url, json={"query": ENTITY, "variables": {"u": uscc}})
                ok = r.status_code == 200 and not r.json().get("errors")
            except (httpx.HTTPError, ValueError):
                ok = False
            if ok:
                latencies.append((time.perf_counter() - start) * 1000)
            else:
                failures += 1

        tasks = []
        start = time.monotonic()
        for i in range(int(seconds / PROBE_EVERY)):
            await asyncio.sleep(max(0.0, start + i * PROBE_EVERY - time.monotonic()))
            tasks.append(asyncio.create_task(one(usccs[i % len(usccs)])))
        await asyncio.gather(*tasks)
    return latencies, failures


def percentile(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    ordered = sorted(xs)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


# -- the run -----------------------------------------------------------------------------------
async def sample_usccs(admin: str, prefix: str, n: int = 200) -> list[str]:
    conn = await asyncpg.connect(settings_mod.database_dsn(admin, f"{prefix}market"))
    try:
        rows = await conn.fetch("SELECT tyshxydm FROM scztdj TABLESAMPLE SYSTEM (20) LIMIT $1", n)
        return [r[0] for r in rows]
    finally:
        await conn.close()


async def measure(
    kind: int | None,
    url: str,
    tokens: dict[str, str],
    usccs: list[str],
    seconds: float,
    redis_pid: int,
) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    until = time.monotonic() + seconds
    attacker = None
    if kind not in (None, 4):  # 4 is Redis frozen: the probe alone
        attacker = ctx.Process(target=_attacker, args=(kind, url, tokens, usccs, until, out))
        attacker.start()
    metrics_before = await _metrics_size(url)
    stopped = False
    try:
        if kind == 4:
            os.kill(redis_pid, signal.SIGSTOP)
            stopped = True
        latencies, failures = await probe(url, tokens["probe"], usccs, seconds)
    finally:
        if stopped:
            os.kill(redis_pid, signal.SIGCONT)
    tally: dict[str, int] = {}
    if attacker is not None:
        tally = await asyncio.to_thread(out.get, True, seconds + 120)
        attacker.join(30)
    return {
        "attack": kind,
        "label": ATTACKS.get(kind or 0, "none (baseline)"),
        "probes": len(latencies) + failures,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies) if latencies else None,
        "failures": failures,
        "attack_answers": tally,
        "metrics_bytes": (metrics_before, await _metrics_size(url)),
    }


async def _metrics_size(url: str) -> int | None:
    async with httpx.AsyncClient(timeout=30) as client:
        try:
            return len((await client.get(url.rsplit("/graphql", 1)[0] + "/metrics")).content)
        except httpx.HTTPError:
            return None


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}"


def report(rows: list[dict[str, Any]], args: argparse.Namespace, command: str) -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    lines = [
        "# Attacks against one hub process (issue 11)",
        "",
        f"`{command}` — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.seconds:g} s per attack, "
        f"{args.entities:,} entities, one hub process (uvicorn, default rate limits, cache on); "
        f"{os.cpu_count()} cores ({cpu}), {psutil.virtual_memory().total / 2**30:.1f} GiB, shared "
        "with PostgreSQL, Redis and the attack and probe clients. The probe reads one entity "
        f"every {PROBE_EVERY * 1000:.0f} ms (a failure: not 200, errors, or no answer in "
        f"{PROBE_TIMEOUT:g} s). Bar: p99 under 100 ms for every attack, 0 failures.",
        "",
        "| attack | probe p50 ms | probe p99 ms | probe worst ms | probe failures / requests "
        "| what the attack got |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        got = ", ".join(f"{k}: {v:,}" for k, v in sorted(r["attack_answers"].items()))
        if r["attack"] == 5:
            before, after = r["metrics_bytes"]
            got += f"; /metrics {before or 0:,} → {after or 0:,} bytes"
        name = f"{r['attack']}. {r['label']}" if r["attack"] else r["label"]
        lines.append(
            f"| {name} | {_fmt(r['p50'])} | {_fmt(r['p99'])} | {_fmt(r['max'])} | "
            f"{r['failures']} / {r['probes']} | {got or '–'} |"
        )
    return "\n".join(lines) + "\n"


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    admin = os.environ.get("DATABASE_URL", settings_mod.DEFAULT_DATABASE_URL)
    await asyncio.to_thread(ensure_seeded, admin, args.entities, args.prefix)
    usccs = await sample_usccs(admin, args.prefix)
    workdir = RESULTS / "raw" / f"attacks-{time.strftime('%Y%m%d-%H%M%S')}"
    workdir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    redis = start_redis(workdir)
    departments = Departments(ROOT / "departments.toml")
    env = {
        **os.environ,
        "DATABASE_URL": admin,
        "REDIS_URL": redis.url,
        "HUB_DB_PREFIX": args.prefix,
        "HUB_JWT_SECRET": secret,
        "HUB_CACHE": "on",
        "HUB_LOG_LEVEL": "WARNING",
        "HUB_DEPARTMENTS": str(departments.path),
    }
    auth = AuthConfig.from_env(env)
    tokens = {
        "probe": issue_token(auth, "probe", "market", ["officer"], ttl=3600),
        **{
            f"officer-{i}": issue_token(auth, f"attacker-{i}", "market", ["officer"], ttl=3600)
            for i in range(4)
        },
    }
    hub = None
    try:
        departments.start_apis(env, workdir)
        hub = start_hub(free_port(), 1, env, tokens["probe"], workdir)
        await hub.wait_ready({"query": ENTITY, "variables": {"u": usccs[0]}})
        await probe(hub.url, tokens["probe"], usccs, 3)  # warm: pools, plans, the cache
        rows = []
        for kind in [None, *args.attacks]:
            name = "baseline" if kind is None else f"attack {kind}: {ATTACKS[kind]}"
            log(f"{name} for {args.seconds:g} s")
            row = await measure(kind, hub.url, tokens, usccs, args.seconds, redis.process.pid)
            log(
                f"  probe p50 {_fmt(row['p50'])} ms, p99 {_fmt(row['p99'])} ms, "
                f"failures {row['failures']}; the attack got {row['attack_answers']}"
            )
            rows.append(row)
            await asyncio.sleep(args.pause)  # breakers half-open again, sockets settle
        return rows
    finally:
        if hub is not None:
            hub.stop()
        departments.stop_apis()
        with contextlib.suppress(ProcessLookupError):
            os.kill(redis.process.pid, signal.SIGCONT)
        redis.stop()


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.attacks", description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--entities", type=int, default=20_000)
    p.add_argument("--prefix", default="atk_")
    p.add_argument("--attacks", default="1,2,3,4,5", help="which attack classes, e.g. 1,4")
    p.add_argument("--pause", type=float, default=6, help="seconds between attacks")
    args = p.parse_args()
    args.attacks = [int(a) for a in args.attacks.split(",") if a]
    unknown = set(args.attacks) - set(ATTACKS)
    if unknown:
        p.error(f"unknown attack(s) {sorted(unknown)}; they are {sorted(ATTACKS)}")
    command = "python -m bench.attacks" + "".join(
        f" --{k} {v}"
        for k, v in (("seconds", args.seconds), ("entities", args.entities))
        if v != p.get_default(k)
    )
    rows = asyncio.run(run(args))
    text = report(rows, args, command)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "attacks.md").write_text(text)


if __name__ == "__main__":
    main()
