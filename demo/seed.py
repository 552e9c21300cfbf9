"""Create and fill the seven demo department databases with one consistent synthetic city.

    python -m demo.seed --database-url postgresql://postgres@127.0.0.1:5432/postgres \\
        --mysql-url mysql://root@127.0.0.1:3306 --prefix jsh_ --entities 20000 --seed 7

Each department gets database `{prefix}{code}` with its own schema (demo/departments/*.sql,
the source of truth): on the PostgreSQL server, or for the health commission on the MariaDB
server (demo.mariadb). The city is planned first (demo.plan: the facts departments share),
then every department's rows are rendered and streamed with COPY by a pool of processes
(demo.render). Foreign keys and secondary indexes are taken off while loading and put back
from the catalog afterwards, which makes the large loads several times faster.
The same seed and size always give the same rows.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from adapters.settings import mysql_url as default_mysql_url
from demo import mariadb
from demo.codes import DEPARTMENTS, ON_MARIADB
from demo.plan import MAX_ENTITIES, Facts, Plan, Skeleton, assemble, chunk_facts, skeleton
from demo.render import Job, jobs, loads

DDL_DIR = Path(__file__).parent / "departments"
_PREFIX = re.compile(r"[a-z_][a-z0-9_]*\Z")
_MAX_IDENTIFIER = 63

T = TypeVar("T")


@dataclass
class SeedReport:
    prefix: str
    entities: int
    seed: int
    rows: dict[str, dict[str, int]]  # department -> table -> rows loaded
    elapsed: float  # seconds, end to end
    sample_uscc: str  # an active entity with permits in all six inspecting departments
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase

    @property
    def counts(self) -> dict[str, int]:
        return {dept: sum(tables.values()) for dept, tables in self.rows.items()}

    def format(self) -> str:
        lines = [
            f"Seeded {self.entities:,} entities (seed {self.seed}) into "
            f"{self.prefix}{{{','.join(self.rows)}}} in {self.elapsed:.1f} s"
        ]
        for dept, tables in self.rows.items():
            lines.append(f"  {dept:<10} {self.counts[dept]:>12,} rows")
            lines += [f"    {table:<28} {n:>12,}" for table, n in tables.items()]
        lines.append("  phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.phases.items()))
        lines.append(f"  sample entity: {self.sample_uscc}")
        return "\n".join(lines)


def database_name(prefix: str, dept: str) -> str:
    name = f"{prefix}{dept}"
    if not _PREFIX.match(prefix) or len(name) > _MAX_IDENTIFIER:
        raise ValueError(
            f"prefix {prefix!r} must be lower-case letters, digits and '_' "
            f"and leave room for the department code"
        )
    return name


def _quote(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


async def seed(
    admin_url: str,
    prefix: str,
    entities: int,
    seed: int = 7,
    reset: bool = True,
    *,
    workers: int | None = None,
    mysql_url: str | None = None,
) -> SeedReport:
    """Create (dropping first when reset) and fill `{prefix}{dept}` for every department; the
    MariaDB ones on `mysql_url` (default MYSQL_URL, else the local server)."""
    started = time.perf_counter()
    names = {dept: database_name(prefix, dept) for dept in DEPARTMENTS}
    servers = Servers(admin_url, mysql_url or default_mysql_url())
    sk = skeleton(seed, entities)
    workers = workers or os.cpu_count() or 2
    phases: dict[str, float] = {}

    # The databases are created while the plan's chunks are computed in other processes.
    prepared = asyncio.create_task(_timed(phases, "schema", _prepare(servers, names, reset)))
    try:
        t = time.perf_counter()
        with _pool(workers, sk) as pool:
            chunks = await _map(pool, _chunk, range(sk.chunks))
        plan = assemble(sk, chunks)
        del chunks
        phases["plan"] = time.perf_counter() - t
    finally:
        restore = await prepared

    t = time.perf_counter()
    rows: dict[str, dict[str, int]] = {dept: {} for dept in DEPARTMENTS}
    todo = jobs(plan)
    remaining = {dept: sum(1 for j in todo if j[0] == dept) for dept in DEPARTMENTS}
    finishing: list[asyncio.Task[None]] = []
    with _pool(workers, (plan, servers, names)) as pool:
        loop = asyncio.get_running_loop()
        futures = [loop.run_in_executor(pool, _run_job, job) for job in todo]
        try:
            for next_done in asyncio.as_completed(futures):
                (dept, _, _), counts = await next_done
                for table, n in counts.items():
                    rows[dept][table] = rows[dept].get(table, 0) + n
                remaining[dept] -= 1
                if remaining[dept] == 0:  # index and analyse while other departments load
                    finishing.append(
                        asyncio.create_task(_finish(servers, names[dept], restore[dept], dept))
                    )
            phases["load"] = time.perf_counter() - t
            await asyncio.gather(*finishing)
        except BaseException:
            for fut in futures:
                fut.cancel()
            for task in finishing:
                task.cancel()
            raise
    phases["load+index"] = time.perf_counter() - t
    rows = {dept: dict(sorted(tables.items())) for dept, tables in rows.items()}
    return SeedReport(
        prefix, entities, seed, rows, time.perf_counter() - started, plan.sample_uscc, phases
    )


async def drop(admin_url: str, prefix: str, mysql_url: str | None = None) -> None:
    """Drop the seven databases of a prefix (those that exist)."""
    names = [database_name(prefix, dept) for dept in DEPARTMENTS if dept not in ON_MARIADB]
    await mariadb.drop(
        mysql_url or default_mysql_url(), [database_name(prefix, d) for d in ON_MARIADB]
    )

    async def drop_one(name: str) -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute("SET synchronous_commit = off")
            await conn.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
        finally:
            await conn.close()

    await asyncio.gather(*(drop_one(name) for name in names))


async def _timed(phases: dict[str, float], name: str, work: Any) -> Any:
    t = time.perf_counter()
    try:
        return await work
    finally:
        phases[name] = time.perf_counter() - t


# -- databases ----------------------------------------------------------------------------------

# Foreign keys and the indexes that back no constraint, with the statements that restore them.
_DEFERRABLE = """
SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS drop_sql,
       format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname,
              pg_get_constraintdef(oid)) AS restore_sql,
       2 AS phase
  FROM pg_constraint
 WHERE contype = 'f' AND connamespace NOT IN ('pg_catalog'::regnamespace,
                                             'information_schema'::regnamespace)
