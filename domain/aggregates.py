"""Measures of payment amounts: count, sum, average, minimum and maximum, kept apart per
currency so that no sum ever adds two currencies together.

SQL computes counts, sums, minima and maxima per group and currency; this module turns
those rows into groups, merges them (a portfolio's totals are its status groups rolled
up), and derives the average from the exact sum and count, rounded half to even once.
The statement generator accumulates the payments it pulls with the same `Tally`, so the
client's statement and the gateway's aggregates share one arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from domain.errors import AmountOutOfRange, BadUserInput
from domain.money import MAX_MINOR_UNITS
from domain.paging import CountKey, checked_size

# The money columns of a payment that aggregates measure, in their display order.
MONEY_FIELDS: tuple[str, ...] = ("amount", "paid_amount", "settleable_amount")
MAX_GROUP_KEYS = 4


class GroupKey(StrEnum):
    """What payments can be grouped by; the value names the grouped column."""

    MERCHANT = "merchant_id"
    TERMINAL = "terminal_id"
    CURRENCY = "currency"
    STATUS = "status"
    KIND = "kind"
    DAY = "day"  # the UTC calendar day of `created_at`
    MONTH = "month"  # the UTC month of `created_at`, as `YYYY-MM`


def checked_keys(keys: Sequence[GroupKey], argument: str = "by") -> tuple[GroupKey, ...]:
    """Group keys as given, without repeats; BAD_USER_INPUT for none, or too many."""
    if not keys:
        raise BadUserInput(f"`{argument}` needs at least one key.", field=argument)
    unique = tuple(dict.fromkeys(keys))
    if len(unique) > MAX_GROUP_KEYS:
        raise BadUserInput(f"`{argument}` takes at most {MAX_GROUP_KEYS} keys.", field=argument)
    return unique


def within_range(amount: int | None) -> int | None:
    """`amount` when BigInt can carry it; AMOUNT_OUT_OF_RANGE otherwise (a sum can pass
    64 bits where no single amount can)."""
    if amount is not None and abs(amount) > MAX_MINOR_UNITS:
        raise AmountOutOfRange(
            "A measured amount is beyond the 64-bit range of BigInt; narrow the filter or "
            "group by more keys."
        )
    return amount


def rounded_quotient(numerator: int, denominator: int) -> int:
    """numerator / denominator to the nearest integer, ties to even: exact for any size.
    The denominator is a count, so positive."""
    if denominator <= 0:
        raise ValueError("the denominator must be positive")
    quotient, remainder = divmod(numerator, denominator)  # remainder >= 0
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        return quotient + 1
    return quotient


@dataclass(frozen=True, slots=True)
class FieldMeasures:
    """One money field over some payments of one currency: `count` is how many had a
    value (the paid and settleable amounts may be unknown)."""

    count: int = 0
    sum: int | None = None
    min: int | None = None
    max: int | None = None

    @property
    def avg(self) -> int | None:
        """The mean in minor units, rounded half to even; None without any value."""
        if not self.count or self.sum is None:
            return None
        return rounded_quotient(self.sum, self.count)

    def merged(self, other: FieldMeasures) -> FieldMeasures:
        if not other.count:
            return self
        if not self.count:
            return other
        assert self.sum is not None and other.sum is not None
        assert self.min is not None and other.min is not None
        assert self.max is not None and other.max is not None
        return FieldMeasures(
            self.count + other.count,
            self.sum + other.sum,
            min(self.min, other.min),
            max(self.max, other.max),
        )

    def plus(self, value: int | None) -> FieldMeasures:
        if value is None:
            return self
        return self.merged(FieldMeasures(1, value, value, value))


@dataclass(frozen=True, slots=True)
class CurrencyMeasures:
    """Payments of one currency: how many, and each money field's measures."""

    currency: str
    count: int
    fields: Mapping[str, FieldMeasures]

    def of(self, name: str) -> FieldMeasures:
        return self.fields.get(name, FieldMeasures())

    def merged(self, other: CurrencyMeasures) -> CurrencyMeasures:
        if other.currency != self.currency:
            raise ValueError(f"cannot merge {other.currency} into {self.currency}")
        return CurrencyMeasures(
            self.currency,
            self.count + other.count,
            {name: self.of(name).merged(other.of(name)) for name in MONEY_FIELDS},
        )


