"""Text that can be stored and echoed: no NUL (PostgreSQL's text cannot hold it) and no
lone UTF-16 surrogate (UTF-8 cannot encode it, so neither the database nor a JSON
response can carry it). A JSON body may still smuggle either in as a `\\u0000` or
`\\ud800` escape, and a GraphQL string literal as `"\\u0000"`.

One check for every string a request carries, before anything runs: the document's
string literals (a validation rule, so it is cached with the document), and the
operation name and every variable, key or value, at any depth. The refusal is
BAD_USER_INPUT whose `extensions.field` is the argument's path (`filter.reference.eq`)
or, for a variable, the variable's name and path (`f.reference.eq`), like every other
malformed argument. The offending text is never echoed back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from graphql import (
    SKIP,
    ArgumentNode,
    ASTValidationRule,
    GraphQLError,
    ListValueNode,
    Node,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    VariableDefinitionNode,
    VisitorAction,
)
from strawberry.extensions import SchemaExtension

from domain.errors import BadUserInput
from schema.errors import BAD_USER_INPUT

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def is_storable(text: str) -> bool:
    """True when `text` holds neither NUL nor a lone surrogate."""
    return UNSTORABLE.search(text) is None


def message_for(path: str) -> str:
    return f"`{path}` holds a NUL character or a lone UTF-16 surrogate, which no text may contain."


def unstorable_path(value: Any, path: str) -> str | None:
    """The path of the first string in a JSON value (a key or a value, at any depth)
    that is not storable, or None. A bad key is reported at its parent's path, so the
    path never carries the bad text itself. Iterative: a JSON body may nest deeply."""
    pending: list[tuple[Any, str]] = [(value, path)]
    while pending:
        item, here = pending.pop()
        if isinstance(item, str):
            if not is_storable(item):
                return here
        elif isinstance(item, dict):
            for key, inner in reversed(item.items()):
                if isinstance(key, str) and not is_storable(key):
                    return here or "variables"
                pending.append((inner, f"{here}.{key}" if here else str(key)))
        elif isinstance(item, list | tuple):
            pending.extend((inner, f"{here}.{i}") for i, inner in reversed(list(enumerate(item))))
    return None


def refuse_unstorable(value: Any, path: str) -> None:
    """BAD_USER_INPUT (a domain error, for the non-GraphQL edges such as exports) when
    any string in `value` is not storable."""
    found = unstorable_path(value, path)
    if found is not None:
        raise BadUserInput(message_for(found), field=found)


def _literal_path(node: ValueNode, path: str) -> str | None:
    if isinstance(node, StringValueNode):
        return None if is_storable(node.value) else path
    if isinstance(node, ObjectValueNode):
        for field in node.fields:
            found = _literal_path(field.value, f"{path}.{field.name.value}")
            if found is not None:
                return found
    if isinstance(node, ListValueNode):
        for index, item in enumerate(node.values):
            found = _literal_path(item, f"{path}.{index}")
            if found is not None:
                return found
    return None


class StorableLiteralsRule(ASTValidationRule):
    """Every string literal of the document (argument values, directive arguments and
    variables' default values) must be storable."""

    def _check(self, node: Node, value: ValueNode | None, path: str) -> VisitorAction:
        found = _literal_path(value, path) if value is not None else None
        if found is not None:
            self.report_error(
                GraphQLError(
                    message_for(found),
                    node,
                    extensions={"code": BAD_USER_INPUT, "field": found},
                )
            )
        return SKIP

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> VisitorAction:
        return self._check(node, node.value, node.name.value)

    def enter_variable_definition(self, node: VariableDefinitionNode, *_args: Any) -> None:
        self._check(node, node.default_value, node.variable.name.value)


class StorableText(SchemaExtension):
    """Adds StorableLiteralsRule to validation, and refuses an operation name or a
    variable that is not storable before the document is even parsed."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = (*context.validation_rules, StorableLiteralsRule)
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        name = context.operation_name
        found = "operationName" if name is not None and not is_storable(name) else None
        found = found or unstorable_path(context.variables or {}, "")
        if found is not None:
            # Raised, not returned: Strawberry answers it as the operation's only error.
            raise GraphQLError(
                message_for(found), extensions={"code": BAD_USER_INPUT, "field": found}
            )
        yield
