"""Per-request DataLoaders: N lookups of one kind in one department become one statement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from adapters.cache import ENTITY_KINDS, CachedLookup, RowCache
from adapters.errors import DepartmentUnavailable
from adapters.postgres import Row
from adapters.registry import Registry


class Loaders:
    def __init__(self, registry: Registry, cache: RowCache | None = None) -> None:
        self._registry = registry
        self._cache = cache
        self._loaders: dict[tuple[str, str], DataLoader[str, list[Row]]] = {}
        self._register_rows: list[Row] = []  # primed into the register's loader once made

    def records(self, department: str, kind: str) -> DataLoader[str, list[Row]]:
        """Loader of `kind` records of one department by entity key (or district for
        inspectors); a failed batch resolves every key to the same DepartmentUnavailable."""
        key = (department, kind)
        loader = self._loaders.get(key)
        if loader is None:
            lookup = self.lookup(department, kind)

            async def load(keys: Sequence[str]) -> list[list[Row] | BaseException]:
                try:
                    grouped = await lookup.by_keys(kind, keys)
                except DepartmentUnavailable as e:
                    return [e] * len(keys)
                return [grouped.get(k, []) for k in keys]

            loader = DataLoader(load_fn=load)
            self._loaders[key] = loader
            if kind == "entity" and department == self._registry.register().code:
                self._prime(loader, self._register_rows)
        return loader

    def lookup(self, department: str, kind: str) -> Any:
        """The department's source, read through the cache for lookups by entity key."""
        source = self._registry.get(department)
        if self._cache is not None and kind in ENTITY_KINDS:
            return CachedLookup(source, self._cache)
        return source

    def prime_register(self, rows: Sequence[Row]) -> None:
        """A page of the register already holds each entity's row: seed the loader with it
        (when a field asks for it; a page whose fields need no register lookup costs none)."""
        loader = self._loaders.get((self._registry.register().code, "entity"))
        if loader is None:
            self._register_rows.extend(rows)
        else:
            self._prime(loader, rows)

    @staticmethod
    def _prime(loader: DataLoader[str, list[Row]], rows: Sequence[Row]) -> None:
        for row in rows:
            loader.prime(row["uscc"], [row])