UNION ALL
SELECT format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid), 1
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
 WHERE c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace,
                              'pg_toast'::regnamespace)
   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
ORDER BY phase DESC, drop_sql
"""
# Serial columns were given explicit ids; move their sequences past them.
_SEQUENCES = """
SELECT format('SELECT setval(%L, coalesce(max(%I), 0) + 1, false) FROM %I.%I',
              pg_get_serial_sequence(format('%I.%I', table_schema, table_name), column_name),
              column_name, table_schema, table_name)
  FROM information_schema.columns
 WHERE column_default LIKE 'nextval(%'
"""


@dataclass(frozen=True)
class Servers:
    """Where the departments' databases go: PostgreSQL, and MariaDB for demo.codes.ON_MARIADB."""

    postgres: str
    mariadb: str


async def _prepare(servers: Servers, names: dict[str, str], reset: bool) -> dict[str, list[str]]:
    if not reset:
        conn = await asyncpg.connect(servers.postgres)
        try:
            existing = await conn.fetch(
                "SELECT datname FROM pg_database WHERE datname = ANY($1)", list(names.values())
            )
        finally:
            await conn.close()
        taken = [r["datname"] for r in existing]
        taken += await mariadb.existing(servers.mariadb, [names[d] for d in ON_MARIADB])
        if taken:
            raise RuntimeError(
                f"databases exist ({', '.join(sorted(taken))}); seed with reset to replace them"
            )
    restore = await asyncio.gather(
        *(
            mariadb.create(servers.mariadb, names[d], d, reset)
            if d in ON_MARIADB
            else _create(servers.postgres, names[d], d, reset)
            for d in DEPARTMENTS
        )
    )
    return dict(zip(DEPARTMENTS, restore, strict=True))


async def _create(admin_url: str, database: str, dept: str, reset: bool) -> list[str]:
    conn = await asyncpg.connect(admin_url)
    try:
        # Demo data can be seeded again: no need to wait for WAL flushes at each commit.
        await conn.execute("SET synchronous_commit = off")
        if reset:
            await conn.execute(f"DROP DATABASE IF EXISTS {_quote(database)} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {_quote(database)} TEMPLATE template0 ENCODING 'UTF8'")
    finally:
        await conn.close()
    return await _schema(admin_url, database, dept)


async def _schema(admin_url: str, database: str, dept: str) -> list[str]:
    """Apply the department's DDL, then take off what slows a bulk load; return its restore."""
    conn = await asyncpg.connect(admin_url, database=database)
    try:
        await conn.execute("SET synchronous_commit = off")
        await conn.execute((DDL_DIR / f"{dept}.sql").read_text(encoding="utf-8"))
        deferred = await conn.fetch(_DEFERRABLE)
        for row in deferred:
            await conn.execute(row["drop_sql"])
        return [row["restore_sql"] for row in sorted(deferred, key=lambda r: r["phase"])]
    finally:
        await conn.close()


