"""What the MariaDB department's change feed costs, one command:

    python -m bench.change_feed [--mysql-url URL] [--backlog 100000] [--polls 2000]
                                [--writes 2000]

In a scratch database on MYSQL_URL (dropped afterwards) with the health commission's schema
and change feed (demo/departments/health.sql, health.notify.sql):
- a poll: the statement one hub process sends every second when nothing changed, with
  `--backlog` old change rows in the table (latency, rows the server reads per poll);
- a write: single-row INSERTs into supervision_check, each its own transaction as a
  department's application makes them, with and without the triggers;
- the delay from a committed change to its invalidation, polled once a second.
Prints the figures; nothing else is kept.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from adapters.change_table import ChangePoller
from adapters.mapping import load_mapping
from adapters.mysql import MySQLSource, Server, connect
from adapters.settings import database_dsn, mysql_url
from demo import mariadb


async def _execute(conn: Any, sql: str, args: Sequence[Any] | None = None) -> list[Any]:
    async with conn.cursor() as cursor:
        await cursor.execute(sql, args)
        return list(await cursor.fetchall())


async def _writes(conn: Any, n: int) -> tuple[float, float]:
    """Median seconds of a single-row INSERT (autocommit: one transaction each) into a table
    without triggers and into supervision_check with them, interleaved so that the machine's
    other load falls on both alike."""
    # The same table and foreign keys (LIKE copies neither triggers nor foreign keys).
    await _execute(conn, "CREATE TABLE plain_check LIKE supervision_check")
    await _execute(
        conn,
        "ALTER TABLE plain_check ADD FOREIGN KEY (unit_id) REFERENCES supervised_unit (unit_id),"
        " ADD FOREIGN KEY (result_id) REFERENCES code_check_result (id)",
    )
    times: dict[str, list[float]] = {"plain_check": [], "supervision_check": []}
    for k in range(n):
        for table, spent in times.items():
            started = time.perf_counter()
            await _execute(
                conn,
                f"INSERT INTO {table} (check_id, unit_id, checked_at, result_id, inspector_nos)"
                " VALUES (%s, %s, %s, 1, '[\"WJ3702020001\"]')",
                (1 + k, 1 + k % 100, datetime(2026, 11, 1, 9, 30)),
            )
            spent.append(time.perf_counter() - started)
    return statistics.median(times["plain_check"]), statistics.median(times["supervision_check"])


async def _reads(conn: Any) -> int:
    """Rows this session's statements have read through an index so far."""
    rows = await _execute(conn, "SHOW SESSION STATUS LIKE 'Handler_read_%'")
    return sum(int(v) for k, v in rows if k in ("Handler_read_key", "Handler_read_next"))


def _quantile(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


async def main(url: str, backlog: int, polls: int, writes: int) -> None:
    database = f"bench_changes_{uuid.uuid4().hex[:8]}"
    await mariadb.create(url, database, "health", reset=True)
    conn = await connect(Server.from_url(url), 30, db=database)
    try:
        await _execute(conn, "INSERT INTO code_unit_type VALUES (1, '医疗机构')")
        await _execute(conn, "INSERT INTO code_check_result VALUES (1, '符合要求')")
        for k in range(100):
            await _execute(
                conn,
                "INSERT INTO supervised_unit VALUES (%s, %s, 1, '370202', '2020-01-01')",
                (1 + k, f"91370202MA{k:08d}"),
            )
        await mariadb.finish(url, database, "health")  # the triggers and hub_changes
        plain, with_triggers = await _writes(conn, writes)
        await _execute(
            conn,
            "INSERT INTO hub_changes (entity_key) SELECT CONCAT('91370202MA', LPAD(seq % 1000, 8,"
            f" '0')) FROM seq_1_to_{backlog}",
        )

        source = MySQLSource(load_mapping("health"), database_dsn(url, database))
        invalidated: list[tuple[str, float]] = []

        async def invalidate(department: str, key: str) -> None:
            invalidated.append((key, time.perf_counter()))

        poller = ChangePoller(source, invalidate)
        await poller.poll()  # where the table ends
        latencies = []
        for _ in range(polls):
            started = time.perf_counter()
            await poller.poll()
            latencies.append(time.perf_counter() - started)
        before = await _reads(conn)
        await _execute(
            conn,
            "SELECT id, entity_key FROM hub_changes WHERE id > %s ORDER BY id LIMIT 1000",
            (poller.last_id,),
        )
        reads = await _reads(conn) - before
        (plan,) = await _execute(
            conn,
            "EXPLAIN SELECT id, entity_key FROM hub_changes WHERE id > %s ORDER BY id LIMIT 1000",
            (poller.last_id,),
        )

        await poller.start()
        delays = []
        for k in range(10):
            await asyncio.sleep(0.37)  # out of step with the poller's second
            key = f"91370202MA{k:08d}"
            await _execute(
                conn,
                "UPDATE supervised_unit SET district_code = '370203' WHERE uscc = %s",
                (key,),
            )
            changed = time.perf_counter()
            while not (seen := [at for k2, at in invalidated if k2 == key and at >= changed]):
                await asyncio.sleep(0.01)
            delays.append(seen[0] - changed)
        await poller.stop()
    finally:
        conn.close()
        await mariadb.drop(url, [database])

    server = Server.from_url(url)
    print(f"MariaDB change feed on {server.host}:{server.port}")
    median, p99 = statistics.median(latencies) * 1e6, _quantile(latencies, 0.99) * 1e6
    print(
        f"  poll with {backlog:,} old change rows, nothing new ({polls:,} polls): median "
        f"{median:.0f} µs, p99 {p99:.0f} µs; rows read per poll {reads};"
        f" plan: type={plan[3]} key={plan[5]}"
    )
    print(
        f"  single-row INSERT ({writes:,} each, median): {plain * 1e3:.3f} ms without triggers, "
        f"{with_triggers * 1e3:.3f} ms with ({(with_triggers / plain - 1) * 100:+.0f}%)"
    )
    print(
        f"  change to invalidation (polled every {poller.interval:g} s, 10 changes): median "
        f"{statistics.median(delays) * 1e3:.0f} ms, max {max(delays) * 1e3:.0f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.change_feed", description=__doc__)
    parser.add_argument("--mysql-url", default=mysql_url(), help="MariaDB server (MYSQL_URL)")
    parser.add_argument("--backlog", type=int, default=100_000, help="old change rows")
    parser.add_argument("--polls", type=int, default=2000, help="polls timed")
    parser.add_argument("--writes", type=int, default=2000, help="INSERTs timed each way")
    args = parser.parse_args()
    asyncio.run(main(args.mysql_url, args.backlog, args.polls, args.writes))
