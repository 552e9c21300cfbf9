"""Issue 11, item 7: slow or half-open connections are closed — a deadline for the request's
head and one for its body, a cap on open connections per client address — and a body the
client abandons is logged as a client disconnect, not as a server error.

Raw sockets against a real uvicorn process, with short deadlines so the test stays quick.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from tests.test_crash import Server

HEAD_SECONDS = 1.0
BODY_SECONDS = 2.0
PER_CLIENT = 4
SLACK = 2.5  # scheduling on a shared machine; the deadlines themselves are what is tested


@pytest.fixture(scope="module")
async def server(prefix, seeded, tmp_path_factory) -> AsyncIterator[Server]:
    log = tmp_path_factory.mktemp("connections") / "hub.log"
    running = Server(
        prefix,
        log=log,
        HUB_LOG_LEVEL="INFO",
        HUB_HEADER_TIMEOUT=str(HEAD_SECONDS),
        HUB_BODY_TIMEOUT=str(BODY_SECONDS),
        HUB_MAX_CONNECTIONS_PER_CLIENT=str(PER_CLIENT),
        HUB_RATE_PREFIX=f"{prefix}{uuid.uuid4().hex}:",
    )
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def _open(server: Server) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", server.port)


async def _until_closed(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, trickle: bytes, limit: float
) -> tuple[float, bytes]:
    """Send `trickle` a byte every 0.25 s and read; answer when the server closed the
    connection (seconds, what it sent), or (inf, …) if it was still open after `limit`."""
    start = time.perf_counter()
    received = b""
    sent = 0
    while time.perf_counter() - start < limit:
        if sent < len(trickle):
            try:
                writer.write(trickle[sent : sent + 1])
                await writer.drain()
            except ConnectionError:
                return time.perf_counter() - start, received
            sent += 1
        try:
            chunk = await asyncio.wait_for(reader.read(65536), 0.25)
        except TimeoutError:
            continue
        except ConnectionError:
            return time.perf_counter() - start, received
        if not chunk:
            return time.perf_counter() - start, received
        received += chunk
    return float("inf"), received


def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()


async def test_slow_headers_are_cut_off_within_the_bound(server: Server) -> None:
    reader, writer = await _open(server)
    head = b"POST /graphql HTTP/1.1\r\nhost: hub\r\ncontent-type: application/json\r\nx-slow: "
    try:
        elapsed, answer = await _until_closed(
            reader, writer, head + b"a" * 200, HEAD_SECONDS + SLACK + 2
        )
    finally:
        _close(writer)
    print(f"slow head closed after {elapsed:.2f} s (deadline {HEAD_SECONDS} s)")
    assert elapsed < HEAD_SECONDS + SLACK, elapsed
    assert not answer or answer.startswith(b"HTTP/1.1 408"), answer


async def test_idle_connection_is_closed_within_the_bound(server: Server) -> None:
    reader, writer = await _open(server)
    try:
        elapsed, _ = await _until_closed(reader, writer, b"", HEAD_SECONDS + SLACK + 2)
    finally:
        _close(writer)
    assert elapsed < HEAD_SECONDS + SLACK, elapsed


async def test_slow_body_is_cut_off_within_the_bound(server: Server) -> None:
    reader, writer = await _open(server)
    head = (
        b"POST /graphql HTTP/1.1\r\nhost: hub\r\ncontent-type: application/json\r\n"
        b"content-length: 400\r\n\r\n"
    )
    writer.write(head + b'{"query": "')
    await writer.drain()
    try:
        elapsed, answer = await _until_closed(reader, writer, b"a" * 400, BODY_SECONDS + SLACK + 2)
    finally:
        _close(writer)
    print(f"slow body closed after {elapsed:.2f} s (deadline {BODY_SECONDS} s)")
    assert elapsed < BODY_SECONDS + SLACK, elapsed
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b'"REQUEST_TIMEOUT"' in answer


async def test_oversized_head_is_refused(server: Server) -> None:
    reader, writer = await _open(server)
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nhost: hub\r\nx-big: " + b"a" * 70_000)
        await writer.drain()
        elapsed, answer = await _until_closed(reader, writer, b"", 5.0)
    finally:
        _close(writer)
    assert elapsed < 5.0 and answer.startswith(b"HTTP/1.1 431"), answer[:200]


async def test_open_connections_per_client_are_capped(server: Server) -> None:
    held = [await _open(server) for _ in range(PER_CLIENT)]
    try:
        for _, writer in held:
            writer.write(b"GET /healthz HTTP/1.1\r\n")  # a request begun, not finished
            await writer.drain()
        reader, writer = await _open(server)
        try:
            elapsed, answer = await _until_closed(reader, writer, b"", 2.0)
        finally:
            _close(writer)
        assert elapsed < 2.0 and answer.startswith(b"HTTP/1.1 429"), (elapsed, answer)
        body = orjson.loads(answer.split(b"\r\n\r\n", 1)[1])
        assert body["errors"][0]["extensions"]["code"] == "TOO_MANY_CONNECTIONS"
    finally:
        for _, writer in held:
            _close(writer)
    await asyncio.sleep(0.2)
    async with httpx.AsyncClient() as c:
        assert (await c.get(f"{server.url}/healthz")).status_code == 200


async def test_aborted_request_body_is_logged_as_a_client_disconnect(server: Server) -> None:
    assert server.log is not None
    start = server.log.stat().st_size
    _, writer = await _open(server)
    writer.write(
        b"POST /graphql HTTP/1.1\r\nhost: hub\r\ncontent-type: application/json\r\n"
        b"content-length: 1000\r\n\r\n" + b'{"query": "' + b"a" * 100
    )
    await writer.drain()
    await asyncio.sleep(0.3)  # the request is in the application, waiting for its body
    writer.transport.abort()
    lines: list[dict] = []
    for _ in range(40):
        await asyncio.sleep(0.1)
        with server.log.open("rb") as f:
            f.seek(start)
            text = f.read()
        lines = [orjson.loads(line) for line in text.splitlines() if line.startswith(b"{")]
        if any("client disconnected" in entry["msg"] for entry in lines):
            break
    assert b"Traceback" not in text, text.decode(errors="replace")
    assert not [entry for entry in lines if entry["level"] in ("error", "critical")], lines
    (disconnect,) = [entry for entry in lines if "client disconnected" in entry["msg"]]
    assert disconnect["level"] in ("info", "warning")
