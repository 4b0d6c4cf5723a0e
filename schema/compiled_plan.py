"""Plan a root field for compiled execution: the selection (as graphql-core collects it:
aliases, fragments, @skip/@include applied) turned into a domain.read_plan tree, or
None when some field of it is not covered by the read catalog.

What the catalog covers is read off the schema's own declarations, so nothing here
repeats a relation: a Node's `id`; a field without resolver whose attribute is a column
of its type's table; `databaseId`; enums; `to_one` relations (their loader and key);
`ChildList` connections (their relation and the request their resolver builds); root
lookups and root lists (their loader, relation and request); the money fields marked
with their columns; the partner portfolio API's partner page and `groupBy`. Arguments are converted
and checked exactly as the resolvers do it, so a field whose arguments are refused is
not compiled: the resolver path answers it, with its error at its path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
)
from graphql.execution.collect_fields import FieldDetailsList, collect_subfields
from graphql.execution.values import get_argument_values
from strawberry.types.arguments import convert_arguments

from domain import aggregates as a
from domain import read_plan as p
from domain.errors import DomainError
from schema.field_kinds import CHILDREN, DEFINITION, RELATION, reads_attribute

ROOT_LIST = "paygraph.root_list"  # (relation, request(**arguments)): schema.fields
LOOKUP = "paygraph.lookup"  # (id loader, row id(**arguments)): schema.query
MONEY = "paygraph.money"  # (amount column, currency column): a Money field
AMOUNTS = "paygraph.amounts"  # {field: (amount column, currency column)}: PaymentAmounts
PARTNER_PAGE = (
    "paygraph.partner_page"  # (relation, request(**arguments)): the partner portfolio API
)
GROUPS = "paygraph.groups"  # (by, window) of (**arguments): groupBy
AGGREGATE = "paygraph.aggregate"  # a list's `aggregate`

SCALARS = {
    "String": p.Output.TEXT,
    "Int": p.Output.NUMBER,
    "Boolean": p.Output.BOOLEAN,
    "BigInt": p.Output.BIG_INT,
    "DateTime": p.Output.DATE_TIME,
    "Date": p.Output.DATE,
}
# The parts of the money-shaped types, by type and field.
MONEY_PARTS: dict[str, dict[str, p.MoneyPart]] = {
    "Money": {
        "amount": p.MoneyPart.AMOUNT,
        "currency": p.MoneyPart.CURRENCY,
        "precision": p.MoneyPart.PRECISION,
        "currencyNumeric": p.MoneyPart.NUMERIC,
    },
    "CurrencyAmount": {
        "amount": p.MoneyPart.AMOUNT,
        "amountPrecision": p.MoneyPart.PRECISION,
        "currencyId": p.MoneyPart.NUMERIC,
    },
}
PAGE_INFO = {
    "hasNextPage": p.PagePart.HAS_NEXT,
    "hasPreviousPage": p.PagePart.HAS_PREVIOUS,
    "startCursor": p.PagePart.START_CURSOR,
    "endCursor": p.PagePart.END_CURSOR,
}
MEASURES = {"sum": p.Measure.SUM, "avg": p.Measure.AVG, "min": p.Measure.MIN, "max": p.Measure.MAX}
MEASURED_COLUMNS = {
    "amount": "amount",
    "paidAmount": "paid_amount",
    "settleableAmount": "settleable_amount",
}
GROUP_KEYS = {
    "currency": a.GroupKey.CURRENCY,
    "status": a.GroupKey.STATUS,
    "kind": a.GroupKey.KIND,
    "day": a.GroupKey.DAY,
    "month": a.GroupKey.MONTH,
}
GROUP_ROWS = {"merchant": a.GroupKey.MERCHANT, "terminal": a.GroupKey.TERMINAL}


class Uncovered(Exception):
    """Some field of the selection is not in the catalog."""


class Planner:
    """Plans the root fields of one operation execution (its variables fixed)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Any,
        variable_values: Any,
        operation: Any,
        scalars: Any,
        config: Any,
        loader_of_type: Mapping[str, str],
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._variables = variable_values
        self._operation = operation
        self._scalars = scalars
        self._config = config
        self._loader_of_type = loader_of_type

    def root(self, field: GraphQLField, details: FieldDetailsList) -> p.Root | None:
        """The plan of a root field, or None when it is not covered."""
        try:
            return self._root(field, details)
        except (Uncovered, DomainError):
            return None

    # Roots --------------------------------------------------------------------------

    def _root(self, field: GraphQLField, details: FieldDetailsList) -> p.Root:
        metadata = _metadata(field)
        if ROOT_LIST in metadata:
            relation, build = metadata[ROOT_LIST]
            request = build(**self._arguments(field, details))
            node_type = _object(field.type)
            return p.ListShape(relation, request, self._list(node_type, details))
        if LOOKUP in metadata:
            row_id = metadata[LOOKUP](**self._arguments(field, details))
            row_type = _object(field.type)
            return p.Lookup(self._row(row_type, details), row_id)
        raise Uncovered(field)

    # Objects ------------------------------------------------------------------------

    def _subfields(
        self, object_type: GraphQLObjectType, details: FieldDetailsList
    ) -> list[tuple[str, GraphQLField | None, FieldDetailsList]]:
        collected = collect_subfields(
            self._schema, self._fragments, self._variables, self._operation, object_type, details
        )
        if collected.new_defer_usages:
            raise Uncovered("@defer")
        found = []
        for key, field_details in collected.grouped_field_set.items():
            if any(d.fragment_variable_values or d.defer_usage for d in field_details):
                raise Uncovered("fragment variables or @defer")
            name = field_details[0].node.name.value
            found.append((key, object_type.fields.get(name), field_details))
        return found

    def _fields(
        self,
        object_type: GraphQLObjectType,
        details: FieldDetailsList,
        plan_field: Callable[[str, GraphQLField, FieldDetailsList], p.Node],
    ) -> p.Fields:
        fields: list[tuple[str, p.Node]] = []
        for key, field, field_details in self._subfields(object_type, details):
            name = field_details[0].node.name.value
            if name == "__typename":
                fields.append((key, p.Constant(object_type.name)))
            elif field is None:
                raise Uncovered(name)
            else:
                fields.append((key, plan_field(name, field, field_details)))
        return tuple(fields)

    def _row(self, object_type: GraphQLObjectType, details: FieldDetailsList) -> p.RowShape:
        loader = self._loader_of_type.get(object_type.name)
        if loader is None:
            raise Uncovered(object_type.name)
        is_node = any(interface.name == "Node" for interface in object_type.interfaces)

        def plan_field(name: str, field: GraphQLField, details: FieldDetailsList) -> p.Node:
            if is_node and name == "id":
                return p.GlobalId(object_type.name)
            if name == "databaseId":
                return p.Scalar("id", p.Output.NUMBER)
            return self._row_field(field, details)

        return p.RowShape(loader, self._fields(object_type, details, plan_field))

    def _row_field(self, field: GraphQLField, details: FieldDetailsList) -> p.Node:
        metadata = _metadata(field)
        definition = _definition(field)
        if RELATION in metadata:
            loader, key = metadata[RELATION]
            target = self._row(_object(field.type), details)
            if target.table != loader:
                raise Uncovered(loader)
            return p.ToOne(key, target)
        if CHILDREN in metadata:
            children = metadata[CHILDREN]
            request = children.request(**self._arguments(field, details))
            return p.ListShape(
                children.relation, request, self._list(_object(field.type), details), "id"
            )
        if PARTNER_PAGE in metadata:
            relation, build = metadata[PARTNER_PAGE]
            arguments = self._arguments(field, details)
            page = self._partner_page(_object(field.type), details, arguments)
            return p.ListShape(relation, build(**arguments), page, "id")
        if MONEY in metadata:
            amount, currency = metadata[MONEY]
            return self._money(amount, currency, _object(field.type), details)
        if AMOUNTS in metadata:
            return self._amounts(metadata[AMOUNTS], _object(field.type), details)
        if definition is None or not reads_attribute(definition) or field.args:
            raise Uncovered(field)
        return self._column(definition.python_name, field.type)

    def _column(self, column: str, output_type: Any) -> p.Node:
        named = output_type.of_type if isinstance(output_type, GraphQLNonNull) else output_type
        if isinstance(named, GraphQLEnumType):
            names = tuple((_stored(value.value), name) for name, value in named.values.items())
            return p.EnumName(column, names)
        if isinstance(named, GraphQLScalarType) and named.name in SCALARS:
            return p.Scalar(column, SCALARS[named.name])
        raise Uncovered(column)

    # Money --------------------------------------------------------------------------

    def _money_fields(self, object_type: GraphQLObjectType, details: FieldDetailsList) -> Any:
        parts = MONEY_PARTS.get(object_type.name)

        def plan_field(name: str, field: GraphQLField, details: FieldDetailsList) -> Any:
            if parts is not None and name in parts:
                return parts[name]
            if object_type.name == "PaymentAmount" and name in ("inPaymentCurrency", "money"):
                return p.Composite(self._money_fields(_object(field.type), details))
            raise Uncovered(name)

        return self._fields(object_type, details, plan_field)

    def _money(
        self, amount: str, currency: str, object_type: GraphQLObjectType, details: FieldDetailsList
    ) -> p.MoneyShape:
        return p.MoneyShape(amount, currency, self._money_fields(object_type, details))

    def _amounts(
        self,
        columns: Mapping[str, tuple[str, str]],
        object_type: GraphQLObjectType,
        details: FieldDetailsList,
    ) -> p.Composite:
        def plan_field(name: str, field: GraphQLField, details: FieldDetailsList) -> p.Node:
            if name not in columns:
                raise Uncovered(name)
            amount, currency = columns[name]
            return self._money(amount, currency, _object(field.type), details)

        return p.Composite(self._fields(object_type, details, plan_field))

    # Lists --------------------------------------------------------------------------

    def _list(self, connection: GraphQLObjectType, details: FieldDetailsList) -> p.Fields:
        def plan_field(name: str, field: GraphQLField, details: FieldDetailsList) -> p.Node:
            if name == "nodes":
                return p.Rows(self._row(_object(field.type, lists=True), details))
            if name == "edges":
                return p.Edges(self._edge(_object(field.type, lists=True), details))
            if name == "pageInfo":
                return p.Composite(self._page_info(_object(field.type), details))
            if name == "totalCount":
                return p.Counted(p.PagePart.TOTAL_COUNT)
            if name == "meta":
                return p.Composite(self._meta(_object(field.type), details))
            return self._measured_list(name, field, details)

        return self._fields(connection, details, plan_field)

    def _measured_list(self, name: str, field: GraphQLField, details: FieldDetailsList) -> p.Node:
        """`groupBy` and `aggregate`, on any list that measures itself."""
        if name == "groupBy" and GROUPS in _metadata(field):
            return self._groups(field, details)
        if name == "aggregate" and AGGREGATE in _metadata(field):
            return p.Aggregate(self._group_fields(_object(field.type), details, keys=False))
        raise Uncovered(name)

    def _meta(self, meta: GraphQLObjectType, details: FieldDetailsList) -> p.Fields:
        parts = {
            "currentPage": p.PagePart.CURRENT_PAGE,
            "perPage": p.PagePart.PER_PAGE,
            "totalCount": p.PagePart.TOTAL_COUNT,
            "totalPages": p.PagePart.TOTAL_PAGES,
        }

        def plan_field(name: str, field: GraphQLField, details: FieldDetailsList) -> p.Node:
            if name in parts:
                return p.Counted(parts[name])
            raise Uncovered(name)

        return self._fields(meta, details, plan_field)

    def _partner_page(
        self, page: GraphQLObjectType, details: FieldDetailsList, arguments: Mapping[str, Any]
    ) -> p.Fields:

        def plan_field(name: str, field: GraphQLField, details: FieldDetailsList) -> p.Node:
            if name == "data":
                return p.Rows(self._row(_object(field.type, lists=True), details))
            if name == "page":
                return p.Constant(arguments.get("page", 0))
            if name == "pageSize":
                return p.Constant(arguments["page_size"])
            if name == "total":
                return p.Counted(p.PagePart.TOTAL_COUNT)
            return self._measured_list(name, field, details)

        return self._fields(page, details, plan_field)

    def _edge(self, edge: GraphQLObjectType, details: FieldDetailsList) -> p.Fields:
        def plan_field(name: str, field: GraphQLField, details: FieldDetailsList) -> p.Node:
            if name == "cursor":
                return p.EdgeCursor()
            if name == "node":
                return self._row(_object(field.type), details)
            raise Uncovered(name)

        return self._fields(edge, details, plan_field)

    def _page_info(self, page_info: GraphQLObjectType, details: FieldDetailsList) -> p.Fields:
        def plan_field(name: str, field: GraphQLField, details: FieldDetailsList) -> p.Node:
            if name in PAGE_INFO:
                return p.Counted(PAGE_INFO[name])
            raise Uncovered(name)

        return self._fields(page_info, details, plan_field)

    # Groups -------------------------------------------------------------------------

    def _groups(self, field: GraphQLField, details: FieldDetailsList) -> p.Groups:
        by, window = _metadata(field)[GROUPS](**self._arguments(field, details))

        def page_field(name: str, field: GraphQLField, details: FieldDetailsList) -> p.Node:
            if name == "hasNextPage":
                return p.GroupCounted(p.GroupPart.HAS_NEXT)
            if name == "hasPreviousPage":
                return p.GroupCounted(p.GroupPart.HAS_PREVIOUS)
            if name == "nodes":
                group = _object(field.type, lists=True)
                return p.GroupNodes(self._group_fields(group, details, keys=True))
            raise Uncovered(name)

        return p.Groups(by, window, self._fields(_object(field.type), details, page_field))

    def _group_fields(
        self, group: GraphQLObjectType, details: FieldDetailsList, *, keys: bool
    ) -> p.Fields:
        """A group's fields (or, without `keys`, an aggregate's): its count, keys and
        measures."""

        def group_field(name: str, field: GraphQLField, details: FieldDetailsList) -> p.Node:
            if name == "count":
                return p.GroupCounted(p.GroupPart.COUNT)
            if name == "keys" and keys:
                return p.Composite(self._fields(_object(field.type), details, key_field))
            if name in MEASURES:
                measure = MEASURES[name]
                measured = _object(field.type, lists=True)
                return p.Measures(measure, self._fields(measured, details, measure_field))
            raise Uncovered(name)

        def key_field(name: str, field: GraphQLField, details: FieldDetailsList) -> p.Node:
            if name in GROUP_KEYS:
                key = GROUP_KEYS[name]
                named = _named(field.type)
                names = (
                    tuple((_stored(v.value), n) for n, v in named.values.items())
                    if isinstance(named, GraphQLEnumType)
                    else ()
                )
                return p.KeyValue(key, names)
            if name in GROUP_ROWS:
                return p.KeyRow(GROUP_ROWS[name], self._row(_object(field.type), details))
            raise Uncovered(name)

        def measure_field(name: str, field: GraphQLField, details: FieldDetailsList) -> p.Node:
            if name == "currency":
                return p.MeasureCurrency()
            if name == "count":
                return p.GroupCounted(p.GroupPart.COUNT)
            if name in MEASURED_COLUMNS:
                fields = self._money_fields(_object(field.type), details)
                return p.MeasuredMoney(MEASURED_COLUMNS[name], fields)
            raise Uncovered(name)

        return self._fields(group, details, group_field)

    # Arguments ----------------------------------------------------------------------

    def _arguments(self, field: GraphQLField, details: FieldDetailsList) -> dict[str, Any]:
        """The field's arguments as its resolver receives them: Python names, defaults
        filled in, inputs converted (validation made merged nodes' arguments equal)."""
        raw = get_argument_values(field, details[0].node, self._variables)
        definition = _definition(field)
        if definition is None:
            raise Uncovered(field)
        return dict(convert_arguments(raw, definition.arguments, self._scalars, self._config))


def _metadata(field: GraphQLField) -> Mapping[str, Any]:
    definition = _definition(field)
    return getattr(definition, "metadata", None) or {}


def _definition(field: GraphQLField) -> Any:
    return (field.extensions or {}).get(DEFINITION)


def _named(output_type: Any, *, lists: bool = False) -> Any:
    """The named type under NonNull (and, when `lists`, under one list)."""
    seen_list = False
    while isinstance(output_type, GraphQLNonNull | GraphQLList):
        if isinstance(output_type, GraphQLList):
            if not lists or seen_list:
                raise Uncovered("list")
            seen_list = True
        output_type = output_type.of_type
    return output_type


def _object(output_type: Any, *, lists: bool = False) -> GraphQLObjectType:
    named = _named(output_type, lists=lists)
    if not isinstance(named, GraphQLObjectType):
        raise Uncovered(named)
    return named


def _stored(value: Any) -> str:
    """An enum member's stored value (Strawberry keeps the Python member)."""
    return str(getattr(value, "value", value))
