"""A counting proxy in front of PostgreSQL: relays the wire protocol unchanged and counts, per
database, the statements clients execute (simple-protocol Query messages and extended-protocol
Execute messages, the latter traced back through Bind and Parse to their SQL text).

pg_stat_statements is not preloaded on the benchmark server (that needs a restart) and
pg_stat_database.xact_commit counts transactions, not statements (asyncpg's prepares and
PostGraphile's single-statement queries would both blur it), so the benchmark counts on the
wire instead, in a separate short pass (the relay costs time; throughput runs go direct).
"""

from __future__ import annotations

import asyncio
import struct
from collections import Counter, defaultdict

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102

_TX = ("begin", "start", "commit", "end", "rollback", "savepoint", "release")


def classify(sql: str) -> str:
    """`sql` (a data statement), `tx` (transaction control), `session` (SET, reset, …) or
    `catalog` (driver introspection of types)."""
    head = sql.lstrip().lower()
    word = head.split(None, 1)[0].rstrip(";") if head else ""
    if word in _TX:
        return "tx"
    if word in ("set", "reset", "show", "discard", "unlisten", "close") or "set_config(" in head:
        return "session"
    if "pg_advisory_unlock_all" in head:
        return "session"
    if "pg_catalog." in head or " pg_type" in head or "from pg_" in head:
        return "catalog"
    return "sql"


class CountingProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self._server = await asyncio.start_server(self._client, host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def snapshot(self) -> dict[str, dict[str, int]]:
        return {db: dict(c) for db, c in self.counts.items()}

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readexactly(8)
                length, code = struct.unpack("!ii", head)
                if code in (SSL_REQUEST, GSSENC_REQUEST):
                    writer.write(b"N")  # no encryption: go on in plain text
                    await writer.drain()
                    continue
                rest = await reader.readexactly(length - 8)
                break
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            up_writer.write(head + rest)
            if code == CANCEL_REQUEST:
                await up_writer.drain()
                up_writer.close()
                return
            parts = rest.split(b"\0")
            params = dict(zip(parts[0::2], parts[1::2], strict=False))
            database = (params.get(b"database") or params.get(b"user") or b"?").decode()
            await asyncio.gather(
                self._frontend(reader, up_writer, self.counts[database]),
                self._relay(up_reader, writer),
                return_exceptions=True,
            )
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            writer.close()

    @staticmethod
    async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    @staticmethod
    async def _frontend(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, counts: Counter[str]
    ) -> None:
        statements: dict[bytes, str] = {}  # prepared statement name -> SQL
        portals: dict[bytes, str] = {}  # portal name -> SQL
        try:
            while True:
                head = await reader.readexactly(5)
                kind = head[:1]
                body = await reader.readexactly(struct.unpack("!i", head[1:])[0] - 4)
                if kind == b"Q":
                    counts[classify(body[:-1].decode(errors="replace"))] += 1
                elif kind == b"P":
                    name, sql = body.split(b"\0", 2)[:2]
                    statements[name] = sql.decode(errors="replace")
                elif kind == b"B":
                    portal, name = body.split(b"\0", 2)[:2]
                    portals[portal] = statements.get(name, "")
                elif kind == b"E":
                    portal = body.split(b"\0", 1)[0]
                    counts[classify(portals.get(portal, ""))] += 1
                writer.write(head + body)
                await writer.drain()
        finally:
            writer.close()


def diff(
    after: dict[str, dict[str, int]], before: dict[str, dict[str, int]]
) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for db, counts in after.items():
        d = {k: v - before.get(db, {}).get(k, 0) for k, v in counts.items()}
        d = {k: v for k, v in d.items() if v}
        if d:
            out[db] = d
    return out
