"""What every resolver of one request shares: sources, loaders, and the partial errors so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError

from adapters.errors import DepartmentUnavailable
from adapters.registry import Registry
from adapters.settings import Settings
from domain.access import PUBLIC, Principal
from resolvers.errors import source_error
from resolvers.loaders import Loaders


@dataclass
class RequestContext:
    registry: Registry
    settings: Settings
    request_id: str = ""
    request: Any = None
    store: Any = None  # the hub store (store.hub.HubStore)
    principal: Principal = PUBLIC
    store_loaders: Any = None  # made on first use (tasks.queries.StoreLoaders)
    cache: Any = None  # adapters.cache.RowCache when the read-through cache is on
    loaders: Loaders = field(init=False)
    partial_errors: list[GraphQLError] = field(default_factory=list)
    reads: dict[str, set[str]] = field(default_factory=dict)  # uscc -> departments read

    @property
    def actor(self) -> str:
        return self.principal.actor

    def record_read(self, uscc: str, department: str) -> None:
        """For the access log: whose record, from which department, this request read."""
        self.reads.setdefault(uscc, set()).add(department)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.registry, self.cache)

    def reset(self) -> None:
        """Forget what a handed-back planned execution loaded and recorded."""
        self.loaders = Loaders(self.registry, self.cache)
        self.store_loaders = None
        self.partial_errors.clear()
        self.reads.clear()

    def report_unavailable(self, path: list[str | int], failure: DepartmentUnavailable) -> None:
        """Record a failed source for a field that still answers with what it has (or null)."""
        if any(
            e.path == path and (e.extensions or {}).get("department") == failure.department
            for e in self.partial_errors
        ):
            return
        self.partial_errors.append(source_error(failure, path))
