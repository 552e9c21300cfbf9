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
from adapters.sql_source import READ_RETRIES, Filter, Row, SqlSource

__all__ = ["READ_RETRIES", "Filter", "NoResetConnection", "PostgresSource", "Row"]

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

    # -- one statement ---------------------------------------------------------------------
    async def _execute(self, sql: str, args: Sequence[Any]) -> list[asyncpg.Record]:
        assert self._pool is not None
        async with self._pool.acquire() as conn:
            return await conn.fetch(sql, *args)

    def _retryable(self, error: Exception) -> bool:
        return isinstance(error, _RETRYABLE)

    async def _connection_lost(self, error: Exception) -> None:
        if isinstance(error, asyncpg.ConnectionDoesNotExistError) and self._pool is not None:
            # The server dropped our connections (a restart): the rest of the pool is likely
            # dead too; the retry gets a fresh one.
            await self._pool.expire_connections()
