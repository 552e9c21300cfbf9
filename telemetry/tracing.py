"""OpenTelemetry traces: a span per GraphQL request and per department call.

Nothing is exported unless configured: OTEL_EXPORTER_OTLP_ENDPOINT (or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) sends spans over OTLP/HTTP to a collector;
HUB_TRACE_CONSOLE=1 prints them. Without either, spans are no-ops and cost next to nothing.
"""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)

tracer = trace.get_tracer("joint-supervision-hub")
_configured = False


def configure(exporter: SpanExporter | None = None) -> bool:
    """Install a tracer provider once, if an exporter is given or configured; True if so."""
    global _configured
    if _configured:
        return True
    processor = None
    if exporter is not None:
        processor = SimpleSpanProcessor(exporter)
    elif os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    ):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        processor = BatchSpanProcessor(OTLPSpanExporter())
    elif os.environ.get("HUB_TRACE_CONSOLE") == "1":
        processor = BatchSpanProcessor(ConsoleSpanExporter())
    if processor is None:
        return False
    provider = TracerProvider(
        resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "jsh")})
    )
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    _configured = True
    return True
