"""A Redis read-through cache of department lookups by entity key, invalidated by each
department's change notifications (LISTEN hub_changes on PostgreSQL, the hub_changes table
polled on MySQL-family databases: adapters/change_table.py) and bounded by a TTL where a
source sends none.

It caches the department's rows, not answers: field permissions apply to every request on
top of them, so whoever asks sees exactly what they may see. Redis trouble makes a lookup a
miss, never an error: the client bounds every call to tens of milliseconds and skips Redis
while its circuit is open (adapters/redis_client.py). An invalidation Redis did not take is
kept and sent again before the cache is read; until it is, every lookup is a miss.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any

import asyncpg
import orjson

from adapters.change_table import ChangePoller
from adapters.mysql import MySQLSource
from adapters.postgres import PostgresSource, Row
from adapters.redis_client import RedisUnavailable
from domain.records import RECORD_FIELDS
from telemetry import metrics

log = logging.getLogger(__name__)
CHANNEL = "hub_changes"
# Record kinds looked up by entity key: what a change of one entity's rows can touch.
ENTITY_KINDS = (
    "entity",
    "permit",
    "penalty",
    "inspection",
    "credit_record",
    "credit_rating",
    "conflict",
)
# Invalidations kept while Redis cannot take them; past this many, reading the cache waits
# until every row written before the outage has expired.
_MAX_UNSENT = 10_000


def _dates(kind: str) -> tuple[str, ...]:
    return tuple(f for f, t in RECORD_FIELDS[kind].items() if t == "date")


# A batch of keys goes to Redis as one JSON argument and comes back as one JSON array:
# a command argument or a reply per key costs more on the client (redis-py packs and parses
# them in Python) than the lookup it saves. Standalone Redis only: the keys of one batch
# need not share a cluster slot.
_GET_MANY = """
local keys = cjson.decode(ARGV[1])
local out = {}
for i, key in ipairs(keys) do
  out[i] = redis.call('GET', key) or 'null'
end
return '[' .. table.concat(out, ',') .. ']'
"""
_SET_MANY = """
local pairs_ = cjson.decode(ARGV[2])
for i = 1, #pairs_, 2 do
  redis.call('SET', pairs_[i], pairs_[i + 1], 'EX', ARGV[1])
end
return #pairs_ / 2
"""


class Coalesced:
    """Calls made in the same turn of the event loop — by one request's lookups or by many
    requests — go to Redis as one call; each caller gets its own part of the answer."""

    def __init__(self, send: Callable[[list[list[Any]]], Awaitable[list[Any]]]) -> None:
        self._send = send
        self._parts: list[tuple[list[Any], asyncio.Future[Any]]] = []
        self._sending: set[asyncio.Task[None]] = set()  # held until done (no lost tasks)

    async def __call__(self, part: list[Any]) -> Any:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._parts.append((part, done))
        if len(self._parts) == 1:
            loop.call_soon(self._flush)  # after the other lookups ready in this turn
        return await done

    def _flush(self) -> None:
        parts, self._parts = self._parts, []
        task = asyncio.ensure_future(self._send_all(parts))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send_all(self, parts: list[tuple[list[Any], asyncio.Future[Any]]]) -> None:
        try:
            answers = await self._send([part for part, _ in parts])
        except Exception as e:  # every caller handles it (a miss, or a cache not filled)
            for _, done in parts:
                if not done.done():
                    done.set_exception(e)
            return
        for (_, done), answer in zip(parts, answers, strict=True):
            if not done.done():
                done.set_result(answer)


class RowCache:
    def __init__(self, redis: Any, prefix: str, ttl: int = 300) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl
        self._date_fields = {k: _dates(k) for k in RECORD_FIELDS}
        get_script = redis.register_script(_GET_MANY)
        set_script = redis.register_script(_SET_MANY)

        async def get_all(parts: list[list[str]]) -> list[list[Any]]:
            names = [name for part in parts for name in part]
            values = orjson.loads(await get_script([], [orjson.dumps(names)]))
            out, at = [], 0
            for part in parts:
                out.append(values[at : at + len(part)])
                at += len(part)
            return out

        async def set_all(parts: list[list[str]]) -> list[None]:
            flat = [item for part in parts for item in part]
            await set_script([], [self.ttl, orjson.dumps(flat)])
            return [None] * len(parts)

        self._get_many = Coalesced(get_all)
        self._set_many = Coalesced(set_all)
        self._unsent: set[str] = set()  # keys whose invalidation Redis did not take
        self._blind_until = 0.0  # too many unsent: no reads before this (monotonic)

    def key(self, department: str, kind: str, entity: str) -> str:
        return self._keys(department, kind) + entity

    def _keys(self, department: str, kind: str) -> str:
        """What every key of a department's records of one kind starts with."""
        return f"{self.prefix}{department}:{kind}:"

    def _dated(self, kind: str, rows: list[Row]) -> list[Row]:
        for row in rows:
            for f in self._date_fields[kind]:
                if row.get(f) is not None:
                    row[f] = date.fromisoformat(row[f])
        return rows

    async def get_many(
        self, department: str, kind: str, keys: Sequence[str]
    ) -> dict[str, list[Row]]:
        at = self._keys(department, kind)
        names = [at + k for k in keys]
        try:
            if not await self._fresh():
                return {}
            values = await self._get_many(names)
        except RedisUnavailable:
            return {}  # the circuit is open; the breaker said so once
        except Exception as e:
            log.warning("cache unavailable", extra={"reason": type(e).__name__})
            return {}
        found = {
            k: self._dated(kind, v) for k, v in zip(keys, values, strict=True) if v is not None
        }
        metrics.CACHE.labels("hit").inc(len(found))
        metrics.CACHE.labels("miss").inc(len(keys) - len(found))
        return found

    async def set_many(self, department: str, kind: str, rows: dict[str, list[Row]]) -> None:
        if not rows:
            return
        at = self._keys(department, kind)
        flat: list[str] = []
        for k, value in rows.items():
            flat += (at + k, orjson.dumps(value).decode())
        try:
            await self._set_many(flat)
        except RedisUnavailable:
            pass
        except Exception as e:
            log.warning("cache not filled", extra={"reason": type(e).__name__})

    async def invalidate(self, department: str, entity: str) -> None:
        keys = [self.key(department, k, entity) for k in ENTITY_KINDS]
        try:
            await self.redis.delete(*keys)
        except Exception as e:
            log.error(
                "cache not invalidated",
                extra={"department": department, "uscc": entity, "reason": type(e).__name__},
            )
            self._unsent.update(keys)
            if len(self._unsent) > _MAX_UNSENT:
                self._unsent.clear()
                self._blind_until = time.monotonic() + self.ttl

    async def _fresh(self) -> bool:
        """Whether the cache may be read: every invalidation Redis missed is sent first."""
        if time.monotonic() < self._blind_until:
            return False
        if self._unsent:
            unsent = list(self._unsent)
            await self.redis.delete(*unsent)  # raises: still a miss, still unsent
            self._unsent.difference_update(unsent)
        return True