@dataclass(frozen=True, slots=True)
class MeasuredRow:
    """What one SQL group row says: its key values, its currency, its row count and the
    money fields' measures."""

    keys: tuple[Any, ...]
    currency: str
    count: int
    fields: Mapping[str, FieldMeasures]


@dataclass(frozen=True, slots=True)
class Group:
    """Payments sharing `keys` (in the order they were asked for), measured per currency,
    the currencies in code order."""

    keys: Mapping[GroupKey, Any]
    currencies: tuple[CurrencyMeasures, ...]

    @property
    def count(self) -> int:
        return sum(measures.count for measures in self.currencies)

    def currency(self, code: str) -> CurrencyMeasures | None:
        return next((c for c in self.currencies if c.currency == code), None)


def groups_of(by: Sequence[GroupKey], rows: Iterable[MeasuredRow]) -> list[Group]:
    """Rows (one per key values and currency) as groups, in the order their keys first
    appear: SQL orders them."""
    found: dict[tuple[Any, ...], dict[str, CurrencyMeasures]] = {}
    for row in rows:
        currencies = found.setdefault(row.keys, {})
        measured = CurrencyMeasures(row.currency, row.count, dict(row.fields))
        known = currencies.get(row.currency)
        currencies[row.currency] = measured if known is None else known.merged(measured)
    return [
        Group(dict(zip(by, keys, strict=True)), tuple(sorted_by_code(currencies.values())))
        for keys, currencies in found.items()
    ]


def sorted_by_code(measures: Iterable[CurrencyMeasures]) -> list[CurrencyMeasures]:
    return sorted(measures, key=lambda m: m.currency)


def rolled_up(groups: Iterable[Group], by: Sequence[GroupKey] = ()) -> list[Group]:
    """The same payments grouped by fewer keys (none: one group of everything)."""
    rows = (
        MeasuredRow(
            tuple(group.keys[key] for key in by), measures.currency, measures.count, measures.fields
        )
        for group in groups
        for measures in group.currencies
    )
    return groups_of(by, rows)


def total_of(groups: Iterable[Group]) -> Group:
    """Every payment of `groups` as one group without keys."""
    rolled = rolled_up(groups)
    return rolled[0] if rolled else Group({}, ())


@dataclass
class Tally:
    """A running measure of payments one at a time, by group keys and currency: what the
    statement generator does with the rows it pulls."""

    by: tuple[GroupKey, ...]
    _rows: dict[tuple[tuple[Any, ...], str], CurrencyMeasures] = field(default_factory=dict)

    def add(
        self, keys: Mapping[GroupKey, Any], currency: str, amounts: Mapping[str, int | None]
    ) -> None:
        slot = (tuple(keys[key] for key in self.by), currency)
        known = self._rows.get(slot) or CurrencyMeasures(currency, 0, {})
        self._rows[slot] = CurrencyMeasures(
            currency,
            known.count + 1,
            {name: known.of(name).plus(amounts.get(name)) for name in MONEY_FIELDS},
        )

    def groups(self) -> list[Group]:
        """The groups so far, ordered by their keys (None last) then currency."""
        ordered = sorted(self._rows.items(), key=lambda item: (_sortable(item[0][0]), item[0][1]))
        rows = (
            MeasuredRow(keys, currency, measures.count, measures.fields)
            for (keys, currency), measures in ordered
        )
        return groups_of(self.by, rows)


def _sortable(keys: tuple[Any, ...]) -> tuple[tuple[bool, Any], ...]:
    return tuple((value is None, value) for value in keys)


@dataclass(frozen=True, slots=True)
class GroupWindow:
    """Which groups of a grouped list: `limit` groups after skipping `offset`, in key
    order."""

    offset: int = 0
    limit: int = 50


def group_window(first: int, offset: int) -> GroupWindow:
    """A checked window: `first` from 1 to 200 (PAGE_SIZE_TOO_LARGE above), `offset` not
    negative."""
    if offset < 0:
        raise BadUserInput("`offset` must not be negative.", field="offset")
    return GroupWindow(offset, checked_size(first, "first", minimum=1))


@dataclass(frozen=True, slots=True)
class AggregateKey:
    """Measure the payments of a list (`of`: its relation, parent and filter), grouped
    `by` some keys (none: one group of all), and for a grouped list, which groups."""

    of: CountKey
    by: tuple[GroupKey, ...] = ()
    window: GroupWindow | None = None
