"""OpenTelemetry traces, off unless the standard OTEL_* variables ask for them: one span
per HTTP request (the ASGI instrumentation, named by route), one per GraphQL operation
(gateway.operation_span), and one per SQL statement (the SQLAlchemy instrumentation on the
app's engines; db.compiled_reads' replayed statements dispatch the same events). Never
one per field: a span per resolver would cost a coroutine per field.

Off (no OTEL_TRACES_EXPORTER, no OTEL_EXPORTER_OTLP_ENDPOINT), nothing is installed:
no middleware, no listener, no extension, so tracing costs nothing."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from gateway.environment import SettingsError

if TYPE_CHECKING:  # the SDK and the instrumentations load only when tracing is on
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from sqlalchemy.ext.asyncio import AsyncEngine

SERVICE = "paygraph"
EXPORTERS = ("otlp", "console", "none")
PROTOCOL = "http/protobuf"
# The ASGI instrumentation's default also opens a span for every message received and
# sent; the request's own span is enough.
EXCLUDED_SPANS: list[Any] = ["receive", "send"]


class TracingSettingsError(SettingsError):
    """An OTEL_* value PayGraph cannot honour."""


def exporter_from_env() -> SpanExporter | None:
    """The span exporter the OTEL_* variables ask for; None when tracing is off:
    OTEL_SDK_DISABLED=true, OTEL_TRACES_EXPORTER=none, or neither it nor an OTLP
    endpoint (OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT) set."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    chosen = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if not chosen:
        endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
        chosen = "otlp" if endpoint else "none"
    if chosen not in EXPORTERS:
        raise TracingSettingsError(
            f"OTEL_TRACES_EXPORTER must be one of {', '.join(EXPORTERS)}, not {chosen!r}"
        )
    if chosen == "none":
        return None
    if chosen == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    protocol = (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or PROTOCOL
    ).strip()
    if protocol != PROTOCOL:
        raise TracingSettingsError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL must be {PROTOCOL} (PayGraph exports OTLP over "
            f"HTTP), not {protocol!r}"
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    # Endpoint, headers, timeout, compression and certificates: its OTEL_* variables.
    return OTLPSpanExporter()


def tracer_provider_from_env() -> TracerProvider | None:
    """A tracer provider exporting in batches as OTEL_* says, or None (tracing off).
    Its sampler is OTEL_TRACES_SAMPLER's; its resource OTEL_RESOURCE_ATTRIBUTES and
    OTEL_SERVICE_NAME, `paygraph` by default."""
    exporter = exporter_from_env()
    if exporter is None:
        return None
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=resource())
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def resource() -> Resource:
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource

    found = Resource.create()
    if str(found.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        found = found.merge(Resource({SERVICE_NAME: SERVICE}))
    return found


def traced_app(app: Any, provider: TracerProvider) -> Any:
    """`app` (a Starlette app) behind the ASGI instrumentation: a server span per HTTP
    request, named by its route (`POST /graphql`). /metrics and the health checks are
    left out."""
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from opentelemetry.metrics import NoOpMeterProvider

    app.add_middleware(
        OpenTelemetryMiddleware,
        excluded_urls="/metrics,/healthz,/readyz",
        default_span_details=_span_details,
        tracer_provider=provider,
        meter_provider=NoOpMeterProvider(),
        exclude_spans=EXCLUDED_SPANS,
    )
    return app


def _span_details(scope: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    from starlette.routing import Match

    method = scope.get("method", "")
    app = scope.get("app")
    for route in getattr(app, "routes", ()):
        matched, _ = route.matches(scope)
        if matched is Match.FULL:
            return f"{method} {route.path}", {"http.route": route.path}
    return method, {}


def trace_statements(engines: list[AsyncEngine], provider: TracerProvider) -> None:
    """A client span per SQL statement run on these engines."""
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import NoOpMeterProvider

    tracer = provider.get_tracer("opentelemetry.instrumentation.sqlalchemy")
    usage = NoOpMeterProvider().get_meter(__name__).create_up_down_counter("unused")
    seen: set[int] = set()
    for engine in engines:
        sync = engine.sync_engine
        if id(sync) not in seen:  # the read engine shares the main engine's listeners
            seen.add(id(sync))
            EngineTracer(tracer, sync, usage)


@contextlib.contextmanager
def background_untraced(provider: TracerProvider | None) -> Iterator[None]:
    """No spans for the body's work, nor for the tasks it starts (the app's background
    jobs: the outbox dispatcher polls every second, and a trace per poll would bury the
    requests' traces). Requests run in tasks of their own, traced as ever."""
    if provider is None:
        yield
        return
    from opentelemetry.instrumentation.utils import suppress_instrumentation

    with suppress_instrumentation():
        yield
