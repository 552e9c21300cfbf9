"""The hub store's connection pool, opened with the app (after migrating, on the run path)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from adapters.errors import describe
from adapters.postgres import NoResetConnection
from store import signing
from store.migrate import ensure_database, migrate


class StoreUnavailable(Exception):
    code = "STORE_UNAVAILABLE"


class HubStore:
    def __init__(self, dsn: str, signer: signing.Signer | None = None) -> None:
        """`signer` signs the audit log's checkpoints; by default the key configured in the
        environment (HUB_AUDIT_KEY_FILE, HUB_AUDIT_KEY). Without one, changes are refused."""
        self.dsn = dsn
        self.signer = signer or signing.from_env()
        self.trusted_keys = signing.trusted_keys(self.signer)
        self._pool: asyncpg.Pool | None = None

    async def open(self, admin_url: str | None = None, database: str | None = None) -> None:
        """Create the database and apply migrations when given where, then open the pool."""
        if admin_url and database:
            await ensure_database(admin_url, database)
            await migrate(self.dsn)
        self._pool = await asyncpg.create_pool(
            self.dsn, min_size=0, max_size=4, connection_class=NoResetConnection
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreUnavailable("the hub store is not open")
        return self._pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """One unit of work: everything inside commits together or not at all."""
        try:
            conn = await self.pool.acquire()
        except (OSError, asyncpg.PostgresError) as e:
            raise StoreUnavailable(f"the hub store is unavailable: {describe(e)}") from e
        try:
            async with conn.transaction():
                yield conn
        finally:
            await self.pool.release(conn)
