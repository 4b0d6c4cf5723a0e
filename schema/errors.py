"""The one place errors become GraphQL errors: domain errors keep their stable code,
limit and validation errors get theirs, and anything unexpected is masked to the client
and logged with the request id."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import SKIP, ArgumentNode, ValueNode, ValuesOfCorrectTypeRule, VisitorAction
from graphql.error import GraphQLError, GraphQLSyntaxError
from graphql.utilities.validate_input_value import validate_input_literal
from strawberry.extensions import MaskErrors, SchemaExtension

from domain.errors import DomainError
from schema.limits import TOO_MANY_TOKENS, is_token_limit_error

logger = logging.getLogger("paygraph.errors")

INTERNAL_MESSAGE = "Internal server error."
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
# graphql-core appends its suggestions as one trailing sentence.
SUGGESTION = re.compile(r"\s*Did you mean .*\?$", re.DOTALL)
BAD_USER_INPUT = "BAD_USER_INPUT"
# graphql-core's variable-coercion errors: "Variable '$f' has invalid value at .a.b: ..."
VARIABLE_ERROR = re.compile(r"^Variable '\$(\w+)'(?: has invalid value at ([.\w\[\]]+))?")


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
            extensions = {"code": original.code, **original.extensions()}
            return _rebuilt(error, original.message, extensions)
        variable = VARIABLE_ERROR.match(error.message) if error.path is None else None
        if variable is not None:
            # A variable the schema's types refuse (a malformed date, a bad BigInt, ...).
            name, at = variable.groups()
            message = SUGGESTION.sub("", error.message) if self.hide_suggestions else error.message
            field = name + (at or "").replace("[", ".").replace("]", "")
            return _rebuilt(error, message, {"code": BAD_USER_INPUT, "field": field})
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


class ArgumentValuesRule(ValuesOfCorrectTypeRule):
    """graphql-core's check of literal argument values, reporting BAD_USER_INPUT with
    the path of the offending value (`filter.paymentDate.gte`): a malformed date or an
    unknown enum value is bad input, not a malformed query."""

    argument: str | None = None

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        self.argument = node.name.value

    def leave_argument(self, *_args: Any) -> None:
        self.argument = None

    def is_valid_value_node(self, node: ValueNode, input_type: Any) -> VisitorAction:
        if input_type:

            def on_error(error: GraphQLError, path: list[str | int]) -> None:
                extensions: dict[str, Any] = {"code": BAD_USER_INPUT}
                if self.argument is not None:
                    extensions["field"] = ".".join([self.argument, *map(str, path)])
                self.report_error(GraphQLError(error.message, error.nodes, extensions=extensions))

            validate_input_literal(
                node, input_type, on_error, None, None, self.context.hide_suggestions
            )
        return SKIP


class InputErrorCodes(SchemaExtension):
    """Swap graphql-core's value check for ArgumentValuesRule."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = tuple(
            ArgumentValuesRule if rule is ValuesOfCorrectTypeRule else rule
            for rule in context.validation_rules
        )
        yield
