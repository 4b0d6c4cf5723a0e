"""A short way through graphql-core's executor for the fields a page resolves on every row.

graphql-core executes every field the same general way: it builds a resolve info,
looks for arguments, then completes the value by dispatching on its type (non-null,
list, leaf, abstract, object), some fifty Python calls for a field that reads an
attribute and returns a string. A dashboard page executes ~5,000 fields per request,
and that machinery was ~70 % of its profile while the resolvers are one-liners.

`schema.lean` marks (`mark_fast`) the fields whose resolver is plain: synchronous, it
reads its root and at most `info.context`, and reading again gives the same value.
For those `FastExecutor` calls the resolver with a context-only info and completes
the common cases itself, as graphql-core would: null on a nullable field; a leaf
value through its type's `coerce_output_value` (enum names, DateTime, BigInt: what
`complete_leaf_value` calls); an object through its sub-fields, after the type's
`is_type_of`. Anything else (an exception, null on a non-null field, an awaitable, a
value the type does not accept, middleware in the request) goes graphql-core's whole
way from the start, which resolves the field again and reports exactly as before.
Lists and fields with arguments always go the whole way.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLScalarType,
    get_nullable_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.execution.executor import to_nodes
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

FAST = "paygraph.fast"  # GraphQLField extension: how FastExecutor completes the field

# Values that are never awaitable: a result of one of these types needs no check.
_PLAIN_VALUES = frozenset({str, int, float, bool})


@dataclass(frozen=True, slots=True)
class FastField:
    """A plain field's type: `leaf` or `object`, and whether it is non-null."""

    non_null: bool
    leaf: GraphQLLeafType | None = None
    object: GraphQLObjectType | None = None


@dataclass(frozen=True, slots=True)
class ContextOnly:
    """All of its resolve info that a plain resolver uses."""

    context: Any


def mark_fast(field: GraphQLField) -> None:
    """Let FastExecutor complete `field`, whose resolver is plain (see the module doc),
    when its type is a leaf or an object type, maybe non-null."""
    assert not field.args
    non_null = is_non_null_type(field.type)
    named = get_nullable_type(field.type)
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        field.extensions[FAST] = FastField(non_null, leaf=named)
    elif isinstance(named, GraphQLObjectType):
        field.extensions[FAST] = FastField(non_null, object=named)


class FastExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, completing the fields marked fast without graphql-core's
    general machinery (see the module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plain_info = ContextOnly(self.context_value)
        # Middleware wraps every resolver: then the general way is the only way.
        self.fast = not (self.middleware_manager and self.middleware_manager.middlewares)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        field = parent_type.fields.get(field_details_list[0].node.name.value)
        fast: FastField | None = field.extensions.get(FAST) if field and self.fast else None
        if field is not None and fast is not None:
            try:
                result = field.resolve(source, self.plain_info)
                if result is None:
                    if not fast.non_null:
                        return None
                elif type(result) in _PLAIN_VALUES or not (
                    isinstance(result, Exception) or self.is_awaitable(result)
                ):
                    if fast.leaf is not None:
                        coerced = fast.leaf.coerce_output_value(result)
                        if coerced is not None and coerced is not Undefined:
                            return coerced
                    elif fast.object is not None and self._is_type_of(
                        fast.object, result, field, parent_type, field_details_list, path
                    ):
                        return self._complete_object(
                            fast.object, field, field_details_list, path, result, position_context
                        )
            except Exception:  # the general way resolves again and reports it
                pass
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _is_type_of(
        self,
        object_type: GraphQLObjectType,
        result: Any,
        field: GraphQLField,
        parent_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> bool:
        if object_type.is_type_of is None:
            return True
        info = self.build_resolve_info(field, to_nodes(field_details_list), parent_type, path)
        return object_type.is_type_of(result, info) is True

    def _complete_object(
        self,
        object_type: GraphQLObjectType,
        field: GraphQLField,
        field_details_list: FieldDetailsList,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        # Once sub-fields have run, errors are handled as graphql-core's execute_field
        # handles those of complete_value, never by resolving again.
        try:
            completed = self.collect_and_execute_subfields(
                object_type, field_details_list, path, result, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.type, field_details_list, path)
            return None
        if self.is_awaitable(completed):
            return self._await_completed(completed, field, field_details_list, path)
        return completed

    async def _await_completed(
        self,
        completed: Awaitable[Any],
        field: GraphQLField,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.type, field_details_list, path)
            return None
