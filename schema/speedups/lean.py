"""Lean resolvers: fields resolved on every row of a page get their resolver handed to
graphql-core as it is, once the schema is built.

Strawberry wraps every resolver in a per-call layer (an Info object, argument
conversion, the field-extension chain) that costs more than these resolvers themselves,
and a page of rows resolves thousands of them: every row's global `id`, `databaseId`,
amounts, to-one relations and nested lists. A lean resolver (schema.field_kinds) takes
its parent, then `info` if it needs it, as graphql-core passes them (`root, info`), and
uses nothing of `info` but `info.context`, which graphql-core's resolve info and
Strawberry's `Info` both carry, so it runs the same under either. A nested list
(`ChildList`) converts its arguments to a ListRequest once per field node and request
instead of once per parent. Fields with permissions or field extensions never qualify.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import FieldNode, GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField
from strawberry.types.fields.resolver import StrawberryResolver

from domain.paging import ListRequest
from resolvers.cursors import encode
from schema.field_kinds import CHILDREN, DEFINITION, LEAN, ChildList, reads_attribute

if TYPE_CHECKING:
    from resolvers.context import Context


class ListRequests:
    """The request of a ChildList field at a field node, converted once per request."""

    def __init__(self, schema: strawberry.Schema) -> None:
        self._config = schema.config
        self._scalars = schema.schema_converter.scalar_registry

    def of(
        self,
        context: Context,
        definition: Any,
        node: FieldNode,
        arguments: Mapping[str, Any],
    ) -> ListRequest:
        # Variables are fixed for the request, so a node's arguments are too.
        found: ListRequest | None = context.list_requests.get(node)
        if found is None:
            kwargs = convert_arguments(
                dict(arguments), definition.arguments, self._scalars, self._config
            )
            found = context.list_requests[node] = definition.metadata[CHILDREN].request(**kwargs)
        return found


def global_id(type_name: str) -> Callable[[Any, Any], str]:
    """The `id` of a Node type, as Strawberry's relay field writes it: base64 of
    `<Type>:<row id>`."""

    def resolve(root: Any, _info: Any) -> str:
        return encode(type_name, root.id)

    return resolve


def use_lean_resolvers(schema: strawberry.Schema, graphql_schema: GraphQLSchema) -> None:
    """Give graphql-core the lean fields' own resolvers, every Node type's `id` the
    direct encoding (our rows are domain entities, never Strawberry Node instances, so
    relay's resolver always takes its slow path to the same string), and every field
    without a resolver a plain attribute read."""
    requests = ListRequests(schema)
    for type_ in graphql_schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        is_node = any(interface.name == "Node" for interface in type_.interfaces)
        for name, field in type_.fields.items():
            definition: StrawberryField | None = (field.extensions or {}).get(DEFINITION)
            if definition is None:
                continue  # not a field Strawberry built: left as it is
            metadata: Mapping[Any, Any] = definition.metadata or {}
            if metadata.get(LEAN) or metadata.get(CHILDREN):
                assert not definition.extensions and not definition.permission_classes, name
            if metadata.get(LEAN):
                assert not field.args and definition.base_resolver is not None, name
                field.resolve = _plain(definition.base_resolver)
            elif metadata.get(CHILDREN):
                field.resolve = _child_list(requests, definition)
            elif is_node and name == "id":
                field.resolve = global_id(type_.name)
            elif getattr(field.resolve, "_is_default", False) and reads_attribute(definition):
                field.resolve = _attribute(definition.python_name)


def _attribute(name: str) -> Callable[[Any, Any], Any]:
    # What Strawberry's basic-field resolver ends in, minus its layers of calls.
    def resolve(root: Any, _info: Any) -> Any:
        return getattr(root, name)

    return resolve


def _plain(resolver: StrawberryResolver[Any]) -> Callable[[Any, Any], Any]:
    """The resolver as graphql-core calls it, `(root, info)`: its parent (`self`, `root`
    or a `strawberry.Parent`) comes first, then `info` if it takes it."""
    function = resolver.wrapped_func  # a static method is bound (a function) by now
    assert not isinstance(function, staticmethod | classmethod), resolver.name
    parameters = list(resolver.signature.parameters.values())
    parent = resolver.parent_parameter or resolver.root_parameter or resolver.self_parameter
    assert parameters[:1] == [parent], f"{resolver.name}: its parent comes first"
    if resolver.info_parameter is None:
        assert len(parameters) == 1, resolver.name
        return lambda root, _info: function(root)
    assert parameters[1:] == [resolver.info_parameter], f"{resolver.name}: then info"
    return function


def _child_list(requests: ListRequests, definition: Any) -> Callable[..., Awaitable[Any] | Any]:
    children: ChildList = definition.metadata[CHILDREN]

    def resolve(root: Any, info: GraphQLResolveInfo[Context], **arguments: Any) -> Any:
        request = requests.of(info.context, definition, info.field_nodes[0], arguments)
        return children.page(info.context, root.id, request)

    return resolve
