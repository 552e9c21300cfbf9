"""The demo departments kept in MariaDB (demo.codes.ON_MARIADB): create, fill, finish, drop.

Their rows come from the same plan and renderers as every department's (demo.render); they are
loaded with multi-row INSERTs (asyncmy's executemany), foreign keys unchecked while loading,
and the change feed's triggers (departments/<code>.notify.sql) go on afterwards, so that the
load does not write a change row per row.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from adapters.mysql import Server, connect
from demo.plan import Plan
from demo.render import Job, loads
from demo.shapes import Row

DDL_DIR = Path(__file__).parent / "departments"
BATCH = 2000  # rows per INSERT statement
_TIMEOUT = 30.0


def statements(sql: str) -> list[str]:
    """The statements of a DDL file: each ends with `;` at the end of a line (none of ours has
    one inside); `--` comment lines are dropped."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";\n") if s.strip().rstrip(";").strip()]


def _quote(ident: str) -> str:
    return "`" + ident.replace("`", "``") + "`"


async def _run(server_url: str, sql: Iterable[str], database: str | None = None) -> None:
    conn = await connect(Server.from_url(server_url), _TIMEOUT, db=database)
    # The driver logs the server's warnings; these statements warn by design (DROP DATABASE
    # IF EXISTS of a database not there, an EVENT while the event scheduler is off).
    driver = logging.getLogger("asyncmy")
    level = driver.level
    driver.setLevel(logging.ERROR)
    try:
        async with conn.cursor() as cursor:
            for statement in sql:
                await cursor.execute(statement.rstrip(";"))
    finally:
        driver.setLevel(level)
        await conn.ensure_closed()


async def existing(server_url: str, databases: Iterable[str]) -> list[str]:
    """Those of `databases` that exist on the server."""
    wanted = set(databases)
    return [name for name in await list_databases(server_url) if name in wanted]


async def list_databases(server_url: str, prefix: str = "") -> list[str]:
    conn = await connect(Server.from_url(server_url), _TIMEOUT)
    try:
        async with conn.cursor() as cursor:
            await cursor.execute("SELECT schema_name FROM information_schema.schemata")
            names = [row[0] for row in await cursor.fetchall()]
    finally:
        await conn.ensure_closed()
    return sorted(n for n in names if n.startswith(prefix))


async def create(server_url: str, database: str, dept: str, reset: bool) -> list[str]:
    """Create the department's database and schema; nothing to restore after the load."""
    setup = [f"DROP DATABASE IF EXISTS {_quote(database)}"] if reset else []
    setup.append(
        f"CREATE DATABASE {_quote(database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )
    await _run(server_url, setup)
    await _run(server_url, statements((DDL_DIR / f"{dept}.sql").read_text()), database)
    return []


def _batches(rows: Iterable[Row]) -> Iterator[list[Row]]:
    it = iter(rows)
    while batch := list(islice(it, BATCH)):
        yield batch


async def load(plan: Plan, server_url: str, database: str, job: Job) -> dict[str, int]:
    conn = await connect(Server.from_url(server_url), _TIMEOUT, db=database)
    try:
        async with conn.cursor() as cursor:
            await cursor.execute("SET SESSION foreign_key_checks = 0, unique_checks = 0")
            counts: dict[str, int] = {}
            for part in loads(plan, job):
                columns = ", ".join(_quote(c) for c in part.columns)
                marks = ", ".join(["%s"] * len(part.columns))
                sql = f"INSERT INTO {_quote(part.table)} ({columns}) VALUES ({marks})"
                n = 0
                for batch in _batches(part.rows):
                    await cursor.executemany(sql, batch)
                    n += len(batch)
                counts[part.table] = counts.get(part.table, 0) + n
        return counts
    finally:
        await conn.ensure_closed()


async def finish(server_url: str, database: str, dept: str) -> None:
    """The change feed's triggers after the load, then fresh statistics for the planner."""
    notify = DDL_DIR / f"{dept}.notify.sql"
    sql: list[str] = statements(notify.read_text()) if notify.exists() else []
    conn = await connect(Server.from_url(server_url), _TIMEOUT, db=database)
    try:
        async with conn.cursor() as cursor:
            await cursor.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'"
            )
            tables: list[Any] = [row[0] for row in await cursor.fetchall()]
    finally:
        await conn.ensure_closed()
    if tables:
        sql.append(f"ANALYZE TABLE {', '.join(_quote(t) for t in tables)}")
    await _run(server_url, sql, database)


async def drop(server_url: str, databases: Iterable[str]) -> None:
    await _run(server_url, [f"DROP DATABASE IF EXISTS {_quote(name)}" for name in databases])
