"""The benchmark's workloads: GraphQL documents for the hub and PostGraphile, varied variables
drawn from the reference register, and the direct-SQL floor of W2 (asyncpg + orjson)."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import statistics
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import orjson

from resolvers.entities import encode_cursor

PAGE = 100
CHECKLIST_DEPARTMENTS = ["market", "culture", "fire"]

# W1: one entity's full record from every department.
W1 = """query W1($u: String!) {
  entity(uscc: $u) {
    uscc name kind status registeredOn address
    district { code name } industry { code name } location { longitude latitude }
    permits { id number name status validFrom validTo commitment department { code name } }
    penalties {
      id decisionNumber kind fine decidedOn serious publicized violation department { code }
    }
    inspections { id inspectedOn result department { code } }
    creditRecords { id kind title decidedOn effectiveTo withdrawnOn deduction sourceDepartment }
    credit { grade score ratedOn lists { kind since until } }
  }
}"""

# W2: a page of one district with permits and penalties of market regulation only.
W2 = """query W2($d: String!, $after: String) {
  entities(filter: {district: [$d]}, first: 100, after: $after) {
    edges { node {
      uscc name kind status registeredOn industry { code }
      permits(department: "market") { id number name status validFrom validTo }
      penalties(department: "market") { id decisionNumber kind fine decidedOn serious }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""

# W2 in PostGraphile's generated schema: the same columns, relations declared by smart tags
# (bench/postgraphile.tags.json5), children newest first as the hub sorts them.
W2_POSTGRAPHILE = """query W2($d: String!, $after: Cursor) {
  allScztdjs(condition: {xzqh: $d}, first: 100, after: $after, orderBy: PRIMARY_KEY_ASC) {
    edges { node {
      tyshxydm qymc ztlx djzt clrq hyml
      xzxksByTyshxydm(orderBy: XKRQ_DESC) { nodes { xkid xkwsh xkmc xkzt xkrq yxqz } }
      xzcfsByTyshxydm(orderBy: CFJDRQ_DESC) { nodes { cfid cfjdswh cfzl fkje cfjdrq yzwf } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""

# W3: the same page with fields from every department.
W3 = """query W3($d: String!, $after: String) {
  entities(filter: {district: [$d]}, first: 100, after: $after) {
    edges { node {
      uscc name kind status registeredOn district { code name } industry { code name }
      permits { id number name status validTo department { code } }
      penalties { id decisionNumber kind fine decidedOn serious department { code } }
      inspections { inspectedOn result department { code } }
      creditRecords { kind title decidedOn effectiveTo withdrawnOn sourceDepartment }
      credit { grade score lists { kind since until } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""

# W4: the merged checklist preview of three departments for one entity.
W4 = """query W4($u: String!) {
  checklistPreview(departments: ["market", "culture", "fire"], uscc: $u) {
    separateVisits jointVisits
    form { rawCount mergedCount entries {
      key name delegable requirements { itemCode legalBasis department { code } } } }
  }
}"""

# W5: a draw at 5% of every grade with teams of two over the whole city.
W5_CREATE = """mutation W5Create($key: String!, $start: Date!, $end: Date!) {
  createJointInspectionTask(input: {
    title: "bench: whole-city draw", leadDepartment: "market", departments: ["culture", "fire"],
    plan: { ratios: [{grade: A, ratio: 0.05}, {grade: B, ratio: 0.05},
                     {grade: C, ratio: 0.05}, {grade: D, ratio: 0.05}] },
    teamSize: 2, windowStart: $start, windowEnd: $end, idempotencyKey: $key }) { id }
}"""
W5_DRAW = """mutation W5Draw($id: ID!, $key: String) {
  drawJointInspection(taskId: $id, idempotencyKey: $key) {
    status population { grade population drawn } savings { visits dispatches }
  }
}"""


def w5_create_body(key: str) -> dict[str, Any]:
    start = date.today()
    variables = {"key": key, "start": start.isoformat(), "end": (start + timedelta(30)).isoformat()}
    return {"query": W5_CREATE, "variables": variables}


def postgraphile_cursor(uscc: str) -> str:
    """PostGraphile 4's cursor for a row ordered by primary key."""
    return base64.b64encode(
        json.dumps(["primary_key_asc", [uscc]], separators=(",", ":")).encode()
    ).decode()


@dataclass(frozen=True, slots=True)
class Page:
    district: str
    after: str  # the page holds the district's entities with a USCC above this one


@dataclass(frozen=True, slots=True)
class Pools:
    """Variables for every workload, shuffled; the first `warm` of each form the warm set."""

    usccs: list[str]
    pages: list[Page]


async def sample_pools(dsn: str, size: int, seed: int = 7) -> Pools:
    """Random entities of the register (a repeatable sample): their USCCs for W1/W4, and
    page starts (an entity's district, after its USCC) for W2/W3."""
    conn = await asyncpg.connect(dsn)
    try:
        total = await conn.fetchval("SELECT count(*) FROM scztdj")
        pct = min(100.0, 100.0 * size * 1.2 / max(total, 1))
        rows = await conn.fetch(
            f"SELECT tyshxydm, xzqh FROM scztdj TABLESAMPLE BERNOULLI ({pct:.4f})"
            f" REPEATABLE ({seed}) LIMIT {size}"
        )
    finally:
        await conn.close()
    rng = random.Random(seed)
    usccs = [r["tyshxydm"] for r in rows]
    pages = [Page(r["xzqh"], r["tyshxydm"]) for r in rows]
    rng.shuffle(usccs)
    rng.shuffle(pages)
    return Pools(usccs, pages)


def bodies(workload: str, pools: Pools, start: int, count: int) -> list[str]:
    """`count` request bodies of a workload from variables start.. (wrapping), serialized."""
    out = []
    for i in range(count):
        if workload in ("W1", "W4"):
            u = pools.usccs[(start + i) % len(pools.usccs)]
            body = {"query": W1 if workload == "W1" else W4, "variables": {"u": u}}
        else:
            p = pools.pages[(start + i) % len(pools.pages)]
            if workload == "W2pg":
                v = {"d": p.district, "after": postgraphile_cursor(p.after)}
                body = {"query": W2_POSTGRAPHILE, "variables": v}
            else:
                v = {"d": p.district, "after": encode_cursor(p.after)}
                body = {"query": W2 if workload == "W2" else W3, "variables": v}
        out.append(orjson.dumps(body).decode())
    return out


# -- the direct-SQL floor of W2 ----------------------------------------------------------------
FLOOR_PAGE = (
    "SELECT tyshxydm, qymc, ztlx, djzt, clrq, hyml FROM scztdj"
    " WHERE xzqh = $1 AND tyshxydm > $2 ORDER BY tyshxydm LIMIT $3"
)
FLOOR_PERMITS = (
    "SELECT tyshxydm, xkid, xkwsh, xkmc, xkzt, xkrq, yxqz FROM xzxk"
    " WHERE tyshxydm = ANY($1::bpchar[]) ORDER BY xkrq DESC"
)
FLOOR_PENALTIES = (
    "SELECT tyshxydm, cfid, cfjdswh, cfzl, fkje, cfjdrq, yzwf FROM xzcf"
    " WHERE tyshxydm = ANY($1::bpchar[]) ORDER BY cfjdrq DESC"
)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError


async def floor_page(conn: asyncpg.Connection, page: Page) -> bytes:
    """W2's rows in three statements (page, permits, penalties), encoded as a GraphQL-shaped
    JSON answer."""
    rows = await conn.fetch(FLOOR_PAGE, page.district, page.after, PAGE + 1)
    keys = [r["tyshxydm"] for r in rows[:PAGE]]
    permits: dict[str, list[dict[str, Any]]] = {k: [] for k in keys}
    penalties: dict[str, list[dict[str, Any]]] = {k: [] for k in keys}
    for r in await conn.fetch(FLOOR_PERMITS, keys):
        permits[r["tyshxydm"]].append(dict(r))
    for r in await conn.fetch(FLOOR_PENALTIES, keys):
        penalties[r["tyshxydm"]].append(dict(r))
    edges = [
        {
            "node": {
                **dict(r),
                "permits": permits[r["tyshxydm"]],
                "penalties": penalties[r["tyshxydm"]],
            }
        }
        for r in rows[:PAGE]
    ]
    info = {"hasNextPage": len(rows) > PAGE, "endCursor": keys[-1] if keys else None}
    return orjson.dumps(
        {"data": {"entities": {"edges": edges, "pageInfo": info}}}, default=_json_default
    )


async def run_floor(
    dsn: str, pages: list[Page], concurrency: int, seconds: float
) -> dict[str, Any]:
    """`concurrency` tasks, one connection each, fetching and encoding W2 pages for `seconds`."""
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    latencies: list[float] = []
    cursor = 0

    async def worker(deadline: float) -> None:
        nonlocal cursor
        async with pool.acquire() as conn:
            while time.perf_counter() < deadline:
                page = pages[cursor % len(pages)]
                cursor += 1
                t = time.perf_counter()
                await floor_page(conn, page)
                latencies.append(time.perf_counter() - t)

    try:
        # One pass over a few pages first: statements prepared, connections open.
        async with pool.acquire() as conn:
            for page in pages[:concurrency]:
                await floor_page(conn, page)
        start = time.perf_counter()
        await asyncio.gather(*(worker(start + seconds) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    finally:
        await pool.close()
    ms = sorted(x * 1000 for x in latencies)
    return {
        "requests": len(ms),
        "seconds": elapsed,
        "reqPerSec": len(ms) / elapsed,
        "p50": statistics.median(ms) if ms else None,
        "p99": ms[min(len(ms) - 1, int(len(ms) * 0.99))] if ms else None,
        "sent": cursor,
        "wrapped": cursor > len(pages),
    }
