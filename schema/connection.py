"""Relay-style cursor connections over a domain Page, with the invoice payments API's page meta."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry

from domain.paging import CountKey, Offset, Page, Window
from resolvers.cursors import encode_cursor
from schema.field_decorators import field

NodeT = TypeVar("NodeT")


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More rows follow this page.")
    has_previous_page: bool = strawberry.field(description="Rows precede this page.")
    start_cursor: str | None = strawberry.field(
        description="Cursor of the first row; pass it as `before` for the previous page."
    )
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last row; pass it as `after` for the next page."
    )


@strawberry.type(description="Page numbers of a list (the invoice payments API's `meta`).")
class PageMeta:
    current_page: int | None = strawberry.field(
        description="1-based number of this page; null when paging by cursor."
    )
    per_page: int = strawberry.field(description="Rows per page.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @field(description="Rows in the whole list; counted only when asked.")
    async def total_count(self) -> int:
        return await self.count()

    @field(description="Pages in the whole list at this page size.")
    async def total_pages(self) -> int:
        total = await self.count()
        return -(-total // self.per_page) if self.per_page else 0


@strawberry.type(description="A row of a connection with its cursor.")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description="Opaque position of this row.")
    node: NodeT = strawberry.field(description="The row.")


class _Edge:
    """An Edge whose cursor is encoded only when a query selects it."""

    __slots__ = ("_order", "node")

    def __init__(self, node: Any, order: Any) -> None:
        self.node = node
        self._order = order

    @property
    def cursor(self) -> str:
        return encode_cursor(self.node, self._order)


@strawberry.type(description="A page of a list, with cursors to move through it.")
class Connection(Generic[NodeT]):
    # Rows with a cursor encoded only when selected (`_Edge`), as GraphQL's `Edge`s.
    edges: list[_Edge] = strawberry.field(
        description="The rows with their cursors.", graphql_type=list[Edge[NodeT]]
    )
    nodes: list[NodeT] = strawberry.field(description="The rows, without cursors.")
    page_info: PageInfo = strawberry.field(description="Paging state of this page.")
    window: strawberry.Private[Window]
    count: strawberry.Private[Callable[[], Awaitable[int]]]
    list_key: strawberry.Private[CountKey]

    @field(description="Number of rows in the whole list; counted only when asked.")
    async def total_count(self) -> int:
        return await self.count()

    @field(description="Page numbers of this list (the invoice payments API's `meta`).")
    def meta(self) -> PageMeta:
        window = self.window
        if isinstance(window, Offset):
            return PageMeta(
                current_page=window.offset // window.limit + 1,
                per_page=window.limit,
                count=self.count,
            )
        return PageMeta(current_page=None, per_page=window.size, count=self.count)

    @classmethod
    def of(
        cls,
        page: Page[Any],
        window: Window,
        count: Callable[[], Awaitable[int]],
        list_key: CountKey,
    ) -> Connection[Any]:
        items, order = page.items, page.order
        return cls(
            # Cursors are encoded only when selected: most nested lists never ask.
            edges=[_Edge(item, order) for item in items],
            nodes=list(items),
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=encode_cursor(items[0], order) if items else None,
                end_cursor=encode_cursor(items[-1], order) if items else None,
            ),
            window=window,
            count=count,
            list_key=list_key,
        )
