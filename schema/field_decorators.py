"""`@field(...)`, `@mutation(...)` and `@subscription(...)`: Strawberry's decorators for
a resolver with options, typed.

Strawberry types `strawberry.field(description=...)` without a resolver as `Any`, so
under `mypy --strict` every resolver it decorates is "untyped" (and its class attribute
`Any`). These take the same options and hand the resolver to the overload of
`strawberry.field` / `strawberry.mutation` that takes one, which returns a
`StrawberryField`: same field, same schema, checked types.

A resolver whose parent is a domain entity (not an instance of the Strawberry type) is a
`@staticmethod` taking `strawberry.Parent[<entity>]`, as Strawberry's guide on accessing
parent data recommends; one whose parent is the Strawberry type itself keeps `self`.
When the Python value a resolver returns is not the Strawberry type (a domain entity),
`graphql_type` names the GraphQL type and the return annotation the Python one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

import strawberry
from strawberry.types.field import StrawberryField

# A string: `staticmethod` is generic to type checkers only.
Resolver: TypeAlias = "Callable[..., Any] | staticmethod[..., Any]"


def field(
    *,
    description: str,
    name: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    graphql_type: Any = None,
) -> Callable[[Resolver], StrawberryField]:
    """`@strawberry.field(...)` over a resolver."""

    def decorate(resolver: Resolver) -> StrawberryField:
        return strawberry.field(
            resolver,
            description=description,
            name=name,
            metadata=metadata,
            graphql_type=graphql_type,
        )

    return decorate


def mutation(
    *, description: str, graphql_type: Any = None
) -> Callable[[Resolver], StrawberryField]:
    """`@strawberry.mutation(...)` over a resolver."""

    def decorate(resolver: Resolver) -> StrawberryField:
        return strawberry.mutation(resolver, description=description, graphql_type=graphql_type)

    return decorate


def subscription(
    *, description: str, graphql_type: Any = None
) -> Callable[[Resolver], StrawberryField]:
    """`@strawberry.subscription(...)` over a resolver (an async generator)."""

    def decorate(resolver: Resolver) -> StrawberryField:
        return strawberry.subscription(resolver, description=description, graphql_type=graphql_type)

    return decorate
