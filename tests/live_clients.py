"""Clients of the two subscription transports, as a browser or an app would speak them:
graphql-transport-ws over a real WebSocket, GraphQL over SSE over a real HTTP stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

WAIT = 60  # seconds: generous, the machine is shared


class WS:
    """One graphql-transport-ws connection."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, base: str, payload: dict[str, Any] | None) -> AsyncIterator[WS]:
        url = base.replace("http://", "ws://") + "/graphql"
        async with connect(url, subprotocols=["graphql-transport-ws"]) as conn:  # type: ignore[list-item]
            ws = cls(conn)
            await ws.send({"type": "connection_init", "payload": payload or {}})
            yield ws

    async def send(self, message: dict[str, Any]) -> None:
        await self.conn.send(json.dumps(message))

    async def receive(self, timeout: float = WAIT) -> dict[str, Any]:
        """The next message other than a ping/pong."""
        while True:
            message = json.loads(await asyncio.wait_for(self.conn.recv(), timeout))
            if message["type"] not in ("ping", "pong"):
                return message

    async def ack(self) -> None:
        assert (await self.receive())["type"] == "connection_ack"

    async def subscribe(
        self, op_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        await self.send(
            {
                "id": op_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )

    async def closed(self, timeout: float = WAIT) -> tuple[int, str]:
        """Wait for the server to close the socket; its code and reason."""
        try:
            while True:
                await asyncio.wait_for(self.conn.recv(), timeout)
        except ConnectionClosed as e:
            assert e.rcvd is not None, "closed without a close frame"
            return e.rcvd.code, e.rcvd.reason


class SSE:
    """One GraphQL-over-SSE stream (distinct connections mode)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls, base: str, query: str, variables: dict[str, Any], headers: dict[str, str]
    ) -> AsyncIterator[SSE]:
        async with (
            httpx.AsyncClient(timeout=httpx.Timeout(WAIT, read=None)) as client,
            client.stream(
                "POST",
                base + "/graphql",
                json={"query": query, "variables": variables},
                headers={**headers, "accept": "text/event-stream"},
            ) as response,
        ):
            yield cls(response)

    async def event(self, timeout: float = WAIT) -> tuple[str, Any]:
        """The next event: ("next", payload) or ("complete", None)."""
        kind, data = "", ""
        async with asyncio.timeout(timeout):
            async for line in self._lines:
                if line.startswith(":"):
                    continue  # heartbeat
                if line.startswith("event:"):
                    kind = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    data += line.split(":", 1)[1].strip()
                elif line == "" and kind:
                    return kind, json.loads(data) if data else None
        return "end", None
