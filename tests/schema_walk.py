"""Operations generated from the schema itself, and a typed walk over their answers.

A property about "every field" must keep covering fields added later without being
edited, so the selections here are derived from the GraphQL schema: every scalar and
enum, one `{ id }` hop along every object edge, and the first page of every connection.
Walking an answer with the document that produced it tells each leaf which type and
field it came from, so ids, database ids and cursors can be recognised wherever they sit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    is_required_argument,
    parse,
)

from domain.paging import MAX_PAGE_SIZE

NODE_INTERFACE = "Node"


class UnwalkableField(Exception):
    """A field the generator cannot call on its own (e.g. a new required argument): the
    walk must be taught about it rather than silently skip it."""


# Object types that show another Node's rows in another light (a Reseller is a Partner
# of kind RESELLER): not Nodes, but a hop to one selects `{ id }` like a hop to a Node,
# which also keeps `Reseller.parent` from walking in a cycle.
VIEW_TYPES = frozenset({"Reseller"})


def is_node(named: GraphQLNamedType) -> bool:
    """The Node interface itself, or an object type implementing it."""
    if isinstance(named, GraphQLInterfaceType):
        return named.name == NODE_INTERFACE
    if isinstance(named, GraphQLObjectType):
        return any(interface.name == NODE_INTERFACE for interface in named.interfaces)
    return False


def node_types(schema: GraphQLSchema) -> list[GraphQLObjectType]:
    return [t for t in schema.type_map.values() if isinstance(t, GraphQLObjectType) and is_node(t)]


def connection_node(named: GraphQLNamedType) -> GraphQLNamedType | None:
    """The row type of a Relay-style connection type, or None for any other type."""
    if not isinstance(named, GraphQLObjectType):
        return None
    if not {"edges", "nodes", "pageInfo", "totalCount"} <= named.fields.keys():
        return None
    return get_named_type(named.fields["nodes"].type)


# The walk's choice for a required argument, by the argument's type: group payments by
# every key that hops to a Node, and two that do not.
REQUIRED_VALUES = {"PaymentGroupKey": "[MERCHANT, TERMINAL, CURRENCY, STATUS]"}


def arguments(owner: str, name: str, field: GraphQLField) -> str:
    """The largest page for a paged field; optional arguments otherwise left out."""
    given = []
    for arg_name, arg in field.args.items():
        chosen = REQUIRED_VALUES.get(get_named_type(arg.type).name)
        if arg_name == "first":
            given.append(f"first: {MAX_PAGE_SIZE}")
        elif is_required_argument(arg) and chosen is not None:
            given.append(f"{arg_name}: {chosen}")
        elif is_required_argument(arg):
            raise UnwalkableField(f"{owner}.{name} needs `{arg_name}`; teach the walk about it")
    return f"({', '.join(given)})" if given else ""


def connection_selection(connection: GraphQLObjectType) -> str:
    page_info = get_named_type(connection.fields["pageInfo"].type)
    assert isinstance(page_info, GraphQLObjectType)
    return (
        f"totalCount pageInfo {{ {value_selection(page_info)} }} edges {{ cursor }} nodes {{ id }}"
    )


def value_selection(object_type: GraphQLObjectType, _path: tuple[str, ...] = ()) -> str:
    """Every field of an object type, one level deep: scalars and enums as they are, a
    Node or a view (VIEW_TYPES) as `{ id }`, a connection as its first page, a value
    object (Money, PageInfo, Tenant, Viewer) with its own fields."""
    if object_type.name in _path:
        raise UnwalkableField(f"value objects nest in a cycle: {[*_path, object_type.name]}")
    parts = []
    for name, field in object_type.fields.items():
        named = get_named_type(field.type)
        call = name + arguments(object_type.name, name, field)
        if is_leaf_type(named):
            parts.append(call)
        elif is_node(named) or named.name in VIEW_TYPES:
            parts.append(f"{call} {{ id }}")
        elif isinstance(named, GraphQLObjectType) and connection_node(named) is not None:
            parts.append(f"{call} {{ {connection_selection(named)} }}")
        elif isinstance(named, GraphQLObjectType):
            inner = value_selection(named, (*_path, object_type.name))
            parts.append(f"{call} {{ {inner} }}")
        else:
            raise UnwalkableField(f"{object_type.name}.{name} returns {named}")
    return " ".join(parts)


def fragment_name(type_name: str) -> str:
    return f"All{type_name}"


def fragments(schema: GraphQLSchema, type_names: Iterable[str]) -> str:
    """`fragment AllPayment on Payment { ... }` for each type named (GraphQL refuses
    unused fragments, so only those)."""
    lines = []
    for name in sorted(set(type_names)):
        object_type = schema.get_type(name)
        assert isinstance(object_type, GraphQLObjectType), name
        lines.append(
            f"fragment {fragment_name(name)} on {name} {{ {value_selection(object_type)} }}"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class RootFields:
    """The root Query fields, sorted by how they are called."""

    connections: dict[str, str]  # payments, invoices, ... (called with `first`) -> row type
    lookups: dict[str, GraphQLNamedType]  # node, payment, ... (called with `id`) -> type
    others: list[str]  # viewer: called without arguments


def root_fields(schema: GraphQLSchema) -> RootFields:
    query = schema.query_type
    assert query is not None
    connections, lookups, others = {}, {}, []
    for name, field in query.fields.items():
        named = get_named_type(field.type)
        if (row_type := connection_node(named)) is not None:
            connections[name] = row_type.name
        elif "id" in field.args:
            lookups[name] = named
        else:
            arguments("Query", name, field)  # raises if it needs something
            others.append(name)
    return RootFields(connections, lookups, others)


def possible_types(schema: GraphQLSchema, named: GraphQLNamedType) -> set[str]:
    """The object types a field of type `named` can answer with."""
    if is_abstract_type(named):
        return {t.name for t in schema.get_possible_types(named)}
    return {named.name}


def lists_document(schema: GraphQLSchema) -> str:
    """First page of every root connection, plus every argument-less root field."""
    query = schema.query_type
    assert query is not None
    roots = root_fields(schema)
    parts = []
    for name in roots.connections:
        connection = get_named_type(query.fields[name].type)
        assert isinstance(connection, GraphQLObjectType)
        call = name + arguments("Query", name, query.fields[name])
        parts.append(f"{call} {{ {connection_selection(connection)} }}")
    for name in roots.others:
        named = get_named_type(query.fields[name].type)
        assert isinstance(named, GraphQLObjectType)
        parts.append(f"{name} {{ {value_selection(named)} }}")
    return "query Lists {\n  " + "\n  ".join(parts) + "\n}"


@dataclass(frozen=True)
class Lookup:
    """One aliased root lookup: `alias: field(id: "given") { ... }`."""

    alias: str
    field: str
    given: str
    type_name: str


def lookups_document(lookups: Iterable[Lookup], schema: GraphQLSchema) -> str:
    """Many lookups in one operation, each selecting every field of its object's type."""
    lookups = list(lookups)
    lines = [
        f"{lookup.alias}: {lookup.field}(id: {json.dumps(lookup.given)}) "
        f"{{ __typename ...{fragment_name(lookup.type_name)} }}"
        for lookup in lookups
    ]
    used = fragments(schema, (lookup.type_name for lookup in lookups))
    return "query Lookups {\n  " + "\n  ".join(lines) + "\n}\n" + used


