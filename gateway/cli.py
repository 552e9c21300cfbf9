"""The `hub` command: serve the graph, run the demo, seed the demo departments."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import uuid
from typing import Any

import asyncpg
import orjson
import uvicorn

from adapters import settings as settings_mod
from adapters.registry import Registry
from gateway import logs
from resolvers.context import RequestContext
from resolvers.task_results import deliver_credit
from resolvers.task_verify import verify_draw
from store import audit
from store.hub import HubStore

EXAMPLE = """{{
  entity(uscc: "{uscc}") {{
    name kind district {{ name }} credit {{ grade score lists {{ kind }} }}
    permits {{ name status department {{ code }} }}
    penalties {{ kind fine decidedOn department {{ code }} }}
  }}
}}"""


def serve(host: str, port: int, workers: int) -> None:
    """Run the app under uvicorn; several workers share one port (the gateway is stateless)."""
    logs.configure(os.environ.get("HUB_LOG_LEVEL", "INFO"))
    uvicorn.run(
        "gateway.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
    )


async def _demo_seeded(settings: settings_mod.Settings) -> str | None:
    """A sample USCC if the demo departments are already seeded, else None."""
    dsn = settings_mod.database_dsn(settings.database_url, f"{settings.db_prefix}market")
    try:
        conn = await asyncpg.connect(dsn)
    except asyncpg.InvalidCatalogNameError:
        return None
    try:
        sample = await conn.fetchval("SELECT sample_uscc FROM seed_info LIMIT 1")
    except asyncpg.UndefinedTableError:
        return None
    finally:
        await conn.close()
    return sample


async def _prepare_demo(entities: int, seed: int, reseed: bool) -> str:
    from demo.seed import seed as run_seed

    settings = settings_mod.from_env()
    sample = None if reseed else await _demo_seeded(settings)
    if sample is None:
        print(f"seeding demo departments with {entities} entities…", file=sys.stderr)
        report = await run_seed(settings.database_url, settings.db_prefix, entities, seed)
        sample = report.sample_uscc
        await _mark_seeded(settings, sample, entities, seed)
    return sample


async def _mark_seeded(
    settings: settings_mod.Settings, sample: str, entities: int, seed: int
) -> None:
    """Remember the seeding so that the next demo start reuses the data."""
    dsn = settings_mod.database_dsn(settings.database_url, f"{settings.db_prefix}market")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS seed_info (sample_uscc text, entities int, seed int,"
            " seeded_at timestamptz DEFAULT now())"
        )
        await conn.execute(
            "INSERT INTO seed_info (sample_uscc, entities, seed) VALUES ($1, $2, $3)",
            sample,
            entities,
            seed,
        )
    finally:
        await conn.close()


def demo(host: str, port: int, workers: int, entities: int, seed: int, reseed: bool) -> None:
    sample = asyncio.run(_prepare_demo(entities, seed, reseed))
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/graphql"
    print(
        f"\nJoint Supervision Hub on demo data\n  GraphiQL: {url}\n"
        f"  try:\n{EXAMPLE.format(uscc=sample)}\n",
        flush=True,
    )
    serve(host, port, workers)


async def _with_store(work: Any) -> Any:
    settings = settings_mod.from_env()
    store = HubStore(settings.hub_dsn)
    await store.open(settings.database_url, f"{settings.db_prefix}hub")
    try:
        return await work(settings, store)
    finally:
        await store.close()


async def _migrate(settings: settings_mod.Settings, store: HubStore) -> int:
    print(f"hub store {settings.db_prefix}hub is at the latest migration")
    return 0


def _task_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        sys.exit(f"{value!r} is not a task id")


async def _verify_draw(task: str) -> int:
    async def work(settings: settings_mod.Settings, store: HubStore) -> int:
        check = await verify_draw(store.pool, _task_id(task))
        print(orjson.dumps(dataclasses.asdict(check), option=orjson.OPT_INDENT_2).decode())
        print(
            "MATCH: the draw recomputes from the revealed seed and the frozen population"
            if check.ok
            else "MISMATCH: " + "; ".join(check.problems)
        )
        return 0 if check.ok else 1

    return await _with_store(work)


async def _verify_audit(task: str) -> int:
    async def work(settings: settings_mod.Settings, store: HubStore) -> int:
        check = await audit.verify(store.pool, _task_id(task))
        if check.ok:
            print(f"OK: {check.entries} entries, chain intact")
            return 0
        print(f"BROKEN at entry {check.first_broken_seq}: {check.reason}")
        return 1

    return await _with_store(work)


async def _deliver_credit() -> int:
    async def work(settings: settings_mod.Settings, store: HubStore) -> int:
        registry = Registry.from_settings(settings)
        await registry.open()
        try:
            ctx = RequestContext(registry=registry, settings=settings, store=store)
            print(f"delivered {await deliver_credit(ctx)} result(s) to the credit platform")
        finally:
            await registry.close()
        return 0

    return await _with_store(work)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="hub", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("serve", "demo"):
        p = sub.add_parser(name)
        p.add_argument("--host", default=os.environ.get("HUB_HOST", "127.0.0.1"))
        p.add_argument("--port", type=int, default=int(os.environ.get("HUB_PORT", "8000")))
        p.add_argument("--workers", type=int, default=int(os.environ.get("HUB_WORKERS", "1")))
        if name == "demo":
            p.add_argument("--entities", type=int, default=20_000)
            p.add_argument("--seed", type=int, default=7)
            p.add_argument("--reseed", action="store_true", help="seed again even if seeded")
    p = sub.add_parser("seed", help="(re)create and fill the demo department databases")
    p.add_argument("--entities", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=7)
    sub.add_parser("migrate", help="create the hub store and apply pending migrations")
    p = sub.add_parser("verify-draw", help="recompute a task's draw from its revealed seed")
    p.add_argument("task")
    p = sub.add_parser("verify-audit", help="check a task's audit chain, name the first break")
    p.add_argument("task")
    sub.add_parser("deliver-credit", help="push pending credit feedback to the credit platform")
    args = parser.parse_args(argv)

    if args.command == "serve":
        serve(args.host, args.port, args.workers)
    elif args.command == "demo":
        demo(args.host, args.port, args.workers, args.entities, args.seed, args.reseed)
    elif args.command == "seed":
        sample = asyncio.run(_prepare_demo(args.entities, args.seed, reseed=True))
        print(f"seeded; sample entity {sample}")
    elif args.command == "migrate":
        sys.exit(asyncio.run(_with_store(_migrate)))
    elif args.command == "verify-draw":
        sys.exit(asyncio.run(_verify_draw(args.task)))
    elif args.command == "verify-audit":
        sys.exit(asyncio.run(_verify_audit(args.task)))
    elif args.command == "deliver-credit":
        sys.exit(asyncio.run(_deliver_credit()))


if __name__ == "__main__":
    main()
