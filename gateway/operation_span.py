"""One OpenTelemetry span per GraphQL operation (gateway.tracing installs it when tracing
is on), apart from the tracing settings so that `paygraph` can check OTEL_* without
loading Strawberry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from strawberry.extensions import SchemaExtension

if TYPE_CHECKING:  # the SDK loads only when tracing is on
    from opentelemetry.trace import Span, Tracer


class OperationSpan(SchemaExtension):
    """One span around a GraphQL operation (parse, validate, execute), named
    `query DashboardPage`, with the operation's name and type, the request id, its cost
    and its error codes."""

    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer

    def on_operation(self) -> Iterator[None]:
        from opentelemetry import context as otel_context
        from opentelemetry import trace
        from opentelemetry.trace import SpanKind

        span = self._tracer.start_span("graphql.operation", kind=SpanKind.INTERNAL)
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            yield
        finally:
            otel_context.detach(token)
            self._describe(span)
            span.end()

    def _describe(self, span: Span) -> None:
        execution = self.execution_context
        context = execution.context
        name = getattr(context, "operation_name", None)
        kind = getattr(context, "operation_type", None)
        if kind is not None:
            span.update_name(f"{kind} {name}" if name else kind)
            span.set_attribute("graphql.operation.type", kind)
        if name:
            span.set_attribute("graphql.operation.name", name)
        request_id = getattr(context, "request_id", None)
        if request_id:
            span.set_attribute("paygraph.request_id", request_id)
        cost = getattr(context, "cost", None)
        if cost is not None:
            span.set_attribute("paygraph.cost.requested", cost.requested)
            span.set_attribute("paygraph.cost.actual", cost.actual)
        result = execution.result
        errors = getattr(result, "errors", None) or execution.pre_execution_errors or []
        codes = [str((error.extensions or {}).get("code", "")) for error in errors]
        if codes:
            from opentelemetry.trace import Status, StatusCode

            span.set_attribute("paygraph.error_codes", codes)
            span.set_status(Status(StatusCode.ERROR, codes[0]))
