"""Relay-style cursor connections over a domain Page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry

from domain.paging import Page
from resolvers.cursors import encode_cursor

NodeT = TypeVar("NodeT")


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More rows follow this page.")
    has_previous_page: bool = strawberry.field(description="Rows precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first row.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last row; pass it as `after` for the next page."
    )


@strawberry.type(description="A row of a connection with its cursor.")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description="Opaque position of this row.")
    node: NodeT = strawberry.field(description="The row.")


@strawberry.type(description="A page of a list, with cursors to move through it.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="The rows with their cursors.")
    nodes: list[NodeT] = strawberry.field(description="The rows, without cursors.")
    page_info: PageInfo = strawberry.field(description="Paging state of this page.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Number of rows in the whole list; counted only when asked.")
    async def total_count(self) -> int:
        return await self.count()

    @classmethod
    def of(cls, page: Page[Any], count: Callable[[], Awaitable[int]]) -> Connection[Any]:
        cursors = [encode_cursor(item.id) for item in page.items]
        return cls(
            edges=[Edge(cursor=c, node=item) for c, item in zip(cursors, page.items, strict=True)],
            nodes=list(page.items),
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=cursors[0] if cursors else None,
                end_cursor=cursors[-1] if cursors else None,
            ),
            count=count,
        )
