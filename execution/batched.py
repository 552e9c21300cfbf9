"""Async fields fetched for a whole level of parents at once, breadth-first.

The planned executor (execution/executor.py) answers known read operations without calling a
resolver per object: for each async field it asks a `Batched` spec to load everything the
level needs (one lookup per department and kind, through the same cache as the DataLoaders),
then builds each parent's value synchronously from what arrived. Partial errors and the
access log are recorded exactly as the per-object resolvers record them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from adapters.errors import DepartmentUnavailable
from adapters.postgres import Row
from resolvers.context import RequestContext
from resolvers.entities import check_departments, count_entities, count_value, settle

Path = list[str | int]


class Fetcher:
    """One request's department lookups: each (department, kind, keys) is asked once, and a
    failed department is a value beside the rows, never raised."""

    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx
        self._tasks: dict[tuple[str, str, frozenset[str]], asyncio.Future[Any]] = {}

    def fetch(
        self, department: str, kind: str, keys: Sequence[str]
    ) -> asyncio.Future[dict[str, list[Row]] | DepartmentUnavailable]:
        wanted = frozenset(keys)
        task = self._tasks.get((department, kind, wanted))
        if task is None:
            task = asyncio.ensure_future(self._lookup(department, kind, sorted(wanted)))
            self._tasks[(department, kind, wanted)] = task
        return task

    async def _lookup(
        self, department: str, kind: str, keys: list[str]
    ) -> dict[str, list[Row]] | DepartmentUnavailable:
        try:
            return await self.ctx.loaders.lookup(department, kind).by_keys(kind, keys)
        except DepartmentUnavailable as e:
            return e


class Batched(Protocol):
    """How one async field is loaded for many parents, then valued for each."""

    async def load(self, fetcher: Fetcher, parents: Sequence[Any], args: dict[str, Any]) -> Any: ...

    def value(
        self, ctx: RequestContext, parent: Any, args: dict[str, Any], loaded: Any, path: Path
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class EntityRecords:
    """An entity's records of some kinds from every department holding them, or from the one
    its `department` argument names; `build` turns them (by kind) into the field's value."""

    kinds: tuple[str, ...]
    build: Callable[[dict[str, list[Row]], dict[str, Any]], Any]

    async def load(self, fetcher: Fetcher, parents: Sequence[Any], args: dict[str, Any]) -> Any:
        ctx = fetcher.ctx
        named = args.get("department")
        departments = check_departments(ctx, None if named is None else [named])
        keys = [p.uscc for p in parents]
        wanted = [
            (source.code, kind)
            for kind in self.kinds
            for source in ctx.registry.holding(kind)
            if departments is None or source.code in departments
        ]
        results = await asyncio.gather(*(fetcher.fetch(d, k, keys) for d, k in wanted))
        return list(zip(wanted, results, strict=True))

    def value(
        self, ctx: RequestContext, parent: Any, args: dict[str, Any], loaded: Any, path: Path
    ) -> Any:
        uscc = parent.uscc
        by_kind: dict[str, list[Row]] = {kind: [] for kind in self.kinds}
        failures = []
        for (_, kind), result in loaded:
            if isinstance(result, DepartmentUnavailable):
                failures.append(result)
            else:
                by_kind[kind].extend(result.get(uscc, ()))
        settle(ctx, uscc, path, [r for rows in by_kind.values() for r in rows], failures)
        return self.build(by_kind, args)


class ConnectionCount:
    """totalCount of each connection at this level."""

    async def load(self, fetcher: Fetcher, parents: Sequence[Any], args: dict[str, Any]) -> Any:
        counts = await asyncio.gather(*(count_entities(fetcher.ctx, p.query) for p in parents))
        return {id(p): n for p, n in zip(parents, counts, strict=True)}

    def value(
        self, ctx: RequestContext, parent: Any, args: dict[str, Any], loaded: Any, path: Path
    ) -> Any:
        return count_value(ctx, loaded[id(parent)], path)
