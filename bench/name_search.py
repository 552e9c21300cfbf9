"""What a name search (`nameContains`) costs the register, with and without its trigram index:

    python -m bench.name_search [--prefix ref_] [--rounds 3]

Runs the statements the hub sends for a page of 100 and for totalCount, through the market
mapping (adapters/postgres.py), for fragments from common to absent, on `{prefix}market`;
then drops the demo's trigram index (demo/departments/market.sql), runs them again, and
builds the index anew. Prints a table of medians in milliseconds and writes
bench/results/name_search.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from adapters import settings as settings_mod
from adapters.mapping import load_mapping
from adapters.postgres import Filter, PostgresSource

RESULTS = Path(__file__).parent / "results"
INDEX = "scztdj_qymc_trgm"
# Common to absent: two characters in a third of the names, two rare ones, three and four
# characters of a few names, nothing at all, LIKE's wildcards (matched literally).
FRAGMENTS = ["有限", "瑞琴", "瑞琴蔬", "泰华广告", "无此名称", "%_%_"]


async def measure(source: PostgresSource, rounds: int) -> dict[str, tuple[float, int, float, int]]:
    """Per fragment: (page ms, rows, count ms, count) as medians over `rounds`."""
    out = {}
    for fragment in FRAGMENTS:
        flt = [Filter("name", "contains", fragment)]
        pages, counts = [], []
        rows: list = []
        n = 0
        for _ in range(rounds):
            start = time.perf_counter()
            rows = await source.page("entity", flt, None, 101)
            pages.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            n = await source.count("entity", flt)
            counts.append((time.perf_counter() - start) * 1000)
        out[fragment] = (statistics.median(pages), len(rows), statistics.median(counts), n)
    return out


async def run(args: argparse.Namespace) -> str:
    admin = os.environ.get("DATABASE_URL", settings_mod.DEFAULT_DATABASE_URL)
    dsn = settings_mod.database_dsn(admin, f"{args.prefix}market")
    source = PostgresSource(load_mapping("market"), dsn, pool_size=2)
    # Measured in full: no budget cuts a search short here.
    source.timeout = source.search_timeout = 600
    await source.open()
    conn = await asyncpg.connect(dsn)
    try:
        size = await conn.fetchval("SELECT count(*) FROM scztdj")
        definition = await conn.fetchval(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indexrelid = to_regclass($1)",
            INDEX,
        )
        if definition is None:
            raise SystemExit(f"{args.prefix}market has no {INDEX}: seed it again")
        with_index = await measure(source, args.rounds)
        await conn.execute(f"DROP INDEX {INDEX}")
        try:
            without = await measure(source, args.rounds)
        finally:
            await conn.execute("SET maintenance_work_mem = '256MB'")
            start = time.perf_counter()
            await conn.execute(definition)
            build = time.perf_counter() - start
            index_size = await conn.fetchval(
                "SELECT pg_size_pretty(pg_relation_size(to_regclass($1)))", INDEX
            )
    finally:
        await conn.close()
        await source.close()
    lines = [
        "# Name searches on the register",
        "",
        f"`python -m bench.name_search --prefix {args.prefix}` — "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {size:,} entities, medians of {args.rounds}; "
        f"the trigram index: {index_size}, built in {build:.1f} s. The hub cuts a search at "
        "half the department's budget (1 s in the demo): SEARCH_TOO_BROAD.",
        "",
        "| fragment | page of 100, index ms (rows) | totalCount, index ms (n) "
        "| page, no index ms | totalCount, no index ms |",
        "|---|---|---|---|---|",
    ]
    for f in FRAGMENTS:
        p, rows, c, n = with_index[f]
        p0, _, c0, _ = without[f]
        lines.append(f"| `{f}` | {p:.1f} ({rows}) | {c:.1f} ({n:,}) | {p0:.1f} | {c0:.1f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench.name_search", description=__doc__.split("\n")[0]
    )
    p.add_argument("--prefix", default="ref_")
    p.add_argument("--rounds", type=int, default=3)
    text = asyncio.run(run(p.parse_args()))
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "name_search.md").write_text(text)


if __name__ == "__main__":
    main()
