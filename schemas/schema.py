"""The assembled schema and the extension that adds partial-result errors to responses."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import DocumentNode, GraphQLError, parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schemas.access_api import AccessQuery
from schemas.audit_api import AuditQuery
from schemas.calendar_api import CalendarQuery
from schemas.credit_api import CreditMutation, CreditQuery
from schemas.draw_api import DrawMutation, DrawQuery
from schemas.planning_api import Mutation as PlanningMutation
from schemas.planning_api import PlanningQuery
from schemas.query import ReadQuery
from schemas.scalars import SCALARS
from schemas.subscriptions import Subscription


class PartialResults(SchemaExtension):
    """Departments that failed during execution are reported as errors beside the data
    that did arrive (the fields themselves answered with what the others returned)."""

    def on_execute(self) -> Iterator[None]:
        yield
        ctx = self.execution_context.context
        result = self.execution_context.result
        errors = getattr(ctx, "partial_errors", None)
        if errors and result is not None:
            result.errors = [*(result.errors or []), *errors]


Query = merge_types(
    "Query",
    (ReadQuery, PlanningQuery, AccessQuery, CalendarQuery, CreditQuery, AuditQuery, DrawQuery),
)
Mutation = merge_types("Mutation", (PlanningMutation, CreditMutation, DrawMutation))


@functools.lru_cache(maxsize=512)
def _parse(query: str) -> DocumentNode:
    return parse(query)


class ParseOnce(SchemaExtension):
    """The same document is parsed once per process, not on every request (the gateway has
    already parsed it under the client's token limit, so this never sees an unbounded one)."""

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.graphql_document is None and ctx.query is not None:
            ctx.graphql_document = _parse(ctx.query)
        yield


class HubSchema(strawberry.federation.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Expected errors (a stable code) are answers, not faults: log only the rest."""
        unexpected = [
            e
            for e in errors
            if not (e.extensions or {}).get("code") and e.original_error is not None
        ]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema() -> strawberry.Schema:
    return HubSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[ParseOnce, PartialResults],
        config=StrawberryConfig(scalar_map=SCALARS),
        federation_version="2.5",
    )


schema = build_schema()
