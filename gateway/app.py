"""The Starlette application: GraphQL (with GraphiQL in a browser), /healthz and /readyz."""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import re
import signal
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from cross_web import HTTPException
from graphql import GraphQLSyntaxError
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from adapters import redis_client
from adapters import settings as settings_mod
from adapters.cache import ChangeListener, RowCache
from adapters.errors import describe
from adapters.registry import Registry
from adapters.settings import Settings
from domain.access import PUBLIC
from embedded._process import die_with_parent
from execution import executor, planner
from gateway import errors, live, logs, operations, ratelimit
from gateway.auth import AuthConfig
from gateway.forwarded import ForwardedFor
from gateway.guard import Guard
from gateway.media import GraphQLMediaType, GraphQLOverHTTP
from resolvers.context import RequestContext
from resolvers.departments import all_health
from schemas.schema import schema
from store import access
from store.hub import HubStore
from telemetry import metrics, tracing

log = logging.getLogger("gateway")
WEB = Path(__file__).resolve().parent.parent / "web"


class HubGraphQL(live.Streams, GraphQLOverHTTP):
    """Strawberry's ASGI endpoint with a fresh per-request context (principal, loaders,
    partial errors); each operation is admitted (persisted, public, limits) before it runs,
    and reads of entity records are written to the access log after."""

    async def get_context(self, request: Any, response: Any = None) -> RequestContext:
        state = request.app.state
        return RequestContext(
            registry=state.registry,
            settings=state.settings,
            request_id=logs.request_id.get(),
            request=request,
            store=state.store,
            principal=request.scope.get("state", {}).get("principal") or PUBLIC,
            cache=state.cache,
        )

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: RequestContext,
        root_value: Any,
        request_data: Any,
    ) -> ExecutionResult:
        state = request.app.state
        start = time.perf_counter()
        name = request_data.operation_name
        try:
            admitted = await operations.admit(
                context.principal,
                request_data.query,
                request_data.extensions,
                request_data.variables,
                name,
                schema._schema,
                state.store.pool if state.store else None,
                state.auth.dev_mode,
                state.redis,
            )
        except operations.Refused as e:
            sub_response.status_code = e.status
            result = ExecutionResult(data=None, errors=[e.error()])
            _count(metrics.operation_label(None, name), result, start)
            return result
        except GraphQLSyntaxError:
            admitted = None  # the executor answers it with GRAPHQL_PARSE_FAILED
        if admitted is not None:
            request_data.query = admitted.query
            if request_adapter.method == "GET" and operations.is_mutation(admitted.document, name):
                raise HTTPException(405, "mutations are sent with POST")
            name = name or operations.operation_name(admitted.document)
        with tracing.tracer.start_as_current_span(
            "graphql.request",
            attributes={
                "graphql.operation.name": (name or metrics.ANONYMOUS)[:64],
                "request_id": context.request_id,
                "client.kind": context.principal.kind.value,
            },
        ):
            result = None
            plan = (
                planner.plan_for(admitted.query, admitted.document, request_data.operation_name)
                if admitted is not None and state.settings.planned
                else None
            )
            if plan is not None:
                result = await executor.execute(plan, context, request_data.variables)
            metrics.EXECUTIONS.labels(
                "no_plan" if plan is None else "planned" if result else "handed_back"
            ).inc()
            if result is None:
                result = await super().execute_single(
                    request, request_adapter, sub_response, context, root_value, request_data
                )
        if result.errors:
            result.errors = [errors.shape(e, context.request_id) for e in result.errors]
        _count(metrics.operation_label(admitted and admitted.registered, name), result, start)
        if context.reads:
            await _log_access(state.access_log, context, request_data.operation_name)
        return result

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)  # errors shaped already
        if (
            result.data is None
            and result.errors
            and all(errors.is_request_error(e) for e in result.errors)
        ):
            # Nothing executed: a request error carries no "data" (GraphQL over HTTP).
            response.pop("data", None)
        return response


def _count(operation: str, result: ExecutionResult, start: float) -> None:
    """Metrics of one request; every error carries its code by now (errors.shape)."""
    metrics.REQUEST_SECONDS.labels(operation).observe(time.perf_counter() - start)
    metrics.REQUESTS.labels(operation, "error" if result.errors else "ok").inc()
    for e in result.errors or ():
        metrics.GRAPHQL_ERRORS.labels((e.extensions or {}).get("code", errors.INTERNAL)).inc()


async def _log_access(
    writer: access.AccessLogWriter, ctx: RequestContext, operation: str | None
) -> None:
    """Who read which entities' records, from which departments (one row per request)."""
    who = ctx.principal
    try:
        await writer.write(
            {
                "request_id": ctx.request_id,
                "client_kind": who.kind.value,
                "subject": who.subject,
                "department": who.department,
                "operation": operation,
                "entities": sorted(ctx.reads),
                "departments": sorted({d for ds in ctx.reads.values() for d in ds}),
            },
        )
    except Exception as e:  # the answer is already computed; the log line says what was lost
        log.error(
            "access log not written", extra={"reason": type(e).__name__, "entities": len(ctx.reads)}
        )


# A caller's request id is kept only if it is plainly an id: it goes into every log line
# and back out in a header.
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:=+/@-]{1,64}")
CLIENT_CLOSED = 499  # the client went away before it was answered (nginx's convention)


