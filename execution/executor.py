"""Run a plan (execution/planner.py) breadth-first: root fields, then each level's batched
fields for all of that level's parents at once, building the answer as plain dicts.

It answers exactly what strawberry's executor would, and hands the operation back (None)
whenever that is not sure: a rule that does not grant every field to the caller up front,
variables that do not coerce, a bad argument, a null in a non-null position. Strawberry then
runs the operation from the start on a fresh context and reports the errors its own way.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from graphql.execution.values import get_variable_values
from graphql.pyutils import Path as GraphQLPath
from strawberry.types import ExecutionResult

from execution.batched import Fetcher
from execution.planner import (
    ASYNC_ROOT,
    TYPENAME,
    FieldPlan,
    NullInNonNull,
    ObjectPlan,
    Plan,
    argument_values,
)
from resolvers.context import RequestContext
from schemas.schema import schema as strawberry_schema

log = logging.getLogger(__name__)
PathKey = tuple[str | int, ...]


@dataclass(slots=True)
class PlanInfo:
    """What the resolvers allowed in schemas/planned.INFO_CONTEXT_ONLY read of `info`."""

    context: RequestContext
    path: GraphQLPath | None = None


class Run:
    def __init__(self, ctx: RequestContext, variables: dict[str, Any]) -> None:
        self.ctx = ctx
        self.variables = variables
        self.fetcher = Fetcher(ctx)
        self.info = PlanInfo(ctx)
        # Batched fields met while building a level: (field, parent, its dict, path).
        self.pending: list[tuple[FieldPlan, Any, dict[str, Any], PathKey]] = []
        self._args: dict[int, dict[str, Any]] = {}

    def args(self, plan: FieldPlan) -> dict[str, Any]:
        found = self._args.get(id(plan))
        if found is None:
            found = self._args[id(plan)] = argument_values(plan, self.variables)
        return found

    async def root(self, plan: ObjectPlan) -> dict[str, Any]:
        """Root fields: the async ones awaited together, then each completed in order."""
        values: dict[str, Any] = {}
        calls = {}
        for f in plan.fields:
            if f.how == TYPENAME:
                values[f.key] = plan.type_name
                continue
            kwargs = {**self.args(f)}
            if f.info_param:
                kwargs[f.info_param] = PlanInfo(self.ctx, GraphQLPath(None, f.key, "Query"))
            values[f.key] = f.getter(None, **kwargs)  # type: ignore[misc]
            if f.how == ASYNC_ROOT:
                calls[f.key] = values[f.key]
        for key, result in zip(calls, await asyncio.gather(*calls.values()), strict=True):
            values[key] = result
        return {
            f.key: values[f.key] if f.how == TYPENAME else f.complete(values[f.key], (f.key,), self)  # type: ignore[misc]
            for f in plan.fields
        }

    async def drain(self) -> None:
        """Load and fill the batched fields level by level until none is left."""
        while self.pending:
            level, self.pending = self.pending, []
            groups: dict[int, list[tuple[FieldPlan, Any, dict[str, Any], PathKey]]] = {}
            for item in level:
                groups.setdefault(id(item[0]), []).append(item)
            batches = list(groups.values())
            loaded = await asyncio.gather(
                *(
                    items[0][0].batched.load(  # type: ignore[union-attr]
                        self.fetcher, [parent for _, parent, _, _ in items], self.args(items[0][0])
                    )
                    for items in batches
                )
            )
            for items, state in zip(batches, loaded, strict=True):
                f = items[0][0]
                args = self.args(f)
                for _, parent, out, path in items:
                    value = f.batched.value(self.ctx, parent, args, state, list(path))  # type: ignore[union-attr]
                    out[f.key] = f.complete(value, path, self)  # type: ignore[misc]


async def execute(
    plan: Plan, ctx: RequestContext, variables: dict[str, Any] | None
) -> ExecutionResult | None:
    """The operation's result, or None when strawberry's executor should answer it."""
    who = ctx.principal
    if not all(p.grants_all(who) for p in plan.permissions):
        return None  # some field is denied or decided object by object
    coerced = get_variable_values(
        strawberry_schema._schema, plan.operation.variable_definitions or (), variables or {}
    )
    if isinstance(coerced, list):
        return None  # strawberry reports the variables' errors
    run = Run(ctx, coerced)
    try:
        data = await run.root(plan.root)
        await run.drain()
    except (GraphQLError, NullInNonNull):
        ctx.reset()
        return None
    except Exception as e:  # strawberry answers it; the log says what went wrong here
        log.warning("planned execution handed back", extra={"reason": repr(e)[:200]})
        ctx.reset()
        return None
    return ExecutionResult(data=data, errors=list(ctx.partial_errors) or None)
