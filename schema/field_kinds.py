"""Kinds of fields the schema declares, as metadata on Strawberry fields that the read
catalog's planner (schema.compiled_plan) and the resolver speed-ups (schema.speedups)
read: a lean resolver (`lean`, `lean_field`: it takes its parent, then `info` if it
needs it, and nothing of `info` but `info.context`), a to-one relation (`RELATION`:
which loader and which key) and a paged child list (`ChildList`).

Each field is an ordinary Strawberry field, resolved the ordinary way unless
schema.speedups hands graphql-core its lean resolver instead.
"""

from __future__ import annotations

from asyncio import Future
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import strawberry
from strawberry.types.field import StrawberryField

from domain.paging import CountKey, ListRequest, ParentPage
from resolvers import lists
from schema.connection import Connection
from schema.field_decorators import Resolver
from schema.field_decorators import field as resolved_field

if TYPE_CHECKING:
    from resolvers.context import Context

LEAN = "paygraph.lean"  # field metadata: the resolver takes only (root, info)
RELATION = "paygraph.relation"  # field metadata: (id loader, attribute holding the key)
CHILDREN = "paygraph.children"  # field metadata: a ChildList
DEFINITION = "strawberry-definition"  # where Strawberry keeps a GraphQL field's origin


def lean(description: str, **metadata: Any) -> Callable[[Resolver], StrawberryField]:
    """Decorates a resolver taking its parent (`self` or a `strawberry.Parent`), or its
    parent and `info`, that graphql-core calls directly; `metadata` tells the read
    catalog what it reads (schema.compiled_plan)."""
    return resolved_field(description=description, metadata={LEAN: True, **metadata})


def lean_field(resolver: Callable[..., Any], description: str, **metadata: Any) -> Any:
    """A field whose `resolver(root, info)` graphql-core calls directly."""
    return strawberry.field(
        resolver=resolver, description=description, metadata={LEAN: True, **metadata}
    )


# A connection, or an awaitable of it when its page is not loaded yet.
PageOrPending: TypeAlias = "Connection[Any] | Awaitable[Connection[Any]]"


@dataclass(frozen=True)
class ChildList:
    """A paged relation: `request` turns the field's (Python-named) arguments into the
    ListRequest of every parent's page of `relation`."""

    relation: str
    request: Callable[..., ListRequest]

    def page(self, context: Context, parent_id: int, request: ListRequest) -> PageOrPending:
        """The parent's connection, at once when its page is loaded (prefetched), else
        an awaitable of it."""
        pending = getattr(context.loaders, self.relation).load(ParentPage(parent_id, request))
        key = CountKey(self.relation, parent_id, request.where)
        count = lists.counter(context, key)
        if isinstance(pending, Future) and pending.done():
            return Connection.of(pending.result(), request.window, count, key)

        async def later() -> Connection[Any]:
            return Connection.of(await pending, request.window, count, key)

        return later()


def reads_attribute(definition: StrawberryField) -> bool:
    """A field without resolver that reads its attribute the default way."""
    return bool(definition.is_basic_field) and definition.default_resolver is getattr
