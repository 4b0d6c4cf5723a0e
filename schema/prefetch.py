"""Load a page's relations before its rows are resolved.

A list resolver that has its page calls `prefetch` with the path to its rows (`nodes`,
`edges.node`, `data`): the relations its selection asks for (`to_one` fields and
`ChildList` connections) are loaded for every row at once, one loader call per
relation, as the rows would have batched them, so each row's relation field then
resolves from the loader's cache with no coroutine or task of its own. The selection is
read once per list, not per row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Iterator, Sequence
from typing import Any

import strawberry
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSkipDirective,
    InlineFragmentNode,
    SelectionSetNode,
)
from graphql.execution.values import VariableValues, get_argument_values, get_directive_values

from domain.errors import DomainError
from domain.paging import ParentPage
from schema.lean import CHILDREN, DEFINITION, RELATION, ListRequests

ROWS_OF_CONNECTION = (("nodes",), ("edges", "node"))
ROWS_OF_DATA = (("data",),)


async def prefetch(
    info: strawberry.Info, type_name: str, rows: Sequence[Any], paths: Iterable[tuple[str, ...]]
) -> None:
    """Load the to-one relations of `rows` (of GraphQL type `type_name`) that the
    selection under `paths` from the current field asks for."""
    raw: GraphQLResolveInfo[Any] = info._raw_info
    row_type = raw.schema.type_map[type_name]
    if not rows or not isinstance(row_type, GraphQLObjectType):
        return
    context, requests = info.context, ListRequests(info.schema)
    relations: set[tuple[str, str]] = set()
    pending: list[Awaitable[Any]] = []
    for path in paths:
        for node in _fields_at(raw, raw.field_nodes, path):
            field = row_type.fields.get(node.name.value)
            definition = field and (field.extensions or {}).get(DEFINITION)
            metadata = definition.metadata if definition else {}
            if RELATION in metadata:
                relations.add(metadata[RELATION])
            elif CHILDREN in metadata:
                try:
                    arguments = get_argument_values(field, node, _variables(raw))
                    request = requests.of(context, definition, node, arguments)
                except (DomainError, GraphQLError):
                    continue  # each row's field reports it
                loader = getattr(context.loaders, metadata[CHILDREN].relation)
                pending.extend(loader.load(ParentPage(row.id, request)) for row in rows)
    for loader_name, key in relations:
        loader = getattr(context.loaders, loader_name)
        keys = {value for row in rows if (value := getattr(row, key)) is not None}
        pending.extend(loader.load(value) for value in keys)
    if pending:
        # Failures surface where they did before: in each row's own field.
        await asyncio.gather(*pending, return_exceptions=True)


def selects(info: strawberry.Info, name: str) -> bool:
    """Whether the current field's selection asks for `name` (through fragments)."""
    raw: GraphQLResolveInfo[Any] = info._raw_info
    return any(node.name.value == name for node in _fields_at(raw, raw.field_nodes, ()))


def _fields_at(
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
                yield from _fields_at(info, [child], path[1:])


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
    variables = _variables(info)
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip is not None and skip["if"]:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return include is None or bool(include["if"])


def _variables(info: GraphQLResolveInfo[Any]) -> VariableValues:
    """The operation's variables as graphql-core's value helpers take them: Strawberry's
    resolve info holds only their coerced values, a dict, which those helpers cannot
    read (a `$variable` in an argument or directive under the rows raised)."""
    values: Any = info.variable_values
    return values if isinstance(values, VariableValues) else VariableValues({}, values)
