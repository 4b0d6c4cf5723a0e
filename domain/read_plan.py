"""A read, planned: the JSON one root field answers with, described in tables, columns
and relations, with no GraphQL and no SQL in it.

schema.compiled_plan plans it from a selection (aliases, fragments and @skip/@include
applied, arguments checked as the resolvers check them); db.compiled_reads turns it into
one statement that builds the JSON in the database. Every node says what one response
key holds; `Fields` keeps the keys in response order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeAlias

import orjson

from domain.aggregates import GroupKey, GroupWindow
from domain.paging import ListRequest


class Output(Enum):
    """How a column's value is written in the response."""

    TEXT = "text"  # a JSON string
    NUMBER = "number"  # a JSON number (Int)
    BOOLEAN = "boolean"
    BIG_INT = "big_int"  # a 64-bit integer written as a string
    DATE_TIME = "date_time"  # ISO-8601 in UTC, as `datetime.isoformat` writes it
    DATE = "date"


@dataclass(frozen=True, slots=True)
class Scalar:
    column: str
    output: Output


@dataclass(frozen=True, slots=True)
class EnumName:
    """A stored value written as its GraphQL enum name."""

    column: str
    names: tuple[tuple[str, str], ...]  # (stored value, name)


@dataclass(frozen=True, slots=True)
class GlobalId:
    """The row's global ID: base64 of `<type_name>:<id>`."""

    type_name: str


@dataclass(frozen=True, slots=True)
class Constant:
    value: Any  # a JSON value known when planning (`__typename`, a page number)


class MoneyPart(Enum):
    AMOUNT = "amount"  # minor units, as BigInt
    CURRENCY = "currency"
    PRECISION = "precision"  # the currency's exponent
    NUMERIC = "numeric"  # the currency's ISO 4217 numeric code


@dataclass(frozen=True, slots=True)
class MoneyShape:
    """An object made of one amount and its currency (Money, the partner portfolio API's amounts):
    null when the amount is."""

    amount: str  # column
    currency: str  # column
    fields: MoneyFields


@dataclass(frozen=True, slots=True)
class Composite:
    """An object built from the same row (or the same money): its own fields."""

    fields: Fields


@dataclass(frozen=True, slots=True)
class RowShape:
    """One row of `table` as an object."""

    table: str
    fields: Fields


@dataclass(frozen=True, slots=True)
class ToOne:
    """The row of `target.table` whose id is the parent row's `key` column; null when
    there is none or the caller may not see it."""

    key: str
    target: RowShape


class PagePart(Enum):
    CURRENT_PAGE = "current_page"  # the invoice payments API's meta: 1-based page, null by cursor
    PER_PAGE = "per_page"
    HAS_NEXT = "has_next"
    HAS_PREVIOUS = "has_previous"
    START_CURSOR = "start_cursor"
    END_CURSOR = "end_cursor"
    TOTAL_COUNT = "total_count"
    TOTAL_PAGES = "total_pages"


@dataclass(frozen=True, slots=True)
class Rows:
    """The page's rows as a list of objects (`nodes`, `data`)."""

    row: RowShape


@dataclass(frozen=True, slots=True)
class Edges:
    """The page's rows as edges: `cursor` is EdgeCursor, `node` a RowShape."""

    fields: Fields


@dataclass(frozen=True, slots=True)
class EdgeCursor:
    pass


@dataclass(frozen=True, slots=True)
class Counted:
    """A count or page fact of the list (`totalCount`, `pageInfo.hasNextPage`)."""

    part: PagePart


class GroupPart(Enum):
    COUNT = "count"
    HAS_NEXT = "has_next"
    HAS_PREVIOUS = "has_previous"


class Measure(Enum):
    SUM = "sum"
    AVG = "avg"
    MIN = "min"
    MAX = "max"


@dataclass(frozen=True, slots=True)
class KeyValue:
    """A grouped key's value (currency, status, kind, day, month); enums by name."""

    key: GroupKey
    names: tuple[tuple[str, str], ...] = ()  # for enum keys: (stored value, name)


@dataclass(frozen=True, slots=True)
class KeyRow:
    """A grouped key naming a row (merchant, terminal), looked up in the caller's scope."""

    key: GroupKey
    target: RowShape


