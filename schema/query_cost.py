"""Query cost in the request pipeline: after validation and before execution, an
operation's requested cost (schema/cost.py) is checked against the limit and taken from
the caller's bucket; after execution the unused part is given back. Every operation that
gets this far answers with `extensions.cost`, in Shopify's shape:

    {"requestedQueryCost": 102, "actualQueryCost": 31,
     "throttleStatus": {"maximumAvailable": 100000, "currentlyAvailable": 99969,
                        "restoreRate": 5000}}
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from graphql import ExecutionResult, GraphQLError, GraphQLSchema
from strawberry.extensions import SchemaExtension

from domain.throttle import CallerBucket, Draw
from schema.cost import CostPlan, CostPlans, build_plan

QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
THROTTLED = "THROTTLED"


@dataclass
class CostLimit:
    """The most one operation may cost; the plans it was measured with are kept here,
    since the extension itself is built afresh for every request."""

    max_cost: int
    _plans: dict[int, CostPlans] = field(default_factory=dict, repr=False)

    def plan(
        self, schema: GraphQLSchema, query: str | None, document: Any, name: str | None
    ) -> CostPlan:
        if query is None:
            return build_plan(schema, document, name)
        plans = self._plans.get(id(schema))
        if plans is None:
            plans = self._plans[id(schema)] = CostPlans(schema)
        return plans.plan(query, document, name)


@dataclass
class CostReport:
    requested: int
    actual: int = 0
    bucket: CallerBucket | None = None
    draw: Draw | None = None

    def as_extension(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "requestedQueryCost": self.requested,
            "actualQueryCost": self.actual,
        }
        if self.bucket is not None and self.draw is not None:
            rate = self.bucket.limits.restore_rate
            report["throttleStatus"] = {
                "maximumAvailable": self.bucket.limits.maximum,
                "currentlyAvailable": self.draw.points_left,
                "restoreRate": int(rate) if rate == int(rate) else rate,
            }
        return report


class QueryCost(SchemaExtension):
    def __init__(self, limit: CostLimit) -> None:
        self.limit = limit
        self.report: CostReport | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        plan = self.limit.plan(
            context.schema._schema, context.query, context.graphql_document, context.operation_name
        )
        variables = context.variables if isinstance(context.variables, dict) else {}
        report = self.report = CostReport(plan.requested(variables))
        report.bucket = getattr(context.context, "throttle", None)
        if hasattr(context.context, "cost"):
            context.context.cost = report
        refusal = await self._refusal(report)
        if refusal is not None:
            context.result = ExecutionResult(data=None, errors=[refusal])
            yield
            return
        yield
        result = context.result
        report.actual = plan.actual(getattr(result, "data", None))
        unused = report.requested - report.actual
        if report.bucket is not None and unused > 0:
            report.draw = await report.bucket.give_back(unused)

    async def _refusal(self, report: CostReport) -> GraphQLError | None:
        """QUERY_TOO_COSTLY over the limit, THROTTLED when the bucket holds too little;
        None after taking the requested cost."""
        bucket, requested, limit = report.bucket, report.requested, self.limit.max_cost
        if requested > limit:
            if bucket is not None:
                report.draw = await bucket.take(0)
            return GraphQLError(
                f"The operation may cost {requested} points; at most {limit} are allowed. "
                "Ask for smaller pages or fewer nested lists.",
                extensions={"code": QUERY_TOO_COSTLY, "cost": requested, "limit": limit},
            )
        if bucket is None:
            return None
        report.draw = draw = await bucket.take(requested)
        if draw.allowed:
            return None
        response = getattr(self.execution_context.context, "response", None)
        if response is not None:
            response.headers["Retry-After"] = draw.retry_after_header
        return GraphQLError(
            draw.throttled_message(f"the operation may cost {requested}"),
            extensions={"code": THROTTLED, "cost": requested, "retryAfter": draw.retry_in},
        )

    def get_results(self) -> dict[str, Any]:
        return {} if self.report is None else {"cost": self.report.as_extension()}
