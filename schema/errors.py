"""The one place errors become GraphQL errors: domain errors keep their stable code,
limit and validation errors get theirs, and anything unexpected is masked to the client
and logged with the request id."""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql.error import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import MaskErrors

from domain.errors import DomainError
from schema.limits import TOO_MANY_TOKENS, is_token_limit_error

logger = logging.getLogger("paygraph.errors")

INTERNAL_MESSAGE = "Internal server error."
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
# graphql-core appends its suggestions as one trailing sentence.
SUGGESTION = re.compile(r"\s*Did you mean .*\?$", re.DOTALL)


class ErrorCodes(MaskErrors):
    """Give every error `extensions.code`; mask and log what is not a known outcome."""

    def __init__(self, *, hide_suggestions: bool = False, **options: Any) -> None:
        super().__init__(**options)
        self.hide_suggestions = hide_suggestions

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._with_code(error) for error in errors]

    def _request_id(self) -> str | None:
        context = self.execution_context.context
        return getattr(context, "request_id", None)

    def _with_code(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, DomainError):
            extensions = {"code": original.code}
            if original.field:
                extensions["field"] = original.field
            return _rebuilt(error, original.message, extensions)
        if original is None:
            # Parse, validation, limit and variable-coercion errors from graphql-core.
            if isinstance(error, GraphQLSyntaxError) and is_token_limit_error(error):
                code = TOO_MANY_TOKENS
            else:
                code = (error.extensions or {}).get("code", VALIDATION_FAILED)
            message = SUGGESTION.sub("", error.message) if self.hide_suggestions else error.message
            return _rebuilt(error, message, {**(error.extensions or {}), "code": code})
        request_id = self._request_id()
        logger.error(
            "unexpected error in %s (request %s)",
            ".".join(map(str, error.path or [])) or "operation",
            request_id,
            exc_info=original,
        )
        return _rebuilt(
            error, INTERNAL_MESSAGE, {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        )


def _rebuilt(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    return GraphQLError(
        message=message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )
