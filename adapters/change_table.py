"""The change feed of a MySQL-family department: a change table the hub polls.

MariaDB and MySQL have no LISTEN/NOTIFY. The department's triggers append the entity key (the
USCC) of every changed row to `hub_changes` (demo/departments/health.notify.sql shows them);
each hub process reads the rows after the last it saw, once a second, over one connection of
its own (not the department's pool, not counted in `statements`), and drops those entities'
cached rows. A department without the table is said once in the log; its cached rows live
out their TTL (HUB_CACHE_TTL), as an HTTP department's do. bench/change_feed.py measures what
polling costs the department.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asyncmy import errors as my_errors

from adapters.mysql import MySQLSource, connect

log = logging.getLogger(__name__)

TABLE = "hub_changes"
POLL_SECONDS = 1.0
RETRY_SECONDS = 5.0
BATCH = 1000  # change rows per read; a full batch is followed by the next at once
_LATEST = f"SELECT COALESCE(MAX(id), 0) FROM {TABLE}"
_AFTER = f"SELECT id, entity_key FROM {TABLE} WHERE id > %s ORDER BY id LIMIT {BATCH}"


class ChangePoller:
    """Polls one department's change table and invalidates what changed."""

    def __init__(
        self,
        source: MySQLSource,
        invalidate: Callable[[str, str], Awaitable[None]],
        interval: float = POLL_SECONDS,
    ) -> None:
        self.source = source
        self.invalidate = invalidate
        self.interval = interval
        self.last_id: int | None = None  # the newest change seen; None until connected
        self.polls = 0  # reads of the change table (tests and bench read it)
        self._conn: Any = None
        self._silent = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._keep_polling())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._close()

    async def _keep_polling(self) -> None:
        while True:
            try:
                full = await self.poll()
            except (OSError, my_errors.MySQLError, TimeoutError) as e:
                # Retried after a pause; meanwhile the TTL bounds staleness.
                if not self._silent:
                    log.warning(
                        "not polling for changes",
                        extra={"department": self.source.code, "reason": type(e).__name__},
                    )
                    self._silent = True  # said once until it polls again
                self._close()
                await asyncio.sleep(RETRY_SECONDS)
                continue
            self._silent = False
            if not full:
                await asyncio.sleep(self.interval)

    async def poll(self) -> bool:
        """Read the changes after the last one seen and invalidate their entities; True when
        a full batch came (more may be waiting). The first read only notes where the table
        is: what changed before this process started is bounded by the cache's TTL."""
        async with asyncio.timeout(self.source.timeout):
            if self._conn is None:
                self._conn = await connect(self.source.server, self.source.timeout)
            async with self._conn.cursor() as cursor:
                if self.last_id is None:
                    await cursor.execute(_LATEST)
                    (self.last_id,) = await cursor.fetchone()
                    return False
                await cursor.execute(_AFTER, (self.last_id,))
                rows = await cursor.fetchall()
        self.polls += 1
        for key in dict.fromkeys(str(k).strip() for _, k in rows):
            await self.invalidate(self.source.code, key)
        if rows:
            self.last_id = int(rows[-1][0])
        return len(rows) == BATCH

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
