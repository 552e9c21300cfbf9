"""Subscriptions at the door: the same rules as queries on both streaming transports.

- **WebSocket** (`graphql-transport-ws`): the credential travels in `connection_init`'s payload
  (`{"Authorization": "Bearer <token>"}` or `{"X-API-Key": "jsh_…"}`), checked like the
  Authorization header of a request; a bad one closes the socket with 4403 and the reason.
  Each `subscribe` is admitted like a request (registered operations for partners, depth,
  aliases, tokens, cost, rate) and refused with an `error` message carrying the code. When
  the token expires the socket is closed with 4401 "token expired".
- **SSE** (GraphQL over Server-Sent Events, distinct connections mode: `Accept:
  text/event-stream`): the request passes the door (gateway/guard.py) like any other, then
  its operation is admitted here before strawberry streams it; the stream ends with an
  UNAUTHENTICATED error when the token expires (tasks/live.py).

Only subscriptions travel over these transports; queries and mutations stay on plain HTTP,
where the planned executor and the access log are. A subscription sent as a plain POST is a
400 BAD_REQUEST that says where to send it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncGenerator
from typing import Any, ClassVar

from graphql import (
    DocumentNode,
    GraphQLSyntaxError,
    OperationType,
    get_operation_ast,
    parse,
)
from strawberry.http import GraphQLRequestData
from strawberry.http.streaming import SSETransport
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.types import ExecutionResult

from domain.access import ClientKind, Principal
from gateway import errors, logs, operations
from gateway.auth import AuthError
from gateway.guard import Blocked, Guard
from gateway.ratelimit import client_key
from resolvers.context import RequestContext
from schemas.schema import schema
from store.feed import EventFeed
from tasks.credit_feedback import CreditFeedback
from tasks.delivery import DeliveryWorker, Policy
from tasks.webhooks import WebhookSender

NOT_A_SUBSCRIPTION = "only subscriptions stream here; send queries and mutations as an HTTP POST"
NOT_A_STREAM = (
    "a subscription needs a streaming transport: a WebSocket (graphql-transport-ws) or "
    "Server-Sent Events (Accept: text/event-stream)"
)
# The door's own authentication (its cache of verified tokens too), for connection_init.
_DOOR = Guard(app=None)  # type: ignore[arg-type]


def _is_subscription(document: DocumentNode, operation_name: str | None) -> bool:
    op = get_operation_ast(document, operation_name)
    return op is not None and op.operation == OperationType.SUBSCRIPTION


async def _admit(state: Any, who: Principal, payload: dict[str, Any]) -> operations.Admitted:
    """Admit a streamed operation as a request is admitted."""
    variables = payload.get("variables")
    extensions = payload.get("extensions")
    if not isinstance(variables, dict | None) or not isinstance(extensions, dict | None):
        raise operations.Refused("variables and extensions are objects", "BAD_REQUEST", 400)
    admitted = await operations.admit(
        who,
        payload.get("query"),
        extensions,
        variables,
        payload.get("operationName"),
        schema._schema,
        state.store.pool if state.store else None,
        state.auth.dev_mode,
        state.redis,
    )
    if not _is_subscription(admitted.document, payload.get("operationName")):
        raise operations.Refused(NOT_A_SUBSCRIPTION, "BAD_REQUEST", 400)
    return admitted


async def _rate(state: Any, who: Principal, ip: str) -> None:
    """A WebSocket's connection and each of its subscriptions count against the rate like
    requests (an SSE request was counted at the door)."""
    partner = who.subject if who.kind == ClientKind.PARTNER else None
    decision = await state.rate_limiter.hit(
        client_key(who.kind.value, who.subject, partner, ip),
        state.rates.get(who.kind.value, state.rates["public"]),
    )
    if not decision.allowed:
        raise operations.Refused("too many requests; retry later", "RATE_LIMITED", 429)


class HubTransportWS(BaseGraphQLTransportWSHandler[RequestContext, None]):
    """graphql-transport-ws with the hub's authentication, admission, expiry and error codes."""

    _expiry: asyncio.Task[None] | None = None
    _request_id: str = ""

    @property
    def _socket(self) -> Any:
        return self.context.request

    async def handle(self) -> None:
        self._request_id = uuid.uuid4().hex
        logs.request_id.set(self._request_id)
        await super().handle()

    async def shutdown(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        await super().shutdown()

    async def _refuse_connection(self, reason: str, code: int = 4403) -> None:
        self.connection_init_received = True
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        await self.websocket.close(code=code, reason=reason.encode()[:120].decode(errors="ignore"))

    async def handle_connection_init(self, message: Any) -> None:
        payload = message.get("payload") or {}
        if isinstance(payload, dict) and not self.connection_init_received:
            headers = {str(k).lower(): v for k, v in payload.items() if isinstance(v, str)}
            state, client = self._socket.app.state, self._socket.client
            ip = client.host if client else ""
            try:
                who = await _DOOR.identify(state, headers, ip)
            except Blocked:
                await self._refuse_connection(
                    "too many failed authentications from this address; retry later", code=4429
                )
                return
            except AuthError as e:
                await self._refuse_connection(e.reason)
                return
            if who.kind == ClientKind.PUBLIC:
                await self._refuse_connection(
                    'sign in: send {"Authorization": "Bearer <token>"} in the payload'
                )
                return
            try:  # a connection counts against the rate like a request
                await _rate(state, who, ip)
            except operations.Refused as e:
                await self._refuse_connection(str(e), code=4429)
                return
            self.context.principal = who
            until = who.expires_at(self._socket.app.state.auth.leeway)
            if until is not None:
                self._expiry = asyncio.create_task(self._expire(until - time.time()))
        await super().handle_connection_init(message)

    async def _expire(self, delay: float) -> None:
        await asyncio.sleep(max(0.0, delay))
        await self.websocket.close(code=4401, reason="token expired")

    async def handle_subscribe(self, message: Any) -> None:
        payload = message.get("payload")
        if (
            self.connection_acknowledged
            and message.get("id") not in self.operations
            and isinstance(payload, dict)
        ):
            state, who = self._socket.app.state, self.context.principal
            client = self._socket.client
            try:
                admitted = await _admit(state, who, payload)
                await _rate(state, who, client.host if client else "")
            except operations.Refused as e:
                await self.send_message(
                    {"id": message["id"], "type": "error", "payload": [e.error().formatted]}
                )
                return
            except GraphQLSyntaxError:
                pass  # answered by the stream as GRAPHQL_PARSE_FAILED
            else:
                payload["query"] = admitted.query
        await super().handle_subscribe(message)

    async def _send_result_stream(self, operation: Any, result_source: Any) -> None:
        """Every error leaves with a code, unexpected ones masked, as on HTTP."""

        async def shaped() -> AsyncGenerator[Any, None]:
            async for result in result_source:
                if getattr(result, "errors", None):
                    result.errors = [errors.shape(e, self._request_id) for e in result.errors]
                yield result

        await super()._send_result_stream(operation, shaped())


class PromptSSE(SSETransport):
    """A comment at once: the response starts (and the client knows it is streaming) before
    the first event, not at the first heartbeat 15 s later."""

    send_initial_heartbeat = True


class Streams:
    """Mixed into the GraphQL endpoint: SSE operations admitted, subscriptions refused on
    plain HTTP, and the WebSocket protocol handler above."""

    graphql_transport_ws_handler_class = HubTransportWS
    stream_transport_classes_by_protocol: ClassVar[dict[str, type[SSETransport]]] = {
        GRAPHQL_SSE_PROTOCOL: PromptSSE
    }

    async def execute_operation(  # type: ignore[no-untyped-def]
        self, request, request_adapter, request_data, context, root_value, sub_response
    ):
        if isinstance(request_data, GraphQLRequestData) and request_data.protocol == "sse":
            payload = {
                "query": request_data.query,
                "variables": request_data.variables,
                "extensions": request_data.extensions,
                "operationName": request_data.operation_name,
            }
            try:
                admitted = await _admit(request.app.state, context.principal, payload)
            except operations.Refused as e:
                sub_response.status_code = e.status
                return ExecutionResult(data=None, errors=[e.error()])
            except GraphQLSyntaxError:
                pass  # streamed back as GRAPHQL_PARSE_FAILED
            else:
                request_data.query = admitted.query
        return await super().execute_operation(  # type: ignore[misc]
            request, request_adapter, request_data, context, root_value, sub_response
        )

    async def execute_single(  # type: ignore[no-untyped-def]
        self, request, request_adapter, sub_response, context, root_value, request_data
    ):
        query = request_data.query or ""
        if "subscription" in query:
            with contextlib.suppress(GraphQLSyntaxError):
                if _is_subscription(parse(query), request_data.operation_name):
                    sub_response.status_code = 400
                    error = operations.Refused(NOT_A_STREAM, "BAD_REQUEST", 400).error()
                    return ExecutionResult(data=None, errors=[error])
        return await super().execute_single(  # type: ignore[misc]
            request, request_adapter, sub_response, context, root_value, request_data
        )


async def start(state: Any) -> None:
    """Start this process's event feed and delivery worker (the app's lifespan)."""
    store = state.store
    state.feed = EventFeed(state.settings.hub_dsn)
    state.webhooks = WebhookSender(lambda: store.pool)
    state.delivery = DeliveryWorker(
        lambda: store.pool,
        {"credit": CreditFeedback(state.registry, lambda: store.pool), "webhook": state.webhooks},
        Policy.from_env(),
    )
    state.feed.watch(state.delivery.wake)
    await state.feed.start()
    await state.delivery.start()


async def stop(state: Any) -> None:
    await state.delivery.stop()
    await state.webhooks.close()
    await state.feed.stop()
