"""The PostgreSQL adapter: executes a department's mapping over an asyncpg pool.

What every SQL source shares (the compiled statements, batching by key with `= ANY($1)`,
the time budget, retries and the breaker) is adapters/sql_source.py; this module supplies the
pool, one statement's execution and which asyncpg failures are worth a retry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from adapters.dialect import POSTGRES
from adapters.errors import MappingError
from adapters.sql_source import READ_RETRIES, Filter, Row, SqlSource

__all__ = ["READ_RETRIES", "Filter", "NoResetConnection", "PostgresSource", "Row"]

# `columns` joins each field's values with the unit separator and writes NULL as the record
# separator (neither occurs in register codes); only transforms that read text are allowed.
_SEP, _NULL = "\x1f", "\x1e"  # chr(31), chr(30) in SQL
_TEXT_SAFE = frozenset({"text", "int", "fen", "yyyymmdd", "csv", "flag"})

# Failures of the connection, not of the statement: worth one more try on another connection.
_RETRYABLE = (
    OSError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
)


class NoResetConnection(asyncpg.Connection):  # type: ignore[misc]
    """The hub never changes session state, so skip the reset round trip on every release."""

    def get_reset_query(self) -> str:
        return ""


class PostgresSource(SqlSource):
    kind = "postgres"
    dialect = POSTGRES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pool: asyncpg.Pool | None = None

    # -- lifecycle -------------------------------------------------------------------------
    async def open(self) -> None:
        # min_size=0: the hub starts even while a department is down, and connects lazily.
        self._pool = await asyncpg.create_pool(
            self.dsn,
            min_size=0,
            max_size=self.pool_size,
            connection_class=NoResetConnection,
            timeout=self.timeout,
            max_inactive_connection_lifetime=60,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def opened(self) -> bool:
        return self._pool is not None

    # -- a whole population in one answer -------------------------------------------------
    async def columns(
        self,
        kind: str,
        filters: Sequence[Filter],
        fields: Sequence[str],
        timeout: float | None = None,
    ) -> list[list[Any]]:
        """Selected fields of every matching row, one list per field (in the same row order):
        a draw's whole population in one statement that answers with one string per field,
        joined by PostgreSQL (string_agg); each distinct value is converted once. Fields whose
        transform needs the column's own type (dates, lists, booleans) are refused: use
        ``scan`` for them."""
        c = self._compiled[kind]
        picked, exprs, rest, args = self._selection(c, filters, fields)
        for j in picked:
            if c.record.fields[j].transform not in _TEXT_SAFE:
                raise MappingError(f"{self.code}.{kind}.{c.names[j]} is not read as text")
        aggs = ", ".join(
            f"coalesce(string_agg(coalesce(({e})::text, chr(30)), chr(31)), '')" for e in exprs
        )
        rows = await self._fetch(f"SELECT count(*), {aggs} {rest}", args, timeout=timeout)
        n, *texts = rows[0]
        out = []
        for j, text in zip(picked, texts, strict=True):
            values = text.split(_SEP) if n else []
            if len(values) != n:
                raise MappingError(f"{self.code}.{kind}.{c.names[j]}: a value holds U+001F")
            fm = c.record.fields[j]
            if fm.transform == "text" and fm.codes is None:  # already text: only NULLs to read
                out.append([None if v == _NULL else v for v in values] if _NULL in text else values)
                continue
            convert = c.convert[j]
            once = {v: None if v == _NULL else convert(v) for v in set(values)}
            out.append([once[v] for v in values])
        return out

    # -- one statement ---------------------------------------------------------------------
    async def _execute(self, sql: str, args: Sequence[Any]) -> list[asyncpg.Record]:
        assert self._pool is not None
        async with self._pool.acquire() as conn:
            return await conn.fetch(sql, *args)

    def _retryable(self, error: Exception) -> bool:
        return isinstance(error, _RETRYABLE)

    def _input_error(self, error: Exception) -> bool:
        # A value PostgreSQL cannot take (a NUL in text, a lone surrogate asyncpg cannot
        # encode, a number out of range…): the request's doing, not a failing department.
        return isinstance(error, asyncpg.DataError)

    async def _connection_lost(self, error: Exception) -> None:
        if isinstance(error, asyncpg.ConnectionDoesNotExistError) and self._pool is not None:
            # The server dropped our connections (a restart): the rest of the pool is likely
            # dead too; the retry gets a fresh one.
            await self._pool.expire_connections()
