"""Building blocks shared by the type modules: argument types and paged relations."""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias

import strawberry

from resolvers import relations
from resolvers.context import Context
from schema.connection import Connection

Info: TypeAlias = strawberry.Info[Context, None]

First: TypeAlias = Annotated[
    int | None,
    strawberry.argument(description="Page size: at most 200, 50 when omitted."),
]
After: TypeAlias = Annotated[
    str | None,
    strawberry.argument(description="Return rows after this cursor (`pageInfo.endCursor`)."),
]


async def paged(
    info: Info, relation: str, parent_id: int, first: int | None, after: str | None
) -> Connection[Any]:
    """A connection over a parent's children, loaded through the relation's loader."""
    context = info.context
    page = await relations.children_page(context, relation, parent_id, first, after)
    return Connection.of(page, lambda: relations.count(context, relation, parent_id))


async def root_paged(
    info: Info, relation: str, first: int | None, after: str | None
) -> Connection[Any]:
    context = info.context
    page = await relations.root_page(context, relation, first, after)
    return Connection.of(page, lambda: relations.count(context, relation, None))


def entity_type_check(entity: type) -> Any:
    """`is_type_of` for a GraphQL type whose resolvers return `entity` instances."""

    def is_type_of(cls: type, obj: Any, _info: Any) -> bool:
        return isinstance(obj, entity)

    return classmethod(is_type_of)


def _database_id(root: Any) -> int:
    return int(root.id)


def database_id_field() -> Any:
    """`databaseId`: the numeric row id the source documents use."""
    return strawberry.field(
        resolver=_database_id, description="Numeric id, as the source documents use it."
    )