@dataclass(frozen=True, slots=True)
class Measures:
    """One measure of a group, per currency: a list of objects whose fields are
    `Constant`, `MeasureCurrency`, `GroupCounted` (the currency's count) or
    `MeasuredMoney`."""

    measure: Measure
    fields: Fields


@dataclass(frozen=True, slots=True)
class MeasureCurrency:
    pass


@dataclass(frozen=True, slots=True)
class MeasuredMoney:
    """A money field's measure in the currency, as Money; null when no row had one."""

    column: str
    fields: MoneyFields


@dataclass(frozen=True, slots=True)
class GroupCounted:
    part: GroupPart


@dataclass(frozen=True, slots=True)
class Groups:
    """`groupBy`: the list's rows grouped `by` the keys, a `window` of groups; fields are
    `Constant`, `GroupCounted` and `GroupNodes`."""

    by: tuple[GroupKey, ...]
    window: GroupWindow | None
    fields: Fields


@dataclass(frozen=True, slots=True)
class GroupNodes:
    """The groups; fields: `Constant`, `GroupCounted(COUNT)`, `Composite` of `KeyValue` /
    `KeyRow` (the keys) and `Measures`."""

    fields: Fields


@dataclass(frozen=True, slots=True)
class Aggregate:
    """`aggregate`: every row of the list measured as one group; fields as a group's
    (`GroupNodes`), without keys."""

    fields: Fields


@dataclass(frozen=True, slots=True)
class ListShape:
    """A paged list: a root list (`parent_key` None) or a parent row's children through
    `relation`, with the caller's `request` (filter, order, window). Its fields are
    `Rows`, `Edges`, `Counted`, `Composite` (pageInfo, meta), `Constant` and `Groups`."""

    relation: str
    request: ListRequest
    fields: Fields
    parent_key: str | None = None  # the parent row's column the children point at


@dataclass(frozen=True, slots=True)
class Lookup:
    """A root lookup of one row by id (`payment(id)`, `partner(id)`)."""

    row: RowShape
    row_id: int


Node: TypeAlias = (
    Scalar
    | EnumName
    | GlobalId
    | Constant
    | MoneyShape
    | Composite
    | RowShape  # an edge's `node`
    | ToOne
    | Rows
    | Edges
    | EdgeCursor
    | Counted
    | ListShape
    | Groups
    | Aggregate
    | GroupNodes
    | GroupCounted
    | KeyValue
    | KeyRow
    | Measures
    | MeasureCurrency
    | MeasuredMoney
)
Fields: TypeAlias = tuple[tuple[str, Node], ...]
MoneyFields: TypeAlias = tuple[tuple[str, "MoneyPart | Constant | Composite"], ...]
Root: TypeAlias = ListShape | Lookup


class Answer(Mapping[str, Any]):
    """A root field's answer as the statement wrote it: JSON text, and how many objects
    it holds (`aggregates` of them an aggregate's: `aggregate`, a `groupBy` page), which
    is what the query cost counts. The text goes into the response as it is; it is
    parsed only when something reads it as a mapping (a test, say)."""

    __slots__ = ("_value", "aggregates", "objects", "text")

    def __init__(self, text: str, objects: int, aggregates: int) -> None:
        self.text = text
        self.objects = objects
        self.aggregates = aggregates
        self._value: ParsedAnswer | None = None

    def parsed(self) -> dict[str, Any]:
        """The answer as Python values (parsed once), still counted as the statement
        counted it."""
        if self._value is None:
            self._value = ParsedAnswer(orjson.loads(self.text))
            self._value.objects, self._value.aggregates = self.objects, self.aggregates
        return self._value

    def __getitem__(self, key: str) -> Any:
        return self.parsed()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.parsed())

    def __len__(self) -> int:
        return len(self.parsed())

    def __repr__(self) -> str:
        return f"Answer({self.text!r})"


class ParsedAnswer(dict[str, Any]):
    """An answer parsed, for Python to write in it (its cursors): a plain mapping that
    keeps the statement's count of its objects, so the query cost is not counted again
    object by object."""

    __slots__ = ("aggregates", "objects")
    objects: int
    aggregates: int
