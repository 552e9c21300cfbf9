"""The door of /graphql: body size, who is calling, and how often — before any GraphQL work.

Runs as ASGI middleware so that a refused request costs no parsing and no SQL: 413 for an
oversized body, 401 for a bad credential, 429 with Retry-After past the client's rate — or
past the failed-authentication limit of the client's address, checked before a credential
not seen before is verified (no signature checked, no API key looked up in the store).
"""

from __future__ import annotations

import re
import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.errors import describe
from domain.access import ClientKind, Principal
from gateway import auth
from gateway.limits import limits_for
from gateway.ratelimit import Decision, client_key
from store import access

GUARDED = ("/graphql",)


async def _reply(
    send: Send,
    status: int,
    code: str,
    message: str,
    headers: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
    **extensions: Any,
) -> None:
    body = orjson.dumps(
        {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


_MAX_VERIFIED = 10_000
# What access.create_key hands out (jsh_<hex id>_<url-safe secret>); anything else is refused
# without asking the store.
_API_KEY = re.compile(rf"{access.KEY_PREFIX}_[0-9a-f]{{1,64}}_[A-Za-z0-9_-]{{1,128}}")


class TooLarge(Exception):
    pass


class Blocked(Exception):
    """Too many failed authentications from this address: the credential is not checked."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision


async def _too_many(send: Send, decision: Decision, message: str, **extensions: Any) -> None:
    await _reply(
        send,
        429,
        "RATE_LIMITED",
        message,
        [(b"retry-after", decision.retry_after_header.encode())],
        **extensions,
    )


class Guard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Tokens already verified, until they expire: a client sends the same token with
        # every request, and checking its signature each time cost more than a page lookup.
        self._verified: dict[str, tuple[Principal, float]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in GUARDED:
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        ip = (scope.get("client") or ("", 0))[0]
        try:
            principal = await self.identify(state, headers, ip)
        except Blocked as e:
            await _too_many(
                send,
                e.decision,
                "too many failed authentications from this address; retry later",
                reason="AUTH_FAILURES",
            )
            return
        except auth.AuthError as e:
            await _reply(
                send, 401, e.code, e.reason, [(b"www-authenticate", b'Bearer realm="jsh"')]
            )
            return
        limits = limits_for(principal.kind.value)
        length = headers.get("content-length", "0").strip() or "0"
        if not length.isdigit() or not length.isascii():
            await _reply(send, 400, "BAD_REQUEST", "content-length is not a number of bytes")
            return
        declared = int(length)
        if declared > limits.max_body_bytes:
            await _reply(
                send, 413, "BODY_TOO_LARGE", f"request body over {limits.max_body_bytes} bytes"
            )
            return
        decision = await state.rate_limiter.hit(
            client_key(
                principal.kind.value,
                principal.subject,
                principal.subject if principal.kind == ClientKind.PARTNER else None,
                ip,
            ),
            state.rates.get(principal.kind.value, state.rates["public"]),
        )
        if not decision.allowed:
            await _too_many(send, decision, "too many requests; retry later")
            return
        scope.setdefault("state", {})["principal"] = principal
        try:
            await self.app(scope, _capped(receive, limits.max_body_bytes), send)
        except TooLarge as e:  # the body is read before any response starts
            await _reply(send, 413, "BODY_TOO_LARGE", str(e))

    def _kept(self, token: str) -> Principal | None:
        known = self._verified.get(token)
        return known[0] if known is not None and time.time() < known[1] else None

    def _verify(self, cfg: auth.AuthConfig, token: str) -> Principal:
        if (known := self._kept(token)) is not None:
            return known
        principal = auth.verify_token(cfg, token)  # raises AuthError: nothing is kept
        if len(self._verified) >= _MAX_VERIFIED:
            self._verified.pop(next(iter(self._verified)))  # the oldest
        self._verified[token] = (principal, float(principal.claims["exp"]) + cfg.leeway)
        return principal

    async def _may_try(self, state: Any, ip: str) -> None:
        """Raise Blocked if this address failed to authenticate too often lately."""
        decision = await state.rate_limiter.hit(
            _failures_key(ip), state.rates["auth_failures"], record=False
        )
        if not decision.allowed:
            raise Blocked(decision)

    async def identify(self, state: Any, headers: dict[str, str], ip: str) -> Principal:
        """Who presents these credentials (HTTP requests and WebSocket connections alike):
        raises Blocked for an address past its failed-authentication limit, AuthError for a
        bad credential, counting the caller's failures against its address."""
        try:
            return await self._authenticate(state, headers, ip)
        except auth.AuthError as e:
            if e.caller_fault:
                await state.rate_limiter.hit(_failures_key(ip), state.rates["auth_failures"])
            raise

    async def _authenticate(self, state: Any, headers: dict[str, str], ip: str) -> Principal:
        if "authorization" in headers:
            token = auth.bearer(headers["authorization"])
            if self._kept(token) is None:
                await self._may_try(state, ip)
            return self._verify(state.auth, token)
        presented = headers.get("x-api-key")
        if presented:
            await self._may_try(state, ip)
            if not _API_KEY.fullmatch(presented):
                raise auth.AuthError("malformed API key (expected jsh_<id>_<secret>)")
            try:
                key = await access.check_key(state.store.pool, presented)
            except Exception as e:  # the store is down: no partner can be checked
                raise auth.AuthError(
                    f"API keys cannot be checked now ({describe(e)})", caller_fault=False
                ) from e
            if key is None:
                raise auth.AuthError("unknown API key")
            if key.revoked_at is not None:
                raise auth.AuthError("API key revoked")
            return Principal(ClientKind.PARTNER, key.id, scopes=key.scopes, name=key.owner)
        return auth.public(ip)


def _failures_key(ip: str) -> str:
    return client_key("auth_failures", None, None, ip)


def _capped(receive: Receive, limit: int) -> Receive:
    """A chunked body is counted as it arrives; past the limit the request is cut off."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise TooLarge(f"request body over {limit} bytes")
        return message

    return wrapped
