"""The operation a request runs, by name and type, written to the context as execution
starts (parsed and validated by then), for the request's metrics, log line and span."""

from __future__ import annotations

from strawberry.extensions import SchemaExtension


class NamedOperation(SchemaExtension):
    def on_execute(self) -> None:  # type: ignore[override]
        # A plain function, not a generator: Strawberry calls it as execution starts,
        # the cheapest of its hooks.
        execution = self.execution_context
        context = execution.context
        if hasattr(context, "operation_name"):
            context.operation_name = execution.operation_name
            context.operation_type = execution.operation_type.value
