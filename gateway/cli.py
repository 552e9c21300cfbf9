"""The `hub` command: serve the graph, run the demo, seed the demo departments."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

import asyncpg
import uvicorn

from adapters import settings as settings_mod
from gateway import logs

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
    args = parser.parse_args(argv)

    if args.command == "serve":
        serve(args.host, args.port, args.workers)
    elif args.command == "demo":
        demo(args.host, args.port, args.workers, args.entities, args.seed, args.reseed)
    elif args.command == "seed":
        sample = asyncio.run(_prepare_demo(args.entities, args.seed, reseed=True))
        print(f"seeded; sample entity {sample}")


if __name__ == "__main__":
    main()
