"""Fan one lookup out to every department holding a record kind, keeping what arrives."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from adapters.errors import DepartmentUnavailable
from adapters.postgres import Row
from resolvers.context import RequestContext


async def gather_records(
    ctx: RequestContext, kind: str, key: str, departments: Iterable[str] | None = None
) -> tuple[list[Row], list[DepartmentUnavailable]]:
    """Records of `kind` for one key from each department (all that hold the kind, or those
    named); failures come back beside the rows, never raised."""
    sources = ctx.registry.holding(kind)
    if departments is not None:
        wanted = set(departments)
        sources = [s for s in sources if s.code in wanted]
    results = await asyncio.gather(
        *(ctx.loaders.records(s.code, kind).load(key) for s in sources), return_exceptions=True
    )
    rows: list[Row] = []
    failures: list[DepartmentUnavailable] = []
    for result in results:
        if isinstance(result, DepartmentUnavailable):
            failures.append(result)
        elif isinstance(result, BaseException):
            raise result
        else:
            rows.extend(result)
    return rows, failures
