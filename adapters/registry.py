"""The open department sources, by code; built from settings, opened and closed with the app."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

from adapters.errors import DepartmentUnavailable
from adapters.http_mapping import load_http_mapping
from adapters.http_source import HttpSource
from adapters.mapping import load_mapping
from adapters.mysql import MySQLSource
from adapters.postgres import PostgresSource
from adapters.settings import DepartmentConfig, Settings
from adapters.sql_source import SqlSource

Source = SqlSource | HttpSource

REGISTER = "entity"  # the record kind of the master list of entities
_SQL_KINDS: dict[str, type[SqlSource]] = {"postgres": PostgresSource, "mysql": MySQLSource}


class UnknownDepartment(KeyError):
    def __init__(self, code: str, known: list[str]) -> None:
        super().__init__(code)
        self.code = code
        self.known = known

    def __str__(self) -> str:
        return f"unknown department {self.code!r}; known: {', '.join(self.known)}"


def build_source(d: DepartmentConfig) -> Source:
    """The adapter of one department line, by its kind (all expose the same interface)."""
    if d.kind == "http":
        if not d.url:
            raise ValueError(f"department {d.code!r}: an http source needs a url")
        return HttpSource(load_http_mapping(d.mapping), d.url, token_env=d.token_env)
    if d.kind in _SQL_KINDS:
        # Every worker opens a pool per department: keep their sum under the server's
        # max_connections (HUB_POOL_SIZE per department and worker, default 4).
        return _SQL_KINDS[d.kind](
            load_mapping(d.mapping), d.dsn, pool_size=int(os.environ.get("HUB_POOL_SIZE", "4"))
        )
    raise ValueError(f"department {d.code!r}: unknown adapter kind {d.kind!r}")


class Registry:
    def __init__(self, sources: list[Source]) -> None:
        self._sources = {s.code: s for s in sources}

    @classmethod
    def from_settings(cls, settings: Settings) -> Registry:
        return cls([build_source(d) for d in settings.departments])

    async def open(self) -> None:
        await asyncio.gather(*(s.open() for s in self._sources.values()))

    async def close(self) -> None:
        await asyncio.gather(*(s.close() for s in self._sources.values()))

    def __iter__(self) -> Iterator[Source]:
        return iter(self._sources.values())

    def codes(self) -> list[str]:
        return list(self._sources)

    def get(self, code: str) -> Source:
        try:
            return self._sources[code]
        except KeyError:
            raise UnknownDepartment(code, self.codes()) from None

    def holding(self, kind: str) -> list[Source]:
        """Sources whose mapping provides `kind` records, in configuration order."""
        return [s for s in self._sources.values() if s.supports(kind)]

    def register(self) -> Source:
        holders = self.holding(REGISTER)
        if not holders:
            raise DepartmentUnavailable("register", "no department holds the entity register")
        return holders[0]

    def statements(self) -> dict[str, int]:
        return {code: s.statements for code, s in self._sources.items()}