class RequestIdMiddleware:
    """Tag each request with an id (the caller's X-Request-ID if it is a plain one, else a
    new one) and log it; a client that goes away mid-request is logged as such."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(b"x-request-id", b"")
        rid = sent.decode() if _REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
        token = logs.request_id.set(rid)
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            status = CLIENT_CLOSED
            log.info("client disconnected before sending the whole request body")
        finally:
            log.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "ms": round((time.perf_counter() - start) * 1000, 2),
                },
            )
            logs.request_id.reset(token)


async def prometheus(request: Request) -> Response:
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "alive"})


async def readyz(request: Request) -> Response:
    """Each department's status; 503 only when the entity register itself is unreachable."""
    registry: Registry = request.app.state.registry
    health = await all_health(list(registry))
    departments = {
        code: {
            "status": h.status,
            "latencyMs": h.latency_ms,
            "reason": h.reason,
            "breaker": h.breaker,
        }
        for code, h in health.items()
    }
    try:
        await request.app.state.redis.probe()
        cache = "UP"
    except Exception as e:  # the cache is optional for reads
        cache = f"DOWN: {describe(e)}"
    register_up = health[registry.register().code].status == "UP"
    degraded = any(h.status != "UP" for h in health.values()) or cache != "UP"
    body = {
        "status": "unavailable" if not register_up else "degraded" if degraded else "ready",
        "departments": departments,
        "redis": cache,
    }
    return JSONResponse(body, status_code=200 if register_up else 503)


def _tune_gc() -> None:
    """Answers allocate many short-lived dicts (a row, a record, an output object each):
    with the default threshold the cyclic collector ran every few hundred of them. What
    exists after start-up (schema, plans, pools) is moved out of its sight, and the young
    generation collected less often (HUB_GC_THRESHOLD, default 20000)."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(int(os.environ.get("HUB_GC_THRESHOLD", "20000")), older, oldest)


def _in_worker() -> None:
    """In a worker process uvicorn started (`--workers N`): die with the process that
    started it, even if that one is killed outright (the worker would keep the port), and
    log as it does (spawned, a worker inherits no logging set-up)."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        die_with_parent(signal.SIGTERM, parent.pid)
        logs.configure(os.environ.get("HUB_LOG_LEVEL", "INFO"))


def create_app(
    settings: Settings | None = None, auth_config: AuthConfig | None = None
) -> Starlette:
    _in_worker()
    settings = settings or settings_mod.from_env()
    auth_config = auth_config or AuthConfig.from_env()
    # The working-day data file and the publicity rules are read now: bad ones stop the start.
    _ = settings.calendar, settings_mod.publicity_rules()
    tracing.configure()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        registry = Registry.from_settings(settings)
        await registry.open()
        store = HubStore(settings.hub_dsn)
        try:
            await store.open(settings.database_url, f"{settings.db_prefix}hub")
        except (OSError, asyncpg.PostgresError) as e:
            # Department reads do not need the hub store; commands report it unavailable.
            log.error("hub store unavailable at start", extra={"reason": type(e).__name__})
            await store.open()
        app.state.settings = settings
        app.state.registry = registry
        app.state.store = store
        app.state.access_log = access.AccessLogWriter(lambda: store.pool)
        app.state.auth = auth_config
        app.state.rates = ratelimit.rates_from_env()
        # Two pools (the limiter is never starved by cache traffic), one breaker: a hung
        # Redis is skipped by both after a few tens of milliseconds (adapters/redis_client).
        app.state.redis_breaker = redis_client.breaker()
        timeout = redis_client.timeout_from_env()
        app.state.limiter_redis = redis_client.connect(
            settings.redis_url, app.state.redis_breaker, timeout
        )
        app.state.rate_limiter = ratelimit.RateLimiter(
            app.state.limiter_redis,
            prefix=os.environ.get("HUB_RATE_PREFIX", f"{settings.db_prefix}rl:"),
            fail_open=ratelimit.fail_open_from_env(),
            timeout=None,  # the client bounds every command
        )
        app.state.redis = redis_client.connect(settings.redis_url, app.state.redis_breaker, timeout)
        app.state.cache = None
        listener = None
        if settings.cache:
            app.state.cache = RowCache(
                app.state.redis, f"{settings.db_prefix}c:", settings.cache_ttl
            )
            listener = ChangeListener(list(registry), app.state.cache)
            await listener.start()
        app.state.listener = listener
        await live.start(app.state)  # event feed and delivery worker
        log.info("started", extra={"departments": registry.codes()})
        _tune_gc()
        try:
            yield
        finally:
            await live.stop(app.state)
            await registry.close()
            await store.close()
            await app.state.limiter_redis.aclose()
            if listener is not None:
                await listener.stop()
            await app.state.redis.aclose()

    graphql = HubGraphQL(
        schema,
        graphql_ide="graphiql",
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL),
    )
    app = Starlette(
        routes=[
            Route("/graphql", graphql),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", prometheus),
            # The planning page: static files that use nothing but the public GraphQL API.
            Mount("/plan", StaticFiles(directory=WEB, html=True), name="plan"),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(Guard)
    app.add_middleware(GraphQLMediaType)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(ForwardedFor)  # first: everything after sees the client's address
    return app
