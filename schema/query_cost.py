"""Query cost in the request pipeline: after validation and before execution, an
operation's requested cost (schema/cost.py) is checked against the limit and taken from
the caller's bucket; after execution the unused part is given back. Every operation that
gets this far answers with `extensions.cost`, in Shopify's shape:

    {"requestedQueryCost": 102, "actualQueryCost": 31,
     "throttleStatus": {"maximumAvailable": 100000, "currentlyAvailable": 99969,
                        "restoreRate": 5000}}

A subscription is costed per delivery: its selection's cost is checked against the
limit when it subscribes, then taken from the bucket for each payload it delivers (the
unused part given back), each `next` message carrying its own `extensions.cost`. A
delivery the bucket cannot pay for is a THROTTLED error instead (the subscription goes
on).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from graphql import ExecutionResult, GraphQLError, GraphQLSchema
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

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
        # A subscription's plan, each of its deliveries costed with it; None otherwise.
        self.deliveries: CostPlan | None = None

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
        if context.operation_type is OperationType.SUBSCRIPTION:
            if report.requested > self.limit.max_cost:
                raise self._too_costly(report.requested)  # Strawberry answers it as an error
            self.deliveries = plan  # each delivery pays (on_stream_result)
            yield
            return
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

    async def on_stream_result(self, result: Any) -> AsyncIterator[None]:
        """A subscription's delivery: its cost taken from the bucket, the unused part
        given back, reported in the delivery's own `extensions.cost`."""
        plan, subscribed = self.deliveries, self.report
        if plan is not None and subscribed is not None and result.data is not None:
            report = CostReport(subscribed.requested, bucket=subscribed.bucket)
            refusal = await self._refusal(report)
            if refusal is not None:
                result.data, result.errors = None, [refusal]
            else:
                report.actual = plan.actual(result.data)
                unused = report.requested - report.actual
                if report.bucket is not None and unused > 0:
                    report.draw = await report.bucket.give_back(unused)
            result.extensions = {**(result.extensions or {}), "cost": report.as_extension()}
        yield

    def _too_costly(self, requested: int) -> GraphQLError:
        limit = self.limit.max_cost
        return GraphQLError(
            f"The operation may cost {requested} points; at most {limit} are allowed. "
            "Ask for smaller pages or fewer nested lists.",
            extensions={"code": QUERY_TOO_COSTLY, "cost": requested, "limit": limit},
        )

    async def _refusal(self, report: CostReport) -> GraphQLError | None:
        """QUERY_TOO_COSTLY over the limit, THROTTLED when the bucket holds too little;
        None after taking the requested cost."""
        bucket, requested, limit = report.bucket, report.requested, self.limit.max_cost
        if requested > limit:
            if bucket is not None:
                report.draw = await bucket.take(0)
            return self._too_costly(requested)
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
