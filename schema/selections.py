"""What a field's selection asks for, read from graphql-core's resolve info through
fragments and `@skip` / `@include`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import strawberry
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLResolveInfo,
    GraphQLSkipDirective,
    InlineFragmentNode,
    SelectionSetNode,
)
from graphql.execution.values import VariableValues, get_directive_values


def selects(info: strawberry.Info, name: str) -> bool:
    """Whether the current field's selection asks for `name` (through fragments)."""
    raw: GraphQLResolveInfo[Any] = info._raw_info
    return any(node.name.value == name for node in fields_at(raw, raw.field_nodes, ()))


def fields_at(
    info: GraphQLResolveInfo[Any], nodes: Iterable[FieldNode], path: tuple[str, ...]
) -> Iterator[FieldNode]:
    """The fields selected under `path` from `nodes`, through fragments."""
    for node in nodes:
        if node.selection_set is None:
            continue
        for child in _fields_of(info, node.selection_set):
            if not path:
                yield child
            elif child.name.value == path[0]:
                yield from fields_at(info, [child], path[1:])


def _fields_of(info: GraphQLResolveInfo[Any], selections: SelectionSetNode) -> Iterator[FieldNode]:
    for selection in selections.selections:
        if not _included(info, selection):
            continue
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields_of(info, selection.selection_set)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = info.fragments.get(selection.name.value)
            if fragment is not None:
                yield from _fields_of(info, fragment.selection_set)


def _included(info: GraphQLResolveInfo[Any], node: Any) -> bool:
    if not node.directives:
        return True
    variables = variables_of(info)
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip is not None and skip["if"]:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return include is None or bool(include["if"])


def variables_of(info: GraphQLResolveInfo[Any]) -> VariableValues:
    """The operation's variables as graphql-core's value helpers take them: Strawberry's
    resolve info holds only their coerced values, a dict, which those helpers cannot
    read (a `$variable` in an argument or directive under the rows raised)."""
    values: Any = info.variable_values
    return values if isinstance(values, VariableValues) else VariableValues({}, values)
