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
from collections.abc import Awaitable, Iterable, Sequence
from typing import Any

import strawberry
from graphql import (
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
)
from graphql.execution.values import get_argument_values

from domain.errors import DomainError
from domain.paging import ParentPage
from schema.field_kinds import CHILDREN, DEFINITION, RELATION
from schema.selections import fields_at, variables_of
from schema.speedups.lean import ListRequests

ROWS_OF_CONNECTION = (("nodes",), ("edges", "node"))
ROWS_OF_DATA = (("data",),)


async def prefetch(
    info: strawberry.Info, type_name: str, rows: Sequence[Any], paths: Iterable[tuple[str, ...]]
) -> None:
    """Load the to-one relations of `rows` (of GraphQL type `type_name`) that the
    selection under `paths` from the current field asks for; nothing when the speed-ups
    are off (schema.speedups): the rows then load them as they resolve."""
    if not getattr(info.schema, "speedups", True):
        return
    raw: GraphQLResolveInfo[Any] = info._raw_info
    row_type = raw.schema.type_map[type_name]
    if not rows or not isinstance(row_type, GraphQLObjectType):
        return
    context, requests = info.context, ListRequests(info.schema)
    relations: set[tuple[str, str]] = set()
    pending: list[Awaitable[Any]] = []
    for path in paths:
        for node in fields_at(raw, raw.field_nodes, path):
            field = row_type.fields.get(node.name.value)
            definition = field and (field.extensions or {}).get(DEFINITION)
            metadata = definition.metadata if definition else {}
            if RELATION in metadata:
                relations.add(metadata[RELATION])
            elif CHILDREN in metadata:
                try:
                    arguments = get_argument_values(field, node, variables_of(raw))
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
