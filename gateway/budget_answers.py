"""What a request stopped by its budget (gateway.request_budget) is answered, in the
GraphQL response shape: REQUEST_TIMEOUT in place of its result, RESPONSE_TOO_LARGE in
place of its body."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from strawberry.types import ExecutionResult

from gateway.request_budget import RequestBudget
from gateway.request_guard import error_body

REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"


def timed_out(budget: RequestBudget, request_id: str | None, cost: Any = None) -> ExecutionResult:
    """The result of an operation stopped by its deadline: no data, one error, and what
    the operation was costed at (its points stay spent: the work was done)."""
    message = (
        f"The request ran longer than {budget.request_timeout:g} seconds and was stopped; "
        "nothing it had not committed was kept."
    )
    error = GraphQLError(message, extensions={"code": REQUEST_TIMEOUT, "requestId": request_id})
    extensions = None if cost is None else {"cost": cost.as_extension()}
    return ExecutionResult(data=None, errors=[error], extensions=extensions)


def too_large(
    budget: RequestBudget, size: int, request_id: str | None, extensions: Any = None
) -> dict[str, Any]:
    """The answer in place of one over the cap; the original's `extensions` (its cost)
    are kept, being small and still true."""
    message = (
        f"The answer is {size} bytes, more than the {budget.max_response_bytes} allowed; "
        "ask for fewer rows or fields."
    )
    answer = error_body(RESPONSE_TOO_LARGE, message, request_id)
    if isinstance(extensions, dict):
        answer["extensions"] = extensions
    return answer
