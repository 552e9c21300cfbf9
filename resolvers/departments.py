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


async def health(source: PostgresSource) -> Health:
    try:
        seconds = await source.ping()
    except DepartmentUnavailable as e:
        return Health("DOWN", None, e.reason)
    return Health("UP", round(seconds * 1000, 2), None)


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
