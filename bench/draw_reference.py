"""A joint task's draw over the reference city: 1,081,742 entities, 26,520 inspectors.

    python -m bench.draw_reference [--entities 1081742] [--ratio 0.05] [--rounds 5]
                                   [--hub-database ref_hub] [--verify] [--profile FILE]
                                   [--compare-reads]

Seeds (or reuses) the demo departments at that size under the prefix `ref_` on DATABASE_URL,
then creates and draws one task per round — lead market regulation with culture and fire, the
whole city, the same ratio for every grade, teams of two — through the same command handlers
the GraphQL mutations call. Prints every round's time with its phases (from the draw's own
log record), the medians, the peak memory of this process and what was drawn, and writes
bench/results/draw_reference.md. `--verify` then recomputes every round's draw with
verify-draw (not timed); `--profile FILE` writes a cProfile of the last round;
`--compare-reads` times the three ways of reading the population instead (compare_reads).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import os
import resource
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import asyncpg

from adapters import settings as settings_mod
from adapters.registry import Registry
from domain.access import ClientKind, Principal
from domain.vocabulary import CreditGrade
from planning.entity_draw import SamplingPlan
from resolvers.context import RequestContext
from resolvers.entities import EntityQuery
from store import signing
from store.hub import HubStore
from tasks.commands import TaskInput, create_task
from tasks.draw import draw_task
from tasks.verification import verify_draw

PREFIX = "ref_"
RESULTS = Path(__file__).parent / "results"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def seeded_size(admin_url: str, prefix: str = PREFIX) -> int | None:
    """Entities in the register seeded under `prefix`; None when there is none."""
    dsn = settings_mod.database_dsn(admin_url, f"{prefix}market")
    try:
        conn = await asyncpg.connect(dsn)
    except asyncpg.InvalidCatalogNameError:
        return None
    try:
        return await conn.fetchval("SELECT count(*) FROM scztdj")
    finally:
        await conn.close()


async def compare_reads(registry: Registry, store: HubStore, rounds: int) -> str:
    """The population read three ways, each timed `rounds` times (wall seconds, median):

    * direct — what the draw does: the register's and the credit platform's columns in
      parallel, one statement each (``PostgresSource.columns``);
    * pool — an entity pool kept in the hub store (uscc, status, kind, industry, grade in one
      narrow table, filled here once from the direct read): one statement, no department;
    * pushdown — the rank computed in the register's database (HMAC-SHA256 as two SHA-256 of
      the prepared key pads, the same value as pgcrypto's ``hmac``) for every entity, keeping
      those under a 5.3% threshold; the credit platform's grades still read beside it.
    """
    register = registry.register()
    credit = registry.holding("credit_rating")[0]
    fields = ("uscc", "status", "kind", "industry")

    async def direct() -> None:
        await asyncio.gather(
            register.columns("entity", [], fields, 600),
            credit.columns("credit_rating", [], ("uscc", "grade"), 600),
        )

    (usccs, statuses, kinds, industries), (rated, grades) = await asyncio.gather(
        register.columns("entity", [], fields, 600),
        credit.columns("credit_rating", [], ("uscc", "grade"), 600),
    )
    graded = dict(zip(rated, grades, strict=True))
    async with store.pool.acquire() as conn:
        await conn.execute(
            "DROP TABLE IF EXISTS bench_entity_pool; CREATE TABLE bench_entity_pool (uscc text"
            ' COLLATE "C" PRIMARY KEY, status text, kind text, industry text, grade char(1))'
        )
        await conn.copy_records_to_table(
            "bench_entity_pool",
            records=[
                (u, st, k, i, graded.get(u))
                for u, st, k, i in zip(usccs, statuses, kinds, industries, strict=True)
            ],
        )
        await conn.execute("VACUUM ANALYZE bench_entity_pool")

    async def pool() -> None:
        await store.pool.fetchrow(
            "SELECT count(*), string_agg(uscc, ''), string_agg(status || ',' || kind || ','"
            " || industry || ',' || coalesce(grade, 'B'), ';') FROM bench_entity_pool"
        )

    key = secrets.token_bytes(32).ljust(64, b"\0")
    ipad, opad = bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)
    c = register._compiled["entity"]
    column = c.key_expr or "t.uscc"

    async def pushdown() -> None:
        await asyncio.gather(
            register._fetch(
                f"SELECT count(*), string_agg(u, '') FILTER (WHERE r < $3) FROM (SELECT"
                f" {column}::text AS u, sha256($2 || sha256($1 || convert_to({column}::text,"
                f" 'UTF8'))) AS r {c.source}) x",
                [ipad, opad, int(0.053 * 2**64).to_bytes(8)],
                timeout=600,
            ),
            credit.columns("credit_rating", [], ("uscc", "grade"), 600),
        )

    lines = []
    for name, read in (("direct", direct), ("pool", pool), ("pushdown", pushdown)):
        seconds = []
        for _ in range(rounds):
            start = time.perf_counter()
            await read()
            seconds.append(time.perf_counter() - start)
        lines.append(
            f"population read, {name}: median {statistics.median(seconds):.2f} s"
            f" ({', '.join(f'{t:.2f}' for t in seconds)})"
        )
    await store.pool.execute("DROP TABLE bench_entity_pool")
    return "\n".join(lines)


class DrawPhases(logging.Handler):
    """Collects the phases the draw command logs for each draw (tasks/draw.py)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.rounds: list[dict[str, float]] = []
        self.cpu: list[dict[str, float]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "draw" and hasattr(record, "seconds"):
            self.rounds.append(dict(record.seconds))
            self.cpu.append(dict(getattr(record, "cpu", {})))


async def main(
    entities: int,
    ratio: float,
    rounds: int,
    hub_db: str,
    verify: bool,
    profile: str | None,
    compare: bool,
) -> None:
    admin = os.environ.get("DATABASE_URL", settings_mod.DEFAULT_DATABASE_URL)
    if await seeded_size(admin) != entities:
        print(f"seeding {entities:,} entities under {PREFIX}… (a subprocess)", flush=True)
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "demo.seed",
                "--database-url",
                admin,
                "--prefix",
                PREFIX,
                "--entities",
                str(entities),
            ],
            check=True,
        )
        print(f"seeded in {time.perf_counter() - start:.1f} s", flush=True)
    settings = settings_mod.from_env(
        {
            "HUB_DEPARTMENTS": str(Path(__file__).parent / "departments.toml"),
            **os.environ,
            "DATABASE_URL": admin,
            "HUB_DB_PREFIX": PREFIX,
        }
    )
    registry = Registry.from_settings(settings)
    await registry.open()
    store = HubStore(
        settings_mod.database_dsn(admin, hub_db),
        signer=signing.from_env() or signing.ephemeral(),
    )
    await store.open(admin, hub_db)
    planner = Principal(ClientKind.PLANNER, "bench", "market", frozenset({"planner"}))
    ctx = RequestContext(registry=registry, settings=settings, store=store, principal=planner)
    if compare:
        try:
            print(await compare_reads(registry, store, rounds), flush=True)
        finally:
            await registry.close()
            await store.close()
        return
    phases = DrawPhases()
    logging.getLogger("tasks.draw").addHandler(phases)
    logging.getLogger("tasks.draw").setLevel(logging.INFO)
    baseline = peak_rss_mib()
    times: list[float] = []
    drawn = seats = 0
    tasks: list[uuid.UUID] = []
    profiler = cProfile.Profile() if profile else None
    try:
        for n in range(rounds):
            task_id = await create_task(
                ctx,
                TaskInput(
                    title=f"reference draw {n}",
                    lead_department="market",
                    departments=["culture", "fire"],
                    scope=EntityQuery(),
                    plan=SamplingPlan(ratio_by_grade={g: ratio for g in CreditGrade}),
                    team_size=2,
                    window_start=date.today(),
                    window_end=date.today() + timedelta(days=30),
                    idempotency_key=uuid.uuid4().hex,
                ),
            )
            tasks.append(task_id)
            last = profiler is not None and n == rounds - 1
            if last:
                profiler.enable()
            start = time.perf_counter()
            await draw_task(ctx, str(task_id), None)
            times.append(time.perf_counter() - start)
            if last:
                profiler.disable()
            drawn = await store.pool.fetchval(
                "SELECT count(*) FROM visit WHERE task_id = $1", task_id
            )
            seats = await store.pool.fetchval(
                "SELECT count(*) FROM assignment a JOIN visit v ON v.id = a.visit_id"
                " WHERE v.task_id = $1",
                task_id,
            )
            split = "  ".join(
                f"{k} {v:.2f}/{phases.cpu[-1].get(k, 0):.2f}" for k, v in phases.rounds[-1].items()
            )
            print(
                f"round {n + 1}: {times[-1]:.2f} s (phase wall/CPU s: {split}), {drawn:,} visits,"
                f" {seats:,} seats,"
                f" peak RSS so far {peak_rss_mib():.0f} MiB",
                flush=True,
            )
        peak = peak_rss_mib()
        if verify:
            for task_id in tasks:
                start = time.perf_counter()
                check = await verify_draw(store.pool, task_id)
                print(
                    f"verify-draw {task_id}: {'MATCH' if check.ok else check.problems}"
                    f" ({time.perf_counter() - start:.1f} s)",
                    flush=True,
                )
    finally:
        await registry.close()
        await store.close()
    if profiler is not None and profile:
        profiler.dump_stats(profile)
    median = statistics.median(times)
    by_phase = {k: statistics.median(r[k] for r in phases.rounds) for k in phases.rounds[0]}
    cpu = {k: statistics.median(r.get(k, 0) for r in phases.cpu) for k in phases.rounds[0]}
    split = ", ".join(f"{k} {v:.2f} s (CPU {cpu[k]:.2f})" for k, v in by_phase.items())
    table = (
        "| workload | entities | inspectors | ratio | visits drawn | median draw | peak RSS |\n"
        "|---|---|---|---|---|---|---|\n"
        f"| draw with teams (3 departments, whole city) | {entities:,} | 26,520 | {ratio:.0%} "
        f"| {drawn:,} | {median:.2f} s | {peak:.0f} MiB |\n"
    )
    print(
        f"\nmedian of {rounds}: {median:.2f} s (rounds: {', '.join(f'{t:.2f}' for t in times)});"
        f" CPU of this process {sum(cpu.values()):.2f} s (median sum);"
        f" peak RSS {peak:.0f} MiB (before drawing {baseline:.0f} MiB)\n"
        f"median per phase: {split}\n\n{table}"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "draw_reference.md").write_text(
        table + f"\nMedian per phase: {split}.\n\nCommand: `python -m bench.draw_reference "
        f"--entities {entities} --ratio {ratio} --rounds {rounds}`; {os.cpu_count()} cores,"
        f" load average {os.getloadavg()[0]:.1f} at the end.\n"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entities", type=int, default=1_081_742)
    parser.add_argument("--ratio", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--hub-database", default=f"{PREFIX}hub", help="the hub store's database name"
    )
    parser.add_argument("--verify", action="store_true", help="verify-draw every round after")
    parser.add_argument("--profile", help="write a cProfile of the last round to this file")
    parser.add_argument(
        "--compare-reads",
        action="store_true",
        help="time the population read direct, from an entity pool and pushed down, no draw",
    )
    a = parser.parse_args()
    asyncio.run(
        main(a.entities, a.ratio, a.rounds, a.hub_database, a.verify, a.profile, a.compare_reads)
    )
