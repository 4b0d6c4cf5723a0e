"""Every root field is guarded by the permission matrix (domain.permissions), wrapped
once when the schema is built. A root field without a row in the matrix stops the
schema from building, so a new query or mutation cannot ship unguarded; nested fields
need no check because every row they load is limited by the caller's read scope."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from graphql import GraphQLResolveInfo, GraphQLSchema, default_field_resolver

from domain.permissions import OPERATIONS, authorize

if TYPE_CHECKING:
    from resolvers.context import Context


class UnguardedOperation(RuntimeError):
    pass


def guard_root_fields(graphql_schema: GraphQLSchema) -> None:
    roots = (graphql_schema.query_type, graphql_schema.mutation_type)
    for root in (*roots, graphql_schema.subscription_type):
        if root is None:
            continue
        for name, field in root.fields.items():
            operation = f"{root.name}.{name}"
            if operation not in OPERATIONS:
                raise UnguardedOperation(
                    f"{operation} has no row in the permission matrix (domain/permissions.py)"
                )
            field.resolve = _guarded(field.resolve or default_field_resolver, operation)
            if field.subscribe is not None:
                field.subscribe = _guarded(field.subscribe, operation)


def _guarded(resolve: Callable[..., Any], operation: str) -> Callable[..., Any]:
    def guarded(source: Any, info: GraphQLResolveInfo[Context], **arguments: Any) -> Any:
        authorize(info.context.principal, operation)
        return resolve(source, info, **arguments)

    return guarded
