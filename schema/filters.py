"""Filter and sort inputs, generated from the domain's list catalogue (domain.listings) so
the GraphQL surface, the checks and the SQL can never disagree about a field.

Every listable type gets `<Type>Filter` (one typed predicate per field, its relations,
and `and` / `or` / `not`) and, when sortable, `<Type>SortField` and `<Type>Sort`.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from enum import Enum
from types import GenericAlias
from typing import Any, cast

import strawberry

from domain.filtering import FieldKind, Listing
from domain.listings import LISTINGS
from schema import enums
from schema.scalars import BigInt

_MODULE = sys.modules[__name__]
_UNSET: Any = strawberry.UNSET


def _op(description: str, name: str | None = None) -> Any:
    return strawberry.field(default=_UNSET, description=description, name=name)


@strawberry.enum(description="Sort direction.")
class SortDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.input(description="Match an id: the global ID or the numeric database id.")
class IdFilter:
    eq: strawberry.ID | None = _op("Equal to this id.")
    in_: list[strawberry.ID] | None = _op("Any of these ids (at least one).", "in")
    is_null: bool | None = _op("true: no id set; false: an id set.")


@strawberry.input(description="Match an amount in minor units (cents for USD).")
class AmountFilter:
    eq: BigInt | None = _op("Equal to.")
    in_: list[BigInt] | None = _op("Any of these (at least one).", "in")
    gte: BigInt | None = _op("At least (inclusive).")
    lte: BigInt | None = _op("At most (inclusive).")
    is_null: bool | None = _op("true: no amount; false: an amount.")


@strawberry.input(description="Match a calendar date (ISO-8601, e.g. `2025-04-01`).")
class DateFilter:
    eq: date | None = _op("On this date.")
    gte: date | None = _op("On or after (inclusive).")
    lte: date | None = _op("On or before (inclusive).")
    is_null: bool | None = _op("true: no date; false: a date.")


@strawberry.input(description="Match a moment (ISO-8601; without an offset it is UTC).")
class DateTimeFilter:
    eq: datetime | None = _op("At exactly this moment.")
    gte: datetime | None = _op("At or after (inclusive).")
    lte: datetime | None = _op("At or before (inclusive).")
    is_null: bool | None = _op("true: not set; false: set.")


@strawberry.input(description="Match text.")
class StringFilter:
    eq: str | None = _op("Exactly equal (case-sensitive).")
    in_: list[str] | None = _op("Exactly one of these (at least one).", "in")
    contains: str | None = _op("Contains this text, ignoring case (`%` and `_` are literal).")
    starts_with: str | None = _op("Starts with this text, ignoring case.")
    is_null: bool | None = _op("true: no text; false: some text.")


@strawberry.input(description="Match an ISO 4217 currency code (any case).")
class CurrencyFilter:
    eq: str | None = _op("This currency.")
    in_: list[str] | None = _op("Any of these currencies (at least one).", "in")


@strawberry.input(description="Match a flag.")
class BooleanFilter:
    eq: bool | None = _op("Equal to.")
    is_null: bool | None = _op("true: not set; false: set.")


def _enum_filter(enum: type[Enum]) -> type:
    name = f"{enum.__name__}Filter"
    namespace: dict[str, Any] = {
        "__module__": __name__,
        # list[enum], built at run time
        "__annotations__": {"eq": enum | None, "in_": GenericAlias(list, (enum,)) | None},
        "eq": _op("Equal to."),
        "in_": _op("Any of these (at least one).", "in"),
    }
    return strawberry.input(
        type(name, (), namespace), name=name, description=f"Match a {enum.__name__}."
    )


# schema.enums has made these domain enums GraphQL enums; filter by the same types.
ENUM_FILTERS: dict[type[Enum], type] = {
    enum: _enum_filter(enum)
    for enum in (
        enums.PaymentKind,
        enums.PaymentStatus,
        enums.InvoiceStatus,
        enums.DocumentStatus,
        enums.PartnerKind,
        enums.UserRole,
        enums.PaymentMethodType,
        enums.LedgerDirection,
    )
}

PREDICATE_OF_KIND: dict[FieldKind, type] = {
    FieldKind.ID: IdFilter,
    FieldKind.CODE: CurrencyFilter,
    FieldKind.BOOLEAN: BooleanFilter,
    FieldKind.AMOUNT: AmountFilter,
    FieldKind.DATE: DateFilter,
    FieldKind.DATETIME: DateTimeFilter,
    FieldKind.TEXT: StringFilter,
}


def _filter_input(listing: Listing) -> type:
    name = f"{listing.name}Filter"
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__module__": __name__}
    for field, scalar in listing.scalars.items():
        if scalar.kind is FieldKind.ENUM:
            assert scalar.enum is not None
            predicate = ENUM_FILTERS[scalar.enum]
        else:
            predicate = PREDICATE_OF_KIND[scalar.kind]
        annotations[field] = predicate | None
        namespace[field] = _op(scalar.description)
    for field, relation in listing.relations.items():
        annotations[field] = f"{relation.target}Filter | None"
        namespace[field] = _op(relation.description)
    annotations["and_"] = f"list[{name}] | None"
    namespace["and_"] = _op("Every one of these filters matches.", "and")
    annotations["or_"] = f"list[{name}] | None"
    namespace["or_"] = _op("At least one of these filters matches.", "or")
    annotations["not_"] = f"{name} | None"
    namespace["not_"] = _op("This filter does not match.", "not")
    namespace["__annotations__"] = annotations
    description = (
        f"Which {listing.name} rows to list. Fields combine with AND; a field's "
        "predicates combine with AND too."
    )
    cls = strawberry.input(type(name, (), namespace), name=name, description=description)
    setattr(_MODULE, name, cls)
    return cls


def _sort_input(listing: Listing) -> tuple[type[Enum], type]:
    # Enum's functional API with a computed name: mypy reads the call as a member.
    field_enum = cast(
        "type[Enum]",
        Enum(f"{listing.name}SortField", {name.upper(): name for name in listing.sortable}),
    )
    sort_field = strawberry.enum(field_enum, description=f"What {listing.name} lists sort by.")
    name = f"{listing.name}Sort"
    namespace = {
        "__module__": __name__,
        "__annotations__": {"field": sort_field, "direction": SortDirection},
        "field": strawberry.field(description="The field to sort by."),
        "direction": strawberry.field(default=SortDirection.ASC, description="ASC or DESC."),
    }
    description = f"One sort key of a {listing.name} list; `id` always breaks ties last."
    return sort_field, strawberry.input(
        type(name, (), namespace), name=name, description=description
    )


FILTERS: dict[str, type] = {name: _filter_input(listing) for name, listing in LISTINGS.items()}
SORTS: dict[str, type] = {name: _sort_input(listing)[1] for name, listing in LISTINGS.items()}

# Typing aliases the type modules use in their signatures.
PaymentFilter: Any = FILTERS["Payment"]
PaymentSort: Any = SORTS["Payment"]
InvoiceFilter: Any = FILTERS["Invoice"]
InvoiceSort: Any = SORTS["Invoice"]
AddressFilter: Any = FILTERS["Address"]
AddressSort: Any = SORTS["Address"]
PartnerFilter: Any = FILTERS["Partner"]
PartnerSort: Any = SORTS["Partner"]
PaymentDetailFilter: Any = FILTERS["PaymentDetail"]
PaymentDetailSort: Any = SORTS["PaymentDetail"]


def plain(value: Any) -> Any:
    """An input object as nested dicts of snake_case names (`and_` -> `and`), leaving out
    what the caller did not give."""
    if isinstance(value, list):
        return [plain(item) for item in value]
    fields = getattr(value, "__dataclass_fields__", None)
    if fields is None:
        return value
    found = {}
    for name in fields:
        item = getattr(value, name)
        if item is _UNSET or item is None:
            continue
        found[name.rstrip("_")] = plain(item)
    return found


def sort_keys(sort: list[Any] | None) -> list[tuple[str, bool]] | None:
    """`[PaymentSort]` as `(field name, descending)` pairs."""
    if sort is None:
        return None
    return [(key.field.value, key.direction is SortDirection.DESC) for key in sort]
