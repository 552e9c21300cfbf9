"""Traces: one span per GraphQL request, one per department call beneath it."""

from __future__ import annotations

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from telemetry import tracing
from tests.conftest import Hub


async def test_a_span_per_department_call_under_the_request(hub: Hub, seeded) -> None:
    exporter = InMemorySpanExporter()
    assert tracing.configure(exporter)
    await hub.gql(
        "query Record($u: String!) { entity(uscc: $u) { name permits { id } } }",
        {"u": seeded.sample_uscc},
    )
    spans = exporter.get_finished_spans()
    (request,) = [
        s
        for s in spans
        if s.name == "graphql.request" and s.attributes["graphql.operation.name"] == "Record"
    ]
    calls = [
        s
        for s in spans
        if s.name == "department.query" and s.context.trace_id == request.context.trace_id
    ]
    assert {s.attributes["department"] for s in calls} == {
        "market",
        "ecology",
        "emergency",
        "culture",
        "fire",
        "health",
    }
    assert all(s.parent is not None for s in calls)
