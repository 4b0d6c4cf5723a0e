"""One-to-one relations shared by every type, through an id loader."""

from __future__ import annotations

from asyncio import Future
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from domain.ports import Loader
    from domain.read_catalog import ToOne
    from resolvers.context import Context

T = TypeVar("T")


async def load_one(loader: Loader[int, T | None], key: int | None) -> T | None:
    return None if key is None else await loader.load(key)


async def load_related(context: Context, relation: ToOne[T], row: Any) -> T | None:
    """The row `relation` names from `row`: None when its key is null or the row is not
    found (another tenant's, or hidden by the caller's scope)."""
    loader = context.loaders.of(relation)
    return await load_one(loader, getattr(row, relation.key))


def load_now(loader: Loader[int, T | None], key: int | None) -> T | Awaitable[T | None] | None:
    """The related row itself when the request's loader already holds it (its page
    prefetched it), else an awaitable of it. A plain resolver returning this spares
    graphql-core a coroutine and a task for every row of a page."""
    if key is None:
        return None
    pending = loader.load(key)
    if isinstance(pending, Future) and pending.done():
        found: T | None = pending.result()
        return found
    return pending
