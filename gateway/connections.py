"""Connections, before a request reaches the app: deadlines for a request's head and body,
a cap on the head's size, and a cap on open connections per client address.

uvicorn closes idle keep-alive connections (`timeout_keep_alive`), but once a byte of a
request has arrived nothing bounds the rest: a client sending a header byte a second holds a
connection forever (slowloris), and a body can trickle as slowly. `hub serve` runs uvicorn
with this protocol — its httptools protocol with those limits added:

- the head (request line and headers) must arrive within HUB_HEADER_TIMEOUT seconds (10) of
  the connection opening or of the previous response, else 408 and the connection closes;
- the body within HUB_BODY_TIMEOUT seconds (30) of the head, else 408 and it closes (the app
  sees the client disconnect);
- a head over HUB_MAX_HEADER_BYTES (64 KiB) is answered 431 and the connection closes;
- at most HUB_MAX_CONNECTIONS_PER_CLIENT (64) connections per client address are open at once
  in a worker process; one more is answered 429 at once and closed. Trusted proxies
  (HUB_TRUSTED_PROXIES) are not capped: they carry many clients.

Every refusal is a GraphQL error body with a code, like the app's own.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.forwarded import TrustedProxies


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    header_seconds: float = 10.0
    body_seconds: float = 30.0
    max_header_bytes: int = 64 * 1024
    per_client: int = 64

    @classmethod
    def from_env(cls) -> ConnectionLimits:
        """The limits from HUB_HEADER_TIMEOUT, HUB_BODY_TIMEOUT, HUB_MAX_HEADER_BYTES and
        HUB_MAX_CONNECTIONS_PER_CLIENT; a bad value raises at start, naming it."""
        values: dict[str, Any] = {}
        for var, field, kind in (
            ("HUB_HEADER_TIMEOUT", "header_seconds", float),
            ("HUB_BODY_TIMEOUT", "body_seconds", float),
            ("HUB_MAX_HEADER_BYTES", "max_header_bytes", int),
            ("HUB_MAX_CONNECTIONS_PER_CLIENT", "per_client", int),
        ):
            if text := os.environ.get(var):
                try:
                    values[field] = kind(text)
                except ValueError:
                    raise ValueError(f"{var} must be a number, not {text!r}") from None
                if not values[field] > 0:
                    raise ValueError(f"{var} must be positive, not {text!r}")
        return cls(**values)


def refusal(status: int, code: str, message: str, headers: tuple[str, ...] = ()) -> bytes:
    """A complete HTTP/1.1 response that closes the connection."""
    body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    head = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        "connection: close",
        *headers,
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class GuardedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits of the module's docstring."""

    limits: ClassVar[ConnectionLimits | None] = None
    proxies: ClassVar[TrustedProxies] = TrustedProxies()
    open_by_client: ClassVar[Counter[str]] = Counter()  # this worker process's connections

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if GuardedHttpTools.limits is None:  # once per worker process, from its environment
            GuardedHttpTools.limits = ConnectionLimits.from_env()
            GuardedHttpTools.proxies = TrustedProxies.from_env()
        self._limits = GuardedHttpTools.limits
        self._deadline: Any = None  # asyncio.TimerHandle
        self._counted: str | None = None
        self._in_head = True
        self._head_bytes = 0

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        host = self.client[0] if self.client else ""
        if host not in self.proxies:
            self._counted = host
            self.open_by_client[host] += 1
            if self.open_by_client[host] > self._limits.per_client:
                self._refuse(
                    429,
                    "TOO_MANY_CONNECTIONS",
                    f"more than {self._limits.per_client} open connections from this address",
                    ("retry-after: 1",),
                )
                return
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._forget()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        self._forget()  # the WebSocket protocol takes the connection over
        super().handle_websocket_upgrade()

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # Still in the head after this much: the head alone is over the cap.
        if (
            self._in_head
            and self._head_bytes > self._limits.max_header_bytes
            and not self.transport.is_closing()
        ):
            self._refuse(
                431,
                "HEADERS_TOO_LARGE",
                f"request line and headers over {self._limits.max_header_bytes} bytes",
            )

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._arm(self._limits.body_seconds, "request body")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()  # the request is whole: answering it is the app's business

    def on_response_complete(self) -> None:
        pipelined = bool(self.pipeline)  # a request already read starts now
        super().on_response_complete()
        if not pipelined and not self.transport.is_closing():
            self._await_head()  # the next request's head, on a kept-alive connection

    def _await_head(self) -> None:
        self._in_head = True
        self._head_bytes = 0
        self._arm(self._limits.header_seconds, "request head")

    def _arm(self, seconds: float, what: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._too_slow, seconds, what)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self, seconds: float, what: str) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and self.cycle.response_started:
            self.transport.close()  # an answer is under way: only closing is left
            return
        self._refuse(408, "REQUEST_TIMEOUT", f"the {what} did not arrive within {seconds:g} s")

    def _refuse(self, status: int, code: str, message: str, headers: tuple[str, ...] = ()) -> None:
        self.logger.info(
            "connection refused", extra={"status": status, "code": code, "client": self.client}
        )
        self.transport.write(refusal(status, code, message, headers))
        self.transport.close()

    def _forget(self) -> None:
        self._disarm()
        if self._counted is not None:
            self.open_by_client[self._counted] -= 1
            if self.open_by_client[self._counted] <= 0:
                del self.open_by_client[self._counted]
            self._counted = None
