"""GraphQL over HTTP: the response media type the client accepts, and the status codes the
specification prescribes for it.

With `Accept: application/graphql-response+json` a request error (nothing executed: parse,
validation or a refused operation) answers 4xx, and any response with `data` answers 200;
with `application/json` (older clients) a well-formed request always answers 200.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


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