@dataclass(frozen=True)
class Leaf:
    """A scalar or enum in an answer, with where it came from."""

    owner: str  # the type whose field this is (Payment, PageInfo, Tenant, Node, ...)
    field: str
    scalar: str  # ID, Int, String, DateTime, PaymentStatus, ...
    value: Any
    connection_node: str | None  # row type of the innermost enclosing connection
    path: tuple[str | int, ...]  # response keys and list indexes from the root


def map_leaves(
    schema: GraphQLSchema, document: str, data: dict[str, Any], leaf: Callable[[Leaf], Any]
) -> dict[str, Any]:
    """A copy of `data` (the answer to `document`) with every leaf replaced by
    `leaf(...)`: the walk follows the document, so aliases and fragments are resolved the
    way the executor resolved them."""
    ast = parse(document)
    operation = next(d for d in ast.definitions if isinstance(d, OperationDefinitionNode))
    named_fragments = {
        d.name.value: d for d in ast.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walker = _Walker(schema, named_fragments, leaf)
    assert schema.query_type is not None
    return walker.object(schema.query_type, operation.selection_set, data, None, ())


@dataclass
class _Walker:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    leaf: Callable[[Leaf], Any]

    def object(
        self,
        owner: GraphQLObjectType | GraphQLInterfaceType,
        selections: SelectionSetNode,
        value: dict[str, Any],
        connection: str | None,
        path: tuple[str | int, ...],
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                key = selection.alias.value if selection.alias else name
                if name == "__typename":
                    out[key] = value[key]
                    continue
                field = owner.fields[name]
                out[key] = self.value(
                    owner,
                    name,
                    field.type,
                    selection.selection_set,
                    value[key],
                    connection,
                    (*path, key),
                )
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                condition, inner = fragment.type_condition.name.value, fragment.selection_set
            else:
                assert isinstance(selection, InlineFragmentNode)
                assert selection.type_condition is not None
                condition = selection.type_condition.name.value
                inner = selection.selection_set
            if condition in (owner.name, value.get("__typename")):
                fragment_type = self.schema.get_type(condition)
                assert isinstance(fragment_type, GraphQLObjectType | GraphQLInterfaceType)
                out.update(self.object(fragment_type, inner, value, connection, path))
        return out

    def value(
        self,
        owner: GraphQLObjectType | GraphQLInterfaceType,
        name: str,
        output: GraphQLOutputType,
        selections: SelectionSetNode | None,
        value: Any,
        connection: str | None,
        path: tuple[str | int, ...],
    ) -> Any:
        if value is None:
            return None
        if isinstance(output, GraphQLNonNull):
            return self.value(owner, name, output.of_type, selections, value, connection, path)
        if isinstance(output, GraphQLList):
            return [
                self.value(owner, name, output.of_type, selections, item, connection, (*path, i))
                for i, item in enumerate(value)
            ]
        if is_leaf_type(output):
            return self.leaf(Leaf(owner.name, name, output.name, value, connection, path))
        assert selections is not None
        assert isinstance(output, GraphQLObjectType | GraphQLInterfaceType)
        row_type = connection_node(output)
        inner_connection = row_type.name if row_type is not None else connection
        return self.object(output, selections, value, inner_connection, path)
