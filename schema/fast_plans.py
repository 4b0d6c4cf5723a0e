"""What FastExecutor (schema/fast_execution.py) works from: the mark on a plain field
(`mark_fast`, set by schema/lean.py when the schema is built) and a selection compiled
into a `Plan` of `Step`s, one per response key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLObjectType,
    GraphQLScalarType,
    get_nullable_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetailsList

FAST = "paygraph.fast"  # GraphQLField extension: how FastExecutor completes the field


@dataclass(frozen=True, slots=True)
class FastField:
    """A plain field's type: `leaf` or `object`, maybe a list of them (`is_list`,
    `item_non_null`), whether it is non-null, and whether its resolver takes arguments."""

    non_null: bool
    leaf: GraphQLLeafType | None = None
    object: GraphQLObjectType | None = None
    is_list: bool = False
    item_non_null: bool = False
    with_arguments: bool = False


class Step(NamedTuple):
    """How one response key of a compiled selection is completed: `general` steps go
    graphql-core's way; the others are `__typename` (`typename`), a plain leaf
    (`leaf`) or a plain object whose selection compiles whole (`object`, `plan`), or a
    list of either (`is_list`); a lean resolver with arguments gets `arguments` and its
    `info`."""

    key: str
    field_details_list: FieldDetailsList
    general: bool
    typename: str | None = None
    resolve: Callable[..., Any] | None = None
    non_null: bool = False
    leaf: GraphQLLeafType | None = None
    object: GraphQLObjectType | None = None
    plan: Plan | None = None
    is_list: bool = False
    item_non_null: bool = False
    arguments: dict[str, Any] | None = None
    info: Any = None


class Plan(NamedTuple):
    """A selection of one object type, compiled: its steps in response order, and
    whether all of them are compiled (`whole`), so that it fills in with no path."""

    steps: tuple[Step, ...]
    whole: bool


class Unusual(Exception):
    """A compiled field met something graphql-core's way must handle."""


@dataclass(frozen=True, slots=True)
class ContextOnly:
    """All of its resolve info that a plain resolver uses."""

    context: Any


@dataclass(frozen=True, slots=True)
class ContextAndNodes:
    """All of its resolve info that a lean resolver with arguments uses."""

    context: Any
    field_nodes: list[Any]


def mark_fast(field: GraphQLField, *, with_arguments: bool = False) -> None:
    """Let FastExecutor complete `field`, whose resolver is plain (see the module doc),
    when its type is a leaf or an object type or a list of them, maybe non-null;
    `with_arguments` when the resolver takes the field's arguments (and reads no more of
    its info than `context` and `field_nodes`)."""
    assert with_arguments or not field.args
    non_null = is_non_null_type(field.type)
    named = get_nullable_type(field.type)
    is_list = item_non_null = False
    if isinstance(named, GraphQLList):
        is_list, item_non_null = True, is_non_null_type(named.of_type)
        named = get_nullable_type(named.of_type)
    shape = {"is_list": is_list, "item_non_null": item_non_null}
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        field.extensions[FAST] = FastField(
            non_null, leaf=named, with_arguments=with_arguments, **shape
        )
    elif isinstance(named, GraphQLObjectType):
        field.extensions[FAST] = FastField(
            non_null, object=named, with_arguments=with_arguments, **shape
        )
