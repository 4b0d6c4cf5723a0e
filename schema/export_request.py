"""What a streaming export asks for, read with the schema itself, so an export speaks
exactly the filter language of `payments` and `partnerPayments`.

A request is either a GraphQL document with variables, whose `payments` (or
`partnerPayments`) field gives the filter and sort and whose selection under `nodes`
(or `edges { node }`) names the columns, or the filter as its JSON, which is turned
into the same document. Both are validated by graphql-core, coerced by the schema's own
input types and checked by the domain, like any list request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry import Schema
from strawberry.types.arguments import convert_arguments
from strawberry.types.base import StrawberryObjectDefinition

from domain.errors import BadUserInput
from domain.filtering import Filter, SortKey
from schema.document_lists import partner_payments_request
from schema.fields import request_of
from schema.storable_text import StorableLiteralsRule, refuse_unstorable

EXPORTABLE_FIELDS = ("payments", "partnerPayments")
Fragments = dict[str, FragmentDefinitionNode]
PAGING_ARGUMENTS = ("first", "after", "last", "before", "page", "perPage", "start", "length")
FORMATS = ("csv", "ndjson")
DEFAULT_FORMAT = "csv"


class ColumnKind(Enum):
    GLOBAL_ID = "global_id"  # the Relay id of the row
    NUMBER = "number"  # a 32-bit-safe integer: a row id
    BIG_INT = "big_int"  # minor units: a string in NDJSON, like GraphQL's BigInt
    ENUM = "enum"  # the GraphQL enum name, e.g. COMPLETED
    TEXT = "text"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # the GraphQL field name, and the CSV header / NDJSON key
    column: str  # the payment table's column
    kind: ColumnKind


def _columns(*specs: tuple[str, str, ColumnKind]) -> dict[str, Column]:
    return {name: Column(name, column, kind) for name, column, kind in specs}


K = ColumnKind
# Every scalar of `Payment` an export can carry; a relation exports its row's numeric id.
COLUMNS: dict[str, Column] = _columns(
    ("id", "id", K.GLOBAL_ID),
    ("databaseId", "id", K.NUMBER),
    ("kind", "kind", K.ENUM),
    ("status", "status", K.ENUM),
    ("amount", "amount", K.BIG_INT),
    ("paidAmount", "paid_amount", K.BIG_INT),
    ("settleableAmount", "settleable_amount", K.BIG_INT),
    ("currency", "currency", K.TEXT),
    ("authorized", "authorized", K.BOOLEAN),
    ("reference", "reference", K.TEXT),
    ("documentNumber", "document_number", K.TEXT),
    ("trackingId", "tracking_id", K.TEXT),
    ("description", "description", K.TEXT),
    ("paymentDate", "payment_date", K.DATE),
    ("periodStart", "period_start", K.DATE),
    ("periodEnd", "period_end", K.DATE),
    ("paidAt", "paid_at", K.DATETIME),
    ("createdAt", "created_at", K.DATETIME),
    ("updatedAt", "updated_at", K.DATETIME),
    ("partner", "partner_id", K.NUMBER),
    ("merchant", "merchant_id", K.NUMBER),
    ("terminal", "terminal_id", K.NUMBER),
    ("company", "company_id", K.NUMBER),
    ("user", "user_id", K.NUMBER),
    ("invoice", "invoice_id", K.NUMBER),
    ("sender", "sender_id", K.NUMBER),
    ("receiver", "receiver_id", K.NUMBER),
    ("paymentMethod", "payment_method_id", K.NUMBER),
    ("authorizedBy", "authorized_by_id", K.NUMBER),
)
DEFAULT_COLUMNS: tuple[str, ...] = (
    "databaseId",
    "id",
    "kind",
    "status",
    "amount",
    "paidAmount",
    "settleableAmount",
    "currency",
    "reference",
    "partner",
    "merchant",
    "terminal",
    "invoice",
    "paymentDate",
    "createdAt",
    "updatedAt",
    "paidAt",
)

_FROM_JSON = (
    "query Export($filter: PaymentFilter, $sort: [PaymentSort!]) "
    "{ payments(filter: $filter, sort: $sort) { nodes { id } } }"
)


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """Rows matching `where`, in `order`, as `columns`, written as `format`; `operation`
    is the root field whose permission the caller needs."""

    operation: str
    where: Filter | None
    order: tuple[SortKey, ...]
    columns: tuple[Column, ...]
    format: str


def export_request(schema: Schema, body: Mapping[str, Any], format: str | None) -> ExportRequest:
    """Read an export request body: `{"query", "variables"}` or `{"filter", "sort",
    "columns"}`, and `format` (`csv` or `ndjson`). BAD_USER_INPUT when anything is off."""
    refuse_unstorable(body, "")
    chosen = _format(format if body.get("format") is None else body["format"])
    if "query" in body:
        unexpected = sorted(set(body) & {"filter", "sort", "columns"})
        if unexpected:
            raise BadUserInput(
                f"Give a `query` or a `filter`, not both: drop `{unexpected[0]}`.",
                field=unexpected[0],
            )
        query, variables, names, from_query = body["query"], body.get("variables"), None, True
    else:
        query = _FROM_JSON
        variables = {"filter": body.get("filter"), "sort": body.get("sort")}
        names, from_query = body.get("columns"), False
    if not isinstance(query, str):
        raise BadUserInput("`query` must be a GraphQL document.", field="query")
    if variables is not None and not isinstance(variables, dict):
        raise BadUserInput("`variables` must be an object.", field="variables")
    field, arguments, selected = _exported_field(schema, query, variables or {})
    if field == "partnerPayments":
        request = partner_payments_request(
            arguments.get("filter"), arguments.get("sort_by"), arguments.get("sort_type")
        )
    else:
        request = request_of("Payment", arguments.get("filter"), arguments.get("sort"))
    return ExportRequest(
        f"Query.{field}",
        request.where,
        request.order,
        _chosen_columns(selected if from_query else names),
        chosen,
    )


def _format(value: Any) -> str:
    chosen = DEFAULT_FORMAT if value is None else str(value).lower()
    if chosen not in FORMATS:
        raise BadUserInput(f"`format` must be one of {', '.join(FORMATS)}.", field="format")
    return chosen


def _chosen_columns(names: Any) -> tuple[Column, ...]:
    if not names:
        return tuple(COLUMNS[name] for name in DEFAULT_COLUMNS)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise BadUserInput("`columns` must be a list of field names.", field="columns")
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise BadUserInput(
            f"`{unknown[0]}` cannot be exported; choose from {', '.join(COLUMNS)}.",
            field="columns",
        )
    return tuple(COLUMNS[name] for name in dict.fromkeys(names))


def _exported_field(
    schema: Schema, query: str, variables: dict[str, Any]
) -> tuple[str, dict[str, Any], list[str]]:
    """The exported root field's name, its arguments as the resolver would get them,
    and the field names selected under its rows."""
    graphql_schema = schema._schema
    try:
        document = parse(query)
    except GraphQLError as error:
        raise BadUserInput(f"`query`: {error.message}", field="query") from None
    errors = validate(graphql_schema, document, [*specified_rules, StorableLiteralsRule])
    if errors:
        raise BadUserInput(f"`query`: {errors[0].message}", field="query")
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation.value != "query":
        raise BadUserInput("`query` must hold exactly one query operation.", field="query")
    operation = operations[0]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    fields = [
        f for f in _fields(operation.selection_set, fragments) if f.name.value != "__typename"
    ]
    if len(fields) != 1 or fields[0].name.value not in EXPORTABLE_FIELDS:
        raise BadUserInput(
            f"`query` must select exactly one of {', '.join(EXPORTABLE_FIELDS)}.", field="query"
        )
    node = fields[0]
    name = node.name.value
    coerced = get_variable_values(graphql_schema, operation.variable_definitions or (), variables)
    if isinstance(coerced, list):
        raise BadUserInput(f"`variables`: {coerced[0].message}", field="variables")
    query_type = graphql_schema.query_type
    assert query_type is not None  # a schema always has one
    definition = query_type.fields[name]
    raw = get_argument_values(definition, node, coerced)
    # `partnerPayments` fills in `start` and `length` by default: only a given one counts.
    given = [
        argument.name.value
        for argument in node.arguments or ()
        if argument.name.value in PAGING_ARGUMENTS
    ]
    if given:
        raise BadUserInput(
            f"An export streams every matching row: drop `{given[0]}`.", field=given[0]
        )
    query_definition = schema.get_type_by_name("Query")
    assert isinstance(query_definition, StrawberryObjectDefinition)
    strawberry_field = query_definition.get_field(_python_name(name))
    assert strawberry_field is not None, name
    arguments = convert_arguments(
        raw,
        strawberry_field.arguments,
        scalar_registry=schema.schema_converter.scalar_registry,
        config=schema.config,
    )
    return name, arguments, _row_fields(node.selection_set, fragments)


def _python_name(name: str) -> str:
    return "partner_payments" if name == "partnerPayments" else name


def _row_fields(selection: SelectionSetNode | None, fragments: Fragments) -> list[str]:
    """Field names under `nodes`, `edges { node }` or `data` (the commission payouts API's list),
    through fragments."""
    for item in _fields(selection, fragments):
        if item.name.value in ("nodes", "data"):
            return _names(item.selection_set, fragments)
        if item.name.value == "edges":
            for inner in _fields(item.selection_set, fragments):
                if inner.name.value == "node":
                    return _names(inner.selection_set, fragments)
    return []


def _names(selection: SelectionSetNode | None, fragments: Fragments) -> list[str]:
    return [
        item.name.value for item in _fields(selection, fragments) if item.name.value != "__typename"
    ]


def _fields(selection: SelectionSetNode | None, fragments: Fragments) -> list[FieldNode]:
    """The fields of a selection, inline fragments and fragment spreads expanded (the
    document was validated, so every spread names a fragment and none loops)."""
    found: list[FieldNode] = []
    for item in selection.selections if selection is not None else ():
        if isinstance(item, FieldNode):
            found.append(item)
        elif isinstance(item, InlineFragmentNode):
            found += _fields(item.selection_set, fragments)
        elif isinstance(item, FragmentSpreadNode):
            found += _fields(fragments[item.name.value].selection_set, fragments)
    return found
