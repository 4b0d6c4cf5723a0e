"""Relation resolvers shared by every type: one-to-one through an id loader, and paged
one-to-many through a parent loader."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from domain.paging import Page, PageRequest, ParentPage
from resolvers.cursors import decode_cursor

if TYPE_CHECKING:
    from domain.ports import Loader
    from resolvers.context import Context

T = TypeVar("T")


async def load_one(loader: Loader[int, T | None], key: int | None) -> T | None:
    return None if key is None else await loader.load(key)


def page_request(first: int | None, after: str | None) -> PageRequest:
    return PageRequest.checked(first, decode_cursor(after))


async def children_page(
    context: Context, relation: str, parent_id: int, first: int | None, after: str | None
) -> Page[Any]:
    """A page of `relation` (a loader name such as `details_by_payment`) under a parent."""
    loader: Loader[ParentPage, Page[Any]] = getattr(context.loaders, relation)
    return await loader.load(ParentPage(parent_id, page_request(first, after)))


async def root_page(
    context: Context, relation: str, first: int | None, after: str | None
) -> Page[Any]:
    loader: Loader[PageRequest, Page[Any]] = getattr(context.loaders, relation)
    return await loader.load(page_request(first, after))


async def count(context: Context, relation: str, parent_id: int | None) -> int:
    return await context.loaders.count_of.load((relation, parent_id))
