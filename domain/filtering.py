"""The filter and sort language every list shares, checked before anything reaches SQL.

A `Listing` says what a listable type may be filtered and sorted by: scalar fields with a
kind (which decides their predicates) and relations to other listings. `build_filter`
turns a caller's plain mapping (GraphQL input objects, or their JSON) into a `Filter`
tree, raising BAD_USER_INPUT that names the offending argument path; `build_sort` does
the same for sort keys. The tree is frozen and hashable, so it can key a dataloader.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeAlias

from domain.currencies import currency
from domain.date_bounds import OUT_OF_RANGE, as_utc, date_in_range
from domain.errors import BadUserInput, DomainError

MAX_FILTER_NODES = 100
MAX_FILTER_DEPTH = 8
MAX_IN_VALUES = 500
# Values of the whole tree, each a bind parameter: with the nodes' own, a filter stays
# far below PostgreSQL's 32,767 bind parameters and SQLite's 32,766 variables.
MAX_FILTER_VALUES = 2000
MAX_TEXT_LENGTH = 200


class FieldKind(Enum):
    ID = "id"  # a row id or foreign key: eq, in, isNull
    ENUM = "enum"  # eq, in
    CODE = "code"  # an ISO 4217 currency code: eq, in
    BOOLEAN = "boolean"  # eq, isNull
    AMOUNT = "amount"  # integer minor units: eq, in, gte, lte, isNull
    DATE = "date"  # eq, gte, lte, isNull
    DATETIME = "datetime"  # eq, gte, lte, isNull
    TEXT = "text"  # eq, in, contains, startsWith, isNull


class Op(Enum):
    EQ = "eq"
    IN = "in"
    GTE = "gte"
    LTE = "lte"
    CONTAINS = "contains"
    STARTS_WITH = "starts_with"
    IS_NULL = "is_null"


OPS_OF_KIND: dict[FieldKind, tuple[Op, ...]] = {
    FieldKind.ID: (Op.EQ, Op.IN, Op.IS_NULL),
    FieldKind.ENUM: (Op.EQ, Op.IN),
    FieldKind.CODE: (Op.EQ, Op.IN),
    FieldKind.BOOLEAN: (Op.EQ, Op.IS_NULL),
    FieldKind.AMOUNT: (Op.EQ, Op.IN, Op.GTE, Op.LTE, Op.IS_NULL),
    FieldKind.DATE: (Op.EQ, Op.GTE, Op.LTE, Op.IS_NULL),
    FieldKind.DATETIME: (Op.EQ, Op.GTE, Op.LTE, Op.IS_NULL),
    FieldKind.TEXT: (Op.EQ, Op.IN, Op.CONTAINS, Op.STARTS_WITH, Op.IS_NULL),
}


@dataclass(frozen=True, slots=True)
class Scalar:
    """A column a list may be filtered (and, when `sortable`, sorted) by."""

    column: str
    kind: FieldKind
    description: str
    nullable: bool = False
    sortable: bool = False
    enum: type[Enum] | None = None
    target: str | None = None  # for ids: the type whose global IDs name these rows


@dataclass(frozen=True, slots=True)
class Relation:
    """A reach through foreign keys to another listing; a row matches when any of
    `columns` points at a row that matches the nested filter."""

    name: str
    target: str
    columns: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Listing:
    """What one listable type may be filtered and sorted by. Field names are snake_case
    column names (the GraphQL names are their camelCase)."""

    name: str
    table: str
    scalars: Mapping[str, Scalar]
    relations: Mapping[str, Relation] = field(default_factory=dict)

    @property
    def sortable(self) -> dict[str, Scalar]:
        return {name: s for name, s in self.scalars.items() if s.sortable}


@dataclass(frozen=True, slots=True)
class Condition:
    column: str
    op: Op
    value: Any  # a tuple for IN, a bool for IS_NULL


@dataclass(frozen=True, slots=True)
class Through:
    relation: Relation
    where: Filter


@dataclass(frozen=True, slots=True)
class AllOf:
    parts: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    parts: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Negation:
    part: Filter


Filter: TypeAlias = Condition | Through | AllOf | AnyOf | Negation

# (type name, raw id, argument path) -> row id; the edge knows what global IDs look like.
IdParser = Callable[[str | None, Any, str], int]


def build_filter(
    listing: Listing,
    data: Mapping[str, Any] | None,
    *,
    listings: Mapping[str, Listing],
    parse_id: IdParser,
    path: str = "filter",
) -> Filter | None:
    """The checked filter tree of `data`, or None when it filters nothing out."""
    if data is None:
        return None
    builder = _Builder(listings, parse_id)
    return builder.listing(listing, data, path, depth=0)


class _Builder:
    def __init__(self, listings: Mapping[str, Listing], parse_id: IdParser) -> None:
        self.listings = listings
        self.parse_id = parse_id
        self.nodes = 0
        self.values = 0

    def _count(self, path: str) -> None:
        self.nodes += 1
        if self.nodes > MAX_FILTER_NODES:
            raise BadUserInput(
                f"`{path}`: a filter may hold at most {MAX_FILTER_NODES} conditions.", field=path
            )

    def listing(
        self, listing: Listing, data: Mapping[str, Any], path: str, depth: int
    ) -> Filter | None:
        if depth > MAX_FILTER_DEPTH:
            raise BadUserInput(
                f"`{path}`: filters nest at most {MAX_FILTER_DEPTH} levels deep.", field=path
            )
        parts: list[Filter] = []
        for name, value in data.items():
            if value is None:
                continue
            here = f"{path}.{_camel(name)}"
            if name in ("and", "or"):
                nested = [
                    self.listing(listing, item, f"{here}[{i}]", depth + 1)
                    for i, item in enumerate(_sequence(value, here))
                ]
                if not nested:
                    raise BadUserInput(f"`{here}` must not be an empty list.", field=here)
                parts.append(_combine(name, nested))
            elif name == "not":
                inner = self.listing(listing, value, here, depth + 1)
                # `not: {}` matches nothing; `{}` alone matches everything.
                parts.append(Negation(inner if inner is not None else AllOf(())))
            elif name in listing.relations:
                relation = listing.relations[name]
                target = self.listings[relation.target]
                inner = self.listing(target, value, here, depth + 1)
                self._count(here)
                parts.append(Through(relation, inner if inner is not None else AllOf(())))
            elif name in listing.scalars:
                parts.extend(self.predicates(listing.scalars[name], value, here))
            else:
                raise BadUserInput(f"`{here}` is not a filter of {listing.name}.", field=here)
        return all_of(*parts)

    def predicates(self, scalar: Scalar, ops: Mapping[str, Any], path: str) -> list[Condition]:
        allowed = {op.value: op for op in OPS_OF_KIND[scalar.kind]}
        found: list[Condition] = []
        for name, raw in ops.items():
            if raw is None:
                continue
            here = f"{path}.{_camel(name)}"
            op = allowed.get(name)
            if op is None:
                raise BadUserInput(f"`{here}` does not apply to this field.", field=here)
            self._count(here)
            found.append(Condition(scalar.column, op, self.operand(scalar, op, raw, here)))
        _check_range(found, path)
        return found

    def operand(self, scalar: Scalar, op: Op, raw: Any, path: str) -> Any:
        if op is Op.IS_NULL:
            if not isinstance(raw, bool):
                raise BadUserInput(f"`{path}` takes true or false.", field=path)
            return raw
        if op is Op.IN:
            values = _sequence(raw, path)
            if not values:
                raise BadUserInput(f"`{path}` must list at least one value.", field=path)
            if len(values) > MAX_IN_VALUES:
                raise BadUserInput(f"`{path}` may list at most {MAX_IN_VALUES} values.", field=path)
            self._count_values(len(values), path)
            return tuple(
                sorted(
                    {self.value(scalar, v, f"{path}[{i}]") for i, v in enumerate(values)},
                    key=repr,
                )
            )
        self._count_values(1, path)
        return self.value(scalar, raw, path)

    def _count_values(self, count: int, path: str) -> None:
        self.values += count
        if self.values > MAX_FILTER_VALUES:
            raise BadUserInput(
                f"`{path}`: a filter may hold at most {MAX_FILTER_VALUES} values in all.",
                field=path,
            )

    def value(self, scalar: Scalar, raw: Any, path: str) -> Any:
        return _coerce(scalar, raw, path, self.parse_id)


def _coerce(scalar: Scalar, raw: Any, path: str, parse_id: IdParser) -> Any:
    kind = scalar.kind
    if kind is FieldKind.ID:
        return parse_id(scalar.target, raw, path)
    if kind is FieldKind.ENUM:
        assert scalar.enum is not None
        try:
            return scalar.enum(raw.value if isinstance(raw, Enum) else raw).value
        except ValueError:
            raise BadUserInput(f"`{path}`: {raw!r} is not a valid value.", field=path) from None
    if kind is FieldKind.CODE:
        text = _text(raw, path).upper()
        try:
            return currency(text).code
        except DomainError:
            raise BadUserInput(f"`{path}`: {raw!r} is not an ISO 4217 code.", field=path) from None
    if kind is FieldKind.BOOLEAN:
        if not isinstance(raw, bool):
            raise BadUserInput(f"`{path}` takes true or false.", field=path)
        return raw
    if kind is FieldKind.AMOUNT:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise BadUserInput(f"`{path}` takes an integer amount in minor units.", field=path)
        return raw
    if kind is FieldKind.DATE:
        return parse_date(raw, path)
    if kind is FieldKind.DATETIME:
        return parse_datetime(raw, path)
    return _text(raw, path)


def _text(raw: Any, path: str) -> str:
    if not isinstance(raw, str):
        raise BadUserInput(f"`{path}` takes a string.", field=path)
    if len(raw) > MAX_TEXT_LENGTH:
        raise BadUserInput(f"`{path}` is longer than {MAX_TEXT_LENGTH} characters.", field=path)
    return raw


def parse_date(raw: Any, path: str) -> date:
    if isinstance(raw, datetime):
        raise BadUserInput(f"`{path}` takes a date, not a date and time.", field=path)
    if isinstance(raw, date):
        on = raw
    else:
        try:
            on = date.fromisoformat(_text(raw, path))
        except ValueError:
            raise BadUserInput(f"`{path}`: {raw!r} is not an ISO-8601 date.", field=path) from None
    if not date_in_range(on):
        raise BadUserInput(f"`{path}` {OUT_OF_RANGE}.", field=path)
    return on


def parse_datetime(raw: Any, path: str) -> datetime:
    """An aware UTC datetime; a value without an offset is read as UTC."""
    if isinstance(raw, datetime):
        moment = raw
    else:
        try:
            moment = datetime.fromisoformat(_text(raw, path))
        except ValueError:
            raise BadUserInput(
                f"`{path}`: {raw!r} is not an ISO-8601 date and time.", field=path
            ) from None
    utc = as_utc(moment)
    if utc is None:
        raise BadUserInput(f"`{path}` {OUT_OF_RANGE} (in UTC).", field=path)
    return utc


def _check_range(conditions: list[Condition], path: str) -> None:
    low = [c.value for c in conditions if c.op is Op.GTE]
    high = [c.value for c in conditions if c.op is Op.LTE]
    if low and high and low[0] > high[0]:
        raise BadUserInput(f"`{path}`: `gte` ({low[0]}) is above `lte` ({high[0]}).", field=path)


def _sequence(value: Any, path: str) -> Sequence[Any]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise BadUserInput(f"`{path}` takes a list.", field=path)
    return value


def all_of(*trees: Filter | None) -> Filter | None:
    """The conjunction of the trees given (None ones left out); None when none is left."""
    kept = tuple(tree for tree in trees if tree is not None)
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else AllOf(kept)


def _combine(name: str, parts: list[Filter | None]) -> Filter:
    # An empty member of an `or` matches everything, so the whole `or` does.
    if name == "or" and any(part is None for part in parts):
        return AllOf(())
    kept = tuple(part for part in parts if part is not None)
    return AnyOf(kept) if name == "or" else AllOf(kept)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


# -- sorting ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SortKey:
    """One key of an ordering. NULLs sort after every value ascending and before every
    value descending (PostgreSQL's default, so its btree indexes serve both)."""

    column: str
    descending: bool = False
    kind: FieldKind = FieldKind.ID
    nullable: bool = False

    @property
    def signature(self) -> str:
        return f"{self.column}{'-' if self.descending else '+'}"


ID_ASCENDING = SortKey("id")


def plain_order(order: tuple[SortKey, ...]) -> bool:
    """Id ascending alone: the order whose cursors are a bare `cursor:<id>`."""
    return all(key.column == "id" and not key.descending for key in order)


def cursor_keys(order: tuple[SortKey, ...]) -> tuple[SortKey, ...]:
    """The sort keys a cursor carries the values of: the order's, but its closing id."""
    return order[:-1] if order and order[-1].column == "id" else order


# Sort-key kinds whose values a compiled statement writes into a cursor byte for byte as
# resolvers.cursors does: JSON with nothing to escape (digits, ISO-8601 moments and
# dates). An order with a text or enum key has its cursors written in Python.
STATEMENT_CURSOR_KINDS = frozenset(
    {FieldKind.ID, FieldKind.AMOUNT, FieldKind.DATE, FieldKind.DATETIME}
)


def statement_writes_cursors(order: tuple[SortKey, ...]) -> bool:
    """Whether a compiled statement writes the cursors of a list in `order` itself."""
    return all(key.kind in STATEMENT_CURSOR_KINDS for key in cursor_keys(order))


def build_sort(
    listing: Listing, keys: Sequence[tuple[str, bool]], *, path: str = "sort"
) -> tuple[SortKey, ...]:
    """The ordering for `(field name, descending)` keys, ending with `id` as the
    tie-breaker so that equal keys never make pages repeat or skip rows."""
    sortable = listing.sortable
    order: list[SortKey] = []
    seen: set[str] = set()
    for index, (name, descending) in enumerate(keys):
        here = f"{path}[{index}]"
        scalar = sortable.get(name)
        if scalar is None:
            raise BadUserInput(
                f"`{here}`: {listing.name} cannot be sorted by {name!r}.", field=here
            )
        if name in seen:
            raise BadUserInput(f"`{here}`: {name!r} is sorted on twice.", field=here)
        seen.add(name)
        order.append(SortKey(scalar.column, descending, scalar.kind, scalar.nullable))
        if scalar.column == "id":
            break  # ids are unique: later keys could never decide anything
    if "id" not in seen:
        order.append(ID_ASCENDING)
    return tuple(order)


def sort_field_named(listing: Listing, text: str, *, path: str) -> str:
    """A sortable field given by name in any of `createdAt`, `created_at`, `CREATED_AT`
    (the REST APIs' `sortBy` strings)."""
    wanted = text.replace("_", "").lower()
    for name in listing.sortable:
        if name.replace("_", "") == wanted:
            return name
    choices = ", ".join(_camel(name) for name in listing.sortable)
    raise BadUserInput(f"`{path}`: cannot sort by {text!r}; choose one of {choices}.", field=path)


def sort_direction_named(text: str, *, path: str) -> bool:
    """True for descending: the REST APIs' `sortType` / `sortDirection` strings."""
    lowered = text.strip().lower()
    if lowered in ("asc", "desc"):
        return lowered == "desc"
    raise BadUserInput(f"`{path}` must be `asc` or `desc`, not {text!r}.", field=path)
