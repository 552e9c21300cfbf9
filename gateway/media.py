"""GraphQL over HTTP: the response media type the client accepts, the status codes the
specification prescribes for it, and an error body for every request that is not one.

With `Accept: application/graphql-response+json` a request error (nothing executed: parse,
validation or a refused operation) answers 4xx, and any response with `data` answers 200;
with `application/json` (older clients) a well-formed request always answers 200. A request
that is not a well-formed GraphQL-over-HTTP request (not JSON, a query that is not a string,
an operationName that is not one, another content type or method) answers 400, 415 or 405
with a GraphQL error body, never strawberry's bare text.
"""

from __future__ import annotations

import logging
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type

from gateway import logs
from gateway.errors import INTERNAL

log = logging.getLogger(__name__)
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def error_response(status: int, message: str, code: str | None = None) -> JSONResponse:
    """A GraphQL-over-HTTP error body (GraphQLMediaType gives it the accepted media type)."""
    body = {"errors": [{"message": message, "extensions": {"code": code or CODES[status]}}]}
    headers = {"allow": "GET, POST"} if status == 405 else None
    return JSONResponse(body, status_code=status, headers=headers)


class GraphQLOverHTTP(GraphQL):
    """Strawberry's ASGI view, holding malformed requests to the specification."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive=receive))
        except HTTPException as e:
            response = error_response(e.status_code, e.reason, CODES.get(e.status_code))
        except ClientDisconnect:
            raise  # nobody to answer; logged as a disconnect where the request is logged
        except Exception:
            rid = logs.request_id.get()
            log.exception("unexpected error before execution")
            response = error_response(
                500, f"Internal error; quote request id {rid} when reporting it.", INTERNAL
            )
        await response(scope, receive, send)

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> Any:
        if request.method == "POST":
            content_type, _ = parse_content_type(request.content_type or "")
            if content_type != JSON:
                raise HTTPException(415, f"send the GraphQL request as {JSON}")
        data = await super().parse_http_body(request)
        if isinstance(data, GraphQLRequestData) and not isinstance(data.operation_name, str | None):
            raise HTTPException(400, "operationName must be a string or null")
        return data

    def parse_json(self, data: str | bytes) -> Any:
        value = super().parse_json(data)  # a JSONDecodeError is already a 400
        if not isinstance(value, dict | list):
            raise HTTPException(400, "expected a JSON object")
        return value


def preferred(accept: str) -> str:
    """The media type to answer with, by the Accept header's order and q-values."""
    best, best_q = JSON, -1.0
    for position, part in enumerate(accept.split(",")):
        kind, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if (
            kind in (GRAPHQL_RESPONSE, JSON)
            and q > 0
            and (q > best_q or (q == best_q and kind == GRAPHQL_RESPONSE and position == 0))
        ):
            best, best_q = kind, q
    return best


class GraphQLMediaType:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/graphql":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope["headers"]}
        media = preferred(headers.get(b"accept", b"").decode("latin-1"))
        start: Message | None = None

        async def send_typed(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if start is None:
                await send(message)
                return
            raw = dict(start.get("headers", []))
            is_json = raw.get(b"content-type", b"").startswith(JSON.encode())
            if is_json and not message.get("more_body"):
                body = message.get("body", b"")
                status = start["status"]
                # No "data" means nothing executed: a request error, 400 unless the door
                # already chose 401/403/413/429.
                if media == GRAPHQL_RESPONSE and status == 200 and b'"data"' not in body[:12]:
                    status = 400
                headers_out = [
                    (k, v) for k, v in start.get("headers", []) if k.lower() != b"content-type"
                ]
                headers_out.append((b"content-type", f"{media}; charset=utf-8".encode()))
                start = {**start, "status": status, "headers": headers_out}
            await send(start)
            start = None
            await send(message)

        await self.app(scope, receive, send_typed)
