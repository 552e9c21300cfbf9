"""Prometheus metrics of the hub, served at /metrics.

With several worker processes, set PROMETHEUS_MULTIPROC_DIR to an empty folder so that
/metrics adds up every worker (prometheus_client's multiprocess mode); without it each
worker reports its own.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

# Label values are bounded: anyone can name an operation, and each new name would be a new
# series of every metric carrying it (500 names once grew /metrics from 18 KB to 1 MB).
ANONYMOUS = "anonymous"  # an operation without a name
OTHER = "other"  # a named operation that is not registered


def operation_label(registered: str | None, name: str | None) -> str:
    """The operation label: a registered operation's name (registrations are few and made by
    operators), else one of two fixed values."""
    return registered or (OTHER if name else ANONYMOUS)


REQUESTS = Counter("jsh_requests_total", "GraphQL requests", ["operation", "status"])
REQUEST_SECONDS = Histogram(
    "jsh_request_seconds", "GraphQL request latency", ["operation"], buckets=LATENCY_BUCKETS
)
GRAPHQL_ERRORS = Counter("jsh_graphql_errors_total", "Errors in responses", ["code"])
DEPARTMENT_SECONDS = Histogram(
    "jsh_department_seconds",
    "Latency of one department call",
    ["department"],
    buckets=LATENCY_BUCKETS,
)
DEPARTMENT_ERRORS = Counter(
    "jsh_department_errors_total", "Failed department calls", ["department", "reason"]
)
BREAKER_STATE = Gauge(
    "jsh_breaker_state",
    "Circuit breaker per department: 0 closed, 1 half-open, 2 open",
    ["department"],
    multiprocess_mode="max",
)
REDIS_BREAKER_STATE = Gauge(
    "jsh_redis_breaker_state",
    "Circuit breaker of Redis: 0 closed, 1 half-open, 2 open",
    ["server"],
    multiprocess_mode="max",
)
REDIS_ERRORS = Counter("jsh_redis_errors_total", "Failed Redis calls", ["server", "reason"])
CACHE = Counter("jsh_cache_total", "Cache lookups", ["result"])  # hit | miss
# planned | handed_back (strawberry answered after all) | no_plan
EXECUTIONS = Counter("jsh_executions_total", "How operations were executed", ["path"])
# Live updates and deliveries from the event outbox.
SUBSCRIBERS = Gauge(
    "jsh_subscribers", "Open subscriptions in this process", multiprocess_mode="livesum"
)
EVENT_LAG = Histogram(
    "jsh_event_lag_seconds",
    "From an event's write to its hand-out in a process",
    buckets=LATENCY_BUCKETS,
)
DELIVERIES = Counter(
    "jsh_deliveries_total", "Outbox delivery attempts", ["consumer", "outcome"]
)  # consumer: credit | webhook; outcome: delivered | retry | dead


def exposition() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
