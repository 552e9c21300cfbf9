"""The MySQL-family adapter (MySQL, MariaDB): a department's mapping over an asyncmy pool.

What every SQL source shares (the compiled statements, batching by key, the time budget,
retries and the breaker) is adapters/sql_source.py; the MySQL dialect (adapters/dialect.py)
writes `IN (%s, …)` for a batch and LIKE under a case-insensitive collation. This module
supplies the pool, one statement's execution and the classification of asyncmy's errors.

Statements with parameters run as server-side prepared statements (asyncmy's statement
cache): the values never become SQL text. A statement cut short by the time budget leaves
its connection mid-reply, so that connection is closed rather than pooled again, and the
server is told to stop the statement (KILL QUERY), as asyncpg cancels a PostgreSQL one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncmy
from asyncmy import errors as my_errors

from adapters.dialect import MYSQL
from adapters.sql_source import SqlSource

log = logging.getLogger(__name__)

SCHEMES = ("mysql", "mariadb")
DEFAULT_PORT = 3306
STATEMENT_CACHE = 64  # prepared statements kept per connection
# Client-side codes of a connection that failed or was lost (CR_CONN_HOST_ERROR 2003,
# CR_SERVER_GONE_ERROR 2006, CR_SERVER_LOST 2013): worth one more try on a new connection.
_LOST = frozenset({2003, 2006, 2013})


@dataclass(frozen=True, slots=True)
class Server:
    """Where a MySQL-family database is: mysql://user[:password]@host[:port]/database."""

    host: str
    port: int
    user: str
    password: str
    database: str | None

    @classmethod
    def from_url(cls, url: str) -> Server:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES:
            raise ValueError(f"not a MySQL URL (mysql://user@host:port/database): {url!r}")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or DEFAULT_PORT,
            user=unquote(parts.username or "root"),
            password=unquote(parts.password or ""),
            database=unquote(parts.path.lstrip("/")) or None,
        )

    def connect_args(self, timeout: float) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "db": self.database,
            "connect_timeout": max(1, round(timeout)),
            "charset": "utf8mb4",
            # Every read sees what is committed now, never a snapshot held by the connection.
            "autocommit": True,
        }


async def connect(server: Server, timeout: float, **extra: Any) -> asyncmy.Connection:
    """One connection outside any pool (tools, change polling, KILL QUERY); `extra` overrides
    the server's arguments (e.g. db=None for no database)."""
    return await asyncmy.connect(**{**server.connect_args(timeout), **extra})


class MySQLSource(SqlSource):
    kind = "mysql"
    dialect = MYSQL

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.server = Server.from_url(self.dsn)
        self._pool: Any = None
        self._killing: set[asyncio.Task[None]] = set()  # held until done (no lost tasks)

    # -- lifecycle -------------------------------------------------------------------------
    async def open(self) -> None:
        # minsize=0: the hub starts even while a department is down, and connects lazily.
        self._pool = await asyncmy.create_pool(
            minsize=0,
            maxsize=self.pool_size,
            pool_recycle=60,
            stmt_cache_size=STATEMENT_CACHE,
            **self.server.connect_args(self.timeout),
        )

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            await self._pool.wait_closed()
            self._pool = None
        if self._killing:
            await asyncio.gather(*self._killing, return_exceptions=True)

    @property
    def opened(self) -> bool:
        return self._pool is not None

    # -- one statement ---------------------------------------------------------------------
    async def _execute(self, sql: str, args: Sequence[Any]) -> Sequence[Sequence[Any]]:
        pool = self._pool
        conn = await pool.acquire()
        try:
            async with conn.cursor() as cursor:
                await cursor.execute(sql, tuple(args) if args else None)
                rows: Sequence[Sequence[Any]] = await cursor.fetchall()
                return rows
        except BaseException as e:
            if isinstance(e, asyncio.CancelledError | TimeoutError):
                self._kill_query(conn.thread_id())
            if not _server_error(e):  # mid-reply or broken: never handed out again
                conn.close()
            raise
        finally:
            pool.release(conn)

    def _kill_query(self, thread_id: int) -> None:
        """Stop the statement the server is still running for us (e.g. waiting on a lock)."""

        async def kill() -> None:
            conn = None
            try:
                async with asyncio.timeout(self.timeout):
                    conn = await connect(self.server, self.timeout)
                    async with conn.cursor() as cursor:
                        await cursor.execute(f"KILL QUERY {int(thread_id)}")
            except (OSError, TimeoutError, my_errors.MySQLError) as e:
                # Down (nothing runs there either), or the statement finished meanwhile.
                log.info(
                    "statement not stopped",
                    extra={"department": self.code, "reason": type(e).__name__},
                )
            finally:
                if conn is not None:
                    conn.close()

        task = asyncio.get_running_loop().create_task(kill())
        self._killing.add(task)
        task.add_done_callback(self._killing.discard)

    def _retryable(self, error: Exception) -> bool:
        if isinstance(error, OSError):
            return True
        if isinstance(error, my_errors.InterfaceError):  # the connection was already closed
            return True
        code = error.args[0] if isinstance(error, my_errors.OperationalError) else None
        return code in _LOST

    def _input_error(self, error: Exception) -> bool:
        # A value the server cannot take for its column's type (out of range, too long, an
        # impossible date): the request's doing, not a sign that the department is failing.
        return isinstance(error, my_errors.DataError)


def _server_error(error: BaseException) -> bool:
    """The server answered with an error (codes from 1000): the connection is still in step."""
    code = error.args[0] if isinstance(error, my_errors.MySQLError) and error.args else None
    return isinstance(code, int) and code >= 1000
