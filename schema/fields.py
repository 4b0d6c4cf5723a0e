"""Building blocks shared by the type modules: argument types and paged relations."""

from __future__ import annotations

import functools
from types import GenericAlias
from typing import TYPE_CHECKING, Annotated, Any, Optional, TypeAlias

import strawberry

from domain.filtering import Filter, all_of
from domain.listings import LISTINGS
from domain.paging import ListRequest, Offset
from domain.read_catalog import RootList, ToMany, ToOne
from resolvers import lists
from resolvers.context import Context
from resolvers.relations import load_now
from schema.compiled_plan import ROOT_LIST
from schema.connection import Connection
from schema.field_kinds import CHILDREN, RELATION, ChildList, lean_field
from schema.filters import FILTERS, SORTS, plain, sort_keys
from schema.speedups.prefetch import ROWS_OF_CONNECTION, prefetch

if TYPE_CHECKING:
    from schema.types.payment_connection import PaymentConnection

Info: TypeAlias = strawberry.Info[Context, None]

First: TypeAlias = Annotated[
    int | None,
    strawberry.argument(description="Page size from the start: at most 200, 50 by default."),
]
After: TypeAlias = Annotated[
    str | None,
    strawberry.argument(description="Return rows after this cursor (`pageInfo.endCursor`)."),
]
Last: TypeAlias = Annotated[
    int | None,
    strawberry.argument(description="Page size from the end: at most 200."),
]
Before: TypeAlias = Annotated[
    str | None,
    strawberry.argument(description="Return rows before this cursor (`pageInfo.startCursor`)."),
]


PageNumber: TypeAlias = Annotated[
    int | None,
    strawberry.argument(description="1-based page number (invoice payments); pages by offset."),
]
PerPage: TypeAlias = Annotated[
    int | None,
    strawberry.argument(description="Rows per page with `page`: at most 200, 25 by default."),
]
DEFAULT_PER_PAGE = 25


def filter_arg(type_name: str) -> Any:
    """The `filter` argument of a list of `type_name` rows: its input type is built from
    the listing (schema.filters), so to mypy the argument is any value; a module declares
    its alias as `Any` under TYPE_CHECKING and as this otherwise."""
    return Annotated[
        FILTERS[type_name] | None,
        strawberry.argument(description=f"Which rows to list (see `{type_name}Filter`)."),
    ]


def sort_arg(type_name: str) -> Any:
    """The `sort` argument of a list of `type_name` rows (see `filter_arg`)."""
    return Annotated[
        GenericAlias(list, (SORTS[type_name],)) | None,  # list[<the listing's sort input>]
        strawberry.argument(
            description="Sort keys, the first deciding first; `id` ascending breaks ties last."
        ),
    ]


def page_offset(page: int | None, per_page: int | None) -> Offset | None:
    """The invoice payments API's page/perPage as an offset window, or None without them."""
    if page is None and per_page is None:
        return None
    return Offset.of_page(
        1 if page is None else page,
        DEFAULT_PER_PAGE if per_page is None else per_page,
        first_page=1,
        page_arg="page",
        size_arg="perPage",
    )


def request_of(
    type_name: str,
    filter: Any,
    sort: Any,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    offset: Offset | None = None,
    extra: Filter | None = None,
    sort_pairs: list[tuple[str, bool]] | None = None,
) -> ListRequest:
    """The checked request of a list field over `type_name` rows."""
    listing = LISTINGS[type_name]
    where = all_of(extra, lists.where_of(listing, plain(filter)))
    pairs = sort_pairs if sort_pairs is not None else sort_keys(sort)
    return _checked_request(
        type_name,
        where,
        first,
        after,
        last,
        before,
        offset,
        None if pairs is None else tuple(pairs),
    )


# A nested list asks the same of every parent: its order and window are checked once.
@functools.lru_cache(maxsize=4096)
def _checked_request(
    type_name: str,
    where: Filter | None,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    offset: Offset | None,
    pairs: tuple[tuple[str, bool], ...] | None,
) -> ListRequest:
    listing = LISTINGS[type_name]
    return lists.list_request(
        listing,
        where=where,
        order=lists.ordering(listing, pairs),
        first=first,
        after=after,
        last=last,
        before=before,
        offset=offset,
    )