class CachedLookup:
    """by_keys through the cache: hits from Redis, one statement for the misses."""

    def __init__(self, source: PostgresSource, cache: RowCache) -> None:
        self.source = source
        self.cache = cache

    async def by_keys(self, kind: str, keys: Sequence[str]) -> dict[str, list[Row]]:
        hits = await self.cache.get_many(self.source.code, kind, keys)
        missing = [k for k in keys if k not in hits]
        if missing:
            fetched = await self.source.by_keys(kind, missing)
            await self.cache.set_many(self.source.code, kind, fetched)
            hits.update(fetched)
        return hits


class ChangeListener:
    """One LISTEN connection per PostgreSQL department, one change-table poller per MySQL-
    family one; a change drops that entity's rows."""

    def __init__(self, sources: Sequence[Any], cache: RowCache) -> None:
        # Only database sources notify; an API source's rows live out their TTL.
        self.sources = [s for s in sources if isinstance(s, PostgresSource)]
        self.pollers = [
            ChangePoller(s, cache.invalidate) for s in sources if isinstance(s, MySQLSource)
        ]
        self.cache = cache
        self._conns: dict[str, asyncpg.Connection] = {}
        self._silent: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._keep_listening())
        for poller in self.pollers:
            await poller.start()

    async def _keep_listening(self) -> None:
        """(Re)connect every department that is not listening, every few seconds: a source
        that was down starts notifying again when it comes back."""
        while True:
            for source in self.sources:
                conn = self._conns.get(source.code)
                if conn is not None and not conn.is_closed():
                    continue
                try:
                    conn = await asyncpg.connect(source.dsn, timeout=source.timeout)
                    await conn.add_listener(CHANNEL, self._handler(source.code))
                except (OSError, asyncpg.PostgresError, TimeoutError) as e:
                    # Retried on the next pass; meanwhile the TTL bounds staleness.
                    if source.code not in self._silent:
                        log.warning(
                            "not listening for changes",
                            extra={"department": source.code, "reason": type(e).__name__},
                        )
                        self._silent.add(source.code)  # said once until it listens again
                    self._conns.pop(source.code, None)
                else:
                    self._conns[source.code] = conn
                    self._silent.discard(source.code)
            await asyncio.sleep(5)

    def _handler(self, department: str) -> Any:
        def on_change(conn: Any, pid: int, channel: str, payload: str) -> None:
            asyncio.get_running_loop().create_task(
                self.cache.invalidate(department, payload.strip())
            )

        return on_change

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for poller in self.pollers:
            await poller.stop()
        for conn in self._conns.values():
            await conn.close(timeout=2)
