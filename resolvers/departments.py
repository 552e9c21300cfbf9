"""Departments: what the registry knows, and how each source answers right now."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from adapters.errors import DepartmentUnavailable
from adapters.postgres import PostgresSource, Row
from resolvers.context import RequestContext


@dataclass(frozen=True, slots=True)
class Health:
    status: str  # UP | DOWN
    latency_ms: float | None
    reason: str | None
    breaker: str  # CLOSED | HALF_OPEN | OPEN


async def health(source: PostgresSource) -> Health:
    try:
        seconds = await source.ping()
    except DepartmentUnavailable as e:
        return Health("DOWN", None, e.reason, source.breaker.state.value)
    return Health("UP", round(seconds * 1000, 2), None, source.breaker.state.value)


async def all_health(sources: list[PostgresSource]) -> dict[str, Health]:
    results = await asyncio.gather(*(health(s) for s in sources))
    return {s.code: h for s, h in zip(sources, results, strict=True)}


async def checklist_items(ctx: RequestContext, code: str, path: list[str | int]) -> list[Row]:
    source = ctx.registry.get(code)
    if not source.supports("checklist_item"):
        return []
    try:
        return await source.all("checklist_item")
    except DepartmentUnavailable as e:
        ctx.report_unavailable(path, e)
        return []


async def inspectors(
    ctx: RequestContext, code: str, district: str, path: list[str | int]
) -> tuple[list[Row], dict[str, list[Row]]]:
    """A department's inspector pool in one district, with each inspector's conflicts."""
    source = ctx.registry.get(code)
    if not source.supports("inspector"):
        return [], {}
    try:
        pool = await ctx.loaders.records(code, "inspector").load(district)
        conflicts: dict[str, list[Row]] = {}
        if source.supports("conflict") and pool:
            # Conflicts are keyed by entity at the source; the pool's own are few: scan them.
            rows = await source.scan("conflict", [], ["inspector_id", "uscc", "reason"])
            ids = {r["id"] for r in pool}
            for inspector_id, uscc, reason in rows:
                if inspector_id in ids:
                    conflicts.setdefault(inspector_id, []).append({"uscc": uscc, "reason": reason})
    except DepartmentUnavailable as e:
        ctx.report_unavailable(path, e)
        return [], {}
    return pool, conflicts