async def paged(
    info: Info, relation: ToMany[Any], parent_id: int, request: ListRequest
) -> Connection[Any]:
    """A connection over a parent's children, loaded through the relation's loader."""
    page, key = await lists.load(info.context, relation, parent_id, request)
    return Connection.of(page, request.window, lists.counter(info.context, key), key)


async def root_paged(info: Info, root: RootList[Any], request: ListRequest) -> Connection[Any]:
    page, key = await lists.load(info.context, root, None, request)
    await prefetch(info, root.table.type_name, page.items, ROWS_OF_CONNECTION)
    return Connection.of(page, request.window, lists.counter(info.context, key), key)


# Lists whose connection type adds fields of its own (and so is not `Connection[T]`).
SPECIAL_CONNECTIONS: dict[str, Any] = {
    "Payment": Annotated["PaymentConnection", strawberry.lazy("schema.types.payment_connection")],
}


def connection_type(type_name: str, node: Any) -> Any:
    return SPECIAL_CONNECTIONS.get(type_name) or Connection[node]


def child_connection(relation: ToMany[Any], node: Any, description: str) -> Any:
    """A paged relation field over the relation's children (of GraphQL type `node`), with
    the shared filter, sort and cursor arguments."""
    type_name = relation.target.type_name

    def request(
        filter: Any = None,
        sort: Any = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> ListRequest:
        return request_of(
            type_name, filter, sort, first=first, after=after, last=last, before=before
        )

    children = ChildList(relation.name, request)

    def resolve(
        root: Any,
        info: Info,
        filter: Any = None,
        sort: Any = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Any:
        return children.page(
            info.context, root.id, request(filter, sort, first, after, last, before)
        )

    resolve.__annotations__ = {
        **_list_arguments(type_name),
        "return": connection_type(type_name, node),
    }
    return strawberry.field(
        resolver=resolve, description=description, metadata={CHILDREN: children}
    )


def root_connection(root: RootList[Any], node: Any, description: str) -> Any:
    """A root list (of GraphQL type `node`): the shared arguments plus the invoice payments API's
    `page` / `perPage`."""
    type_name = root.table.type_name

    def request(
        filter: Any = None,
        sort: Any = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        page: int | None = None,
        per_page: int | None = None,
    ) -> ListRequest:
        return request_of(
            type_name,
            filter,
            sort,
            first=first,
            after=after,
            last=last,
            before=before,
            offset=page_offset(page, per_page),
        )

    async def resolve(
        info: Info,
        filter: Any = None,
        sort: Any = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        page: int | None = None,
        per_page: int | None = None,
    ) -> Connection[Any]:
        asked = request(filter, sort, first, after, last, before, page, per_page)
        return await root_paged(info, root, asked)

    arguments = _list_arguments(type_name)
    arguments.pop("root")
    resolve.__annotations__ = {
        **arguments,
        "page": PageNumber,
        "per_page": PerPage,
        "return": connection_type(type_name, node),
    }
    return strawberry.field(
        resolver=resolve, description=description, metadata={ROOT_LIST: (root.name, request)}
    )


def _list_arguments(type_name: str) -> dict[str, Any]:
    return {
        "root": Any,
        "info": Info,
        "filter": filter_arg(type_name),
        "sort": sort_arg(type_name),
        "first": First,
        "after": After,
        "last": Last,
        "before": Before,
    }


def entity_type_check(entity: type) -> Any:
    """`is_type_of` for a GraphQL type whose resolvers return `entity` instances."""

    def is_type_of(cls: type, obj: Any, _info: Any) -> bool:
        return isinstance(obj, entity)

    return classmethod(is_type_of)


def _database_id(root: Any, info: Info) -> int:
    return int(root.id)


def database_id_field() -> Any:
    """`databaseId`: the numeric row id the source documents use."""
    return lean_field(_database_id, "Numeric id, as the source documents use it.")


def to_one(relation: ToOne[Any], target: Any, description: str) -> Any:
    """A relation to one row (of GraphQL type `target`, nullable): the row the parent's
    key names, through the request's loader of the relation. Resolved at once when a page
    prefetched it (schema.speedups.prefetch), else awaited."""
    loader, key = relation.name, relation.key

    def resolve(root: Any, info: Info) -> Any:
        return load_now(getattr(info.context.loaders, loader), getattr(root, key))

    resolve.__annotations__ = {"root": Any, "info": Info, "return": Optional[target]}  # noqa: UP045
    return lean_field(resolve, description, **{RELATION: (loader, key)})