async def _finish(servers: Servers, database: str, restore: list[str], dept: str) -> None:
    if dept in ON_MARIADB:
        await mariadb.finish(servers.mariadb, database, dept)
        return
    conn = await asyncpg.connect(servers.postgres, database=database)
    try:
        await conn.execute("SET synchronous_commit = off")
        await conn.execute("SET maintenance_work_mem = '256MB'")
        for statement in restore:  # indexes first, then the foreign keys they validate
            await conn.execute(statement)
        for (statement,) in await conn.fetch(_SEQUENCES):
            await conn.execute(statement)
        # Change notifications go on after the load: a million COPY rows must not each
        # notify (departments/<code>.notify.sql: the triggers the hub's cache listens to).
        notify = DDL_DIR / f"{dept}.notify.sql"
        if notify.exists():
            await conn.execute((DDL_DIR / "hub_notify.sql").read_text())
            await conn.execute(notify.read_text())
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


# -- processes ----------------------------------------------------------------------------------

# What forked workers inherit: set before a pool forks, read by the functions it runs.
_shared: Any = None


def _pool(workers: int, shared: Any) -> ProcessPoolExecutor:
    global _shared
    _shared = shared
    # fork: the workers share the plan copy-on-write instead of unpickling it
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))


async def _map(pool: Executor, fn: Callable[[int], T], items: Iterable[int]) -> list[T]:
    loop = asyncio.get_running_loop()
    return list(await asyncio.gather(*(loop.run_in_executor(pool, fn, i) for i in items)))


def _chunk(c: int) -> Facts:
    sk: Skeleton = _shared
    return chunk_facts(sk, c)


def _run_job(job: Job) -> tuple[Job, dict[str, int]]:
    plan, servers, names = _shared
    if job[0] in ON_MARIADB:
        return job, asyncio.run(mariadb.load(plan, servers.mariadb, names[job[0]], job))
    return job, asyncio.run(_load(plan, servers.postgres, names[job[0]], job))


async def _load(plan: Plan, admin_url: str, database: str, job: Job) -> dict[str, int]:
    conn = await asyncpg.connect(admin_url, database=database)
    try:
        await conn.execute("SET synchronous_commit = off")
        counts: dict[str, int] = {}
        for load in loads(plan, job):
            status = await conn.copy_records_to_table(
                load.table, records=load.rows, columns=list(load.columns), schema_name=load.schema
            )
            table = f"{load.schema}.{load.table}" if load.schema else load.table
            counts[table] = counts.get(table, 0) + int(status.split()[-1])
        return counts
    finally:
        await conn.close()


# -- command line -------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.seed", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="PostgreSQL server URL to create the databases from (default: $DATABASE_URL)",
    )
    parser.add_argument(
        "--mysql-url",
        default=None,
        help="MariaDB server URL for the health commission (default: $MYSQL_URL, else "
        "mysql://root@127.0.0.1:3306)",
    )
    parser.add_argument("--prefix", default="jsh_", help="database name prefix (default jsh_)")
    parser.add_argument("--entities", type=int, default=20_000, help="market entities (20000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (7)")
    parser.add_argument("--workers", type=int, default=None, help="processes (CPU count)")
    parser.add_argument(
        "--no-reset", action="store_true", help="fail instead of replacing existing databases"
    )
    parser.add_argument("--drop", action="store_true", help="drop the prefix's databases and exit")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("no server: pass --database-url or set DATABASE_URL")
    try:
        database_name(args.prefix, "emergency")
    except ValueError as e:
        parser.error(str(e))
    if not 1 <= args.entities <= MAX_ENTITIES:
        parser.error(f"--entities must be between 1 and {MAX_ENTITIES:,}")
    if args.drop:
        asyncio.run(drop(args.database_url, args.prefix, args.mysql_url))
        print(f"dropped {args.prefix}{{{','.join(DEPARTMENTS)}}}")
        return 0
    try:
        report = asyncio.run(
            seed(
                args.database_url,
                args.prefix,
                args.entities,
                args.seed,
                reset=not args.no_reset,
                workers=args.workers,
                mysql_url=args.mysql_url,
            )
        )
    except RuntimeError as e:  # the databases exist and --no-reset was given
        parser.exit(1, f"error: {e}\n")
    print(report.format())
    return 0


if __name__ == "__main__":
    sys.exit(main())
