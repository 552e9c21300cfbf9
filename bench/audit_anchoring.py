"""What anchoring a whole-city draw in the audit log costs: a task with as many visits as the
reference draw (51,357; two seats each, a third for 30% of them) written straight into a
scratch hub store, then the DRAWN entry appended through store/audit.py (every visit and
team hashed where it lies, anchors stored, both checkpoints signed) and the trail verified
as verify-audit does.

    python -m bench.audit_anchoring [--visits 51357]

Creates and drops its own database (`audit_bench_hub`) on DATABASE_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import time
import uuid

import asyncpg

from adapters import settings as settings_mod
from store import audit, audit_verify, content, signing
from store.hub import HubStore

DATABASE = "audit_bench_hub"


async def main(visits: int) -> None:
    admin = os.environ.get("DATABASE_URL", settings_mod.DEFAULT_DATABASE_URL)
    store = HubStore(settings_mod.database_dsn(admin, DATABASE), signer=signing.ephemeral())
    await store.open(admin, DATABASE)
    task_id = uuid.uuid4()
    try:
        async with store.transaction() as conn:
            await conn.execute(
                "INSERT INTO task (id, title, lead_department, departments, scope, plan,"
                " team_size, window_start, window_end, status, seed, seed_commitment,"
                " created_by) VALUES ($1, 'bench', 'market', '{market,culture,fire}', '{}',"
                " '{}', 2, '2026-12-01', '2026-12-31', 'DRAWN', '\\x00', 'c', 'bench')",
                task_id,
            )
            await conn.execute(
                "INSERT INTO form (hash, body) VALUES ('bench', '{}') ON CONFLICT DO NOTHING"
            )
            await conn.execute(
                "INSERT INTO visit (id, task_id, uscc, entity_name, district, kind, industry,"
                " grade, rank, form_hash) SELECT gen_random_uuid(), $1,"
                " '9' || lpad(i::text, 17, '0'), '青岛某某有限公司' || i, '370202',"
                " 'ENTERPRISE', 'H', 'B', md5(i::text) || md5(i::text), 'bench'"
                " FROM generate_series(1, $2) i",
                task_id,
                visits,
            )
            await conn.execute(
                "INSERT INTO assignment (visit_id, inspector_id, department, role, wider_pool,"
                " rank, seat, origin) SELECT v.id, 'inspector-' || k, 'market', 'member', false,"
                " md5(v.id::text), k, 'DRAW' FROM visit v, generate_series(1, 3) k"
                " WHERE v.task_id = $1"
                " AND (k <= 2 OR get_byte(decode(md5(v.id::text), 'hex'), 0) < 77)",
                task_id,
            )
        seats = await store.pool.fetchval("SELECT count(*) FROM assignment")
        start = time.perf_counter()
        async with store.transaction() as conn:
            await conn.execute("SELECT 1 FROM task WHERE id = $1 FOR UPDATE", task_id)
            await audit.append(
                conn, store.signer, task_id, "bench", "DRAWN", {}, content.WHOLE_TASK
            )
        appended = time.perf_counter() - start
        start = time.perf_counter()
        check = await audit_verify.verify(store.pool, task_id, store.trusted_keys, whole_log=True)
        verified = time.perf_counter() - start
        anchors = await store.pool.fetchval("SELECT count(*) FROM audit_anchor")
        print(
            f"{visits:,} visits, {seats:,} seats, {anchors:,} anchors: append {appended:.2f} s,"
            f" verify {verified:.2f} s ({'ok' if check.ok else check.reason}),"
            f" peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB,"
            f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
    finally:
        await store.close()
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}"')
        finally:
            await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visits", type=int, default=51_357)
    asyncio.run(main(parser.parse_args().visits))
