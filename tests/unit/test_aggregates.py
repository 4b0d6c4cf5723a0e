"""domain.aggregates: the exact average (half to even), measures that merge like a monoid,
the running Tally against a plain-Python oracle, roll-ups, and the checked arguments of
grouped lists."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.aggregates import (
    MAX_GROUP_KEYS,
    MONEY_FIELDS,
    CurrencyMeasures,
    FieldMeasures,
    Group,
    GroupKey,
    GroupWindow,
    MeasuredRow,
    Tally,
    checked_keys,
    group_window,
    groups_of,
    rolled_up,
    rounded_quotient,
    total_of,
    within_range,
)
from domain.errors import BadUserInput, DomainError, PageSizeTooLarge

amounts = st.integers(min_value=-(2**62), max_value=2**62)
huge = st.integers(min_value=-(10**40), max_value=10**40)
positive = st.integers(min_value=1, max_value=10**12)


# --- rounded_quotient ---------------------------------------------------------------------


@given(huge, st.integers(min_value=1, max_value=10**30))
def test_rounded_quotient_is_the_exact_quotient_rounded_half_to_even(
    numerator: int, denominator: int
) -> None:
    # round() of a Fraction is exact and rounds ties to even
    assert rounded_quotient(numerator, denominator) == round(Fraction(numerator, denominator))


@given(st.integers(min_value=-(10**6), max_value=10**6), st.integers(min_value=1, max_value=50))
def test_ties_go_to_the_even_neighbour_on_both_sides_of_zero(half: int, scale: int) -> None:
    # numerator / denominator is exactly `half + 1/2`
    denominator = 2 * scale
    numerator = half * denominator + scale
    result = rounded_quotient(numerator, denominator)

    assert result in (half, half + 1)
    assert result % 2 == 0


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (5, 2, 2),
        (7, 2, 4),
        (-5, 2, -2),
        (-7, 2, -4),
        (1, 2, 0),
        (-1, 2, 0),
        (3, 2, 2),
        (-3, 2, -2),
        (1, 3, 0),
        (2, 3, 1),
        (-1, 3, 0),
        (-2, 3, -1),
        (0, 7, 0),
        (10, 5, 2),
        (-10, 5, -2),
        (25, 10, 2),
        (35, 10, 4),
        (2**70 + 1, 2, 2**69),  # no float anywhere: exact beyond 2**53
        (2**70 + 3, 2, 2**69 + 2),
    ],
)
def test_rounded_quotient_examples(numerator: int, denominator: int, expected: int) -> None:
    assert rounded_quotient(numerator, denominator) == expected


# --- FieldMeasures ------------------------------------------------------------------------


def measures_of(values: list[int]) -> FieldMeasures:
    found = FieldMeasures()
    for value in values:
        found = found.plus(value)
    return found


field_measures = st.lists(amounts, max_size=8).map(measures_of)


@given(st.lists(amounts, max_size=20))
def test_measures_of_values_are_their_count_sum_min_max(values: list[int]) -> None:
    found = measures_of(values)

    if not values:
        assert found == FieldMeasures(0, None, None, None)
        assert found.avg is None
        return
    assert (found.count, found.sum, found.min, found.max) == (
        len(values),
        sum(values),
        min(values),
        max(values),
    )
    assert found.avg == round(Fraction(sum(values), len(values)))


@given(field_measures, field_measures, field_measures)
def test_merging_is_associative(a: FieldMeasures, b: FieldMeasures, c: FieldMeasures) -> None:
    assert a.merged(b).merged(c) == a.merged(b.merged(c))


@given(field_measures, field_measures)
def test_merging_is_commutative(a: FieldMeasures, b: FieldMeasures) -> None:
    assert a.merged(b) == b.merged(a)


@given(field_measures)
def test_the_empty_measures_are_the_identity(a: FieldMeasures) -> None:
    assert a.merged(FieldMeasures()) == a
    assert FieldMeasures().merged(a) == a
    assert a.plus(None) == a


@given(st.lists(amounts, max_size=10), st.lists(amounts, max_size=10))
def test_merging_two_lists_measures_is_measuring_them_together(
    left: list[int], right: list[int]
) -> None:
    assert measures_of(left).merged(measures_of(right)) == measures_of(left + right)


def test_an_unknown_value_is_not_counted() -> None:
    found = FieldMeasures().plus(None).plus(7).plus(None).plus(2)

    assert found == FieldMeasures(2, 9, 2, 7)
    assert found.avg == 4  # 4.5, to even


def test_the_average_of_a_negative_tie_rounds_to_even() -> None:
    assert measures_of([-1, -2]).avg == -2  # -1.5
    assert measures_of([-1, -4]).avg == -2  # -2.5
    assert measures_of([1, 2, 2]).avg == 2  # 1.666...


# --- CurrencyMeasures ---------------------------------------------------------------------


def test_currency_measures_merge_field_by_field() -> None:
    usd = CurrencyMeasures("USD", 2, {"amount": FieldMeasures(2, 300, 100, 200)})
    more = CurrencyMeasures(
        "USD",
        1,
        {"amount": FieldMeasures(1, 50, 50, 50), "paid_amount": FieldMeasures(1, 40, 40, 40)},
    )

    merged = usd.merged(more)

    assert merged.count == 3
    assert merged.of("amount") == FieldMeasures(3, 350, 50, 200)
    assert merged.of("paid_amount") == FieldMeasures(1, 40, 40, 40)
    assert merged.of("settleable_amount") == FieldMeasures()
    assert set(merged.fields) == set(MONEY_FIELDS)


def test_two_currencies_never_merge() -> None:
    usd = CurrencyMeasures("USD", 1, {"amount": FieldMeasures(1, 100, 100, 100)})
    eur = CurrencyMeasures("EUR", 1, {"amount": FieldMeasures(1, 100, 100, 100)})

    with pytest.raises(ValueError, match="cannot merge EUR into USD"):
        usd.merged(eur)


# --- Tally against an oracle ------------------------------------------------------------

payments = st.lists(
    st.tuples(
        st.sampled_from([1, 2, 3, None]),  # merchant (None: a payment without one)
        st.sampled_from(["USD", "EUR", "JPY", "KWD"]),
        st.integers(min_value=0, max_value=10**12),  # amount
        st.none() | st.integers(min_value=0, max_value=10**12),  # paid
        st.none() | st.integers(min_value=0, max_value=10**12),  # settleable
    ),
    max_size=40,
)
Payment = tuple[int | None, str, int, int | None, int | None]


def oracle(rows: list[Payment], by_merchant: bool) -> dict[Any, dict[str, dict[str, Any]]]:
    """{merchant (or None when not grouped): {currency: {count, and per field the known
    values' count, sum, min, max}}}, in plain Python."""
    found: dict[Any, dict[str, list[Payment]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        found[row[0] if by_merchant else None][row[1]].append(row)
    expected: dict[Any, dict[str, dict[str, Any]]] = {}
    for key, currencies in found.items():
        expected[key] = {}
        for code, mine in currencies.items():
            entry: dict[str, Any] = {"count": len(mine)}
            for position, name in enumerate(MONEY_FIELDS, start=2):
                known = [r[position] for r in mine if r[position] is not None]
                entry[name] = (
                    (len(known), sum(known), min(known), max(known))
                    if known
                    else (0, None, None, None)
                )
            expected[key][code] = entry
    return expected


def seen(groups: list[Group], key: GroupKey | None) -> dict[Any, dict[str, dict[str, Any]]]:
    found: dict[Any, dict[str, dict[str, Any]]] = {}
    for group in groups:
        name = None if key is None else group.keys[key]
        assert name not in found, "a key appears in two groups"
        found[name] = {
            m.currency: {
                "count": m.count,
                **{
                    field: (m.of(field).count, m.of(field).sum, m.of(field).min, m.of(field).max)
                    for field in MONEY_FIELDS
                },
            }
            for m in group.currencies
        }
    return found


def tallied(rows: list[Payment], by: tuple[GroupKey, ...]) -> Tally:
    tally = Tally(by)
    for merchant, currency, amount, paid, settleable in rows:
        keys = {GroupKey.MERCHANT: merchant, GroupKey.CURRENCY: currency}
        tally.add(
            keys,
            currency,
            {"amount": amount, "paid_amount": paid, "settleable_amount": settleable},
        )
    return tally


@given(payments)
def test_a_tally_by_merchant_and_currency_is_the_oracles_grouping(rows: list[Payment]) -> None:
    groups = tallied(rows, (GroupKey.MERCHANT, GroupKey.CURRENCY)).groups()

    # one group per merchant and currency, each of one currency
    assert all(len(g.currencies) == 1 for g in groups)
    assert all(g.keys[GroupKey.CURRENCY] == g.currencies[0].currency for g in groups)
    # ordered by merchant (None last), then currency
    order = [(g.keys[GroupKey.MERCHANT] is None, g.keys[GroupKey.MERCHANT] or 0) for g in groups]
    assert order == sorted(order)
    per_merchant = rolled_up(groups, (GroupKey.MERCHANT,))
    assert seen(per_merchant, GroupKey.MERCHANT) == oracle(rows, by_merchant=True)
    assert sum(g.count for g in groups) == len(rows)


@given(payments)
def test_a_tally_by_merchant_measures_each_merchants_currencies_apart(
    rows: list[Payment],
) -> None:
    groups = tallied(rows, (GroupKey.MERCHANT,)).groups()

    assert seen(groups, GroupKey.MERCHANT) == oracle(rows, by_merchant=True)
    for group in groups:
        codes = [m.currency for m in group.currencies]
        assert codes == sorted(codes)
        assert group.count == sum(1 for r in rows if r[0] == group.keys[GroupKey.MERCHANT])


@given(payments)
def test_the_total_of_a_tally_is_the_oracles_total(rows: list[Payment]) -> None:
    groups = tallied(rows, (GroupKey.MERCHANT, GroupKey.CURRENCY)).groups()

    total = total_of(groups)

    assert total.keys == {}
    assert total.count == len(rows)
    assert seen([total], None) == (oracle(rows, by_merchant=False) if rows else {None: {}})
    assert total_of(rolled_up(groups, (GroupKey.MERCHANT,))) == total
    assert tallied(rows, ()).groups() == ([total] if rows else [])


def test_the_total_of_nothing_is_an_empty_group() -> None:
    assert total_of([]) == Group({}, ())
    assert total_of([]).count == 0
    assert rolled_up([]) == []


# --- groups_of and rolled_up ------------------------------------------------------------


def row(keys: tuple[Any, ...], currency: str, count: int, amount: int) -> MeasuredRow:
    return MeasuredRow(keys, currency, count, {"amount": FieldMeasures(count, amount, 1, amount)})


def test_groups_of_keeps_the_first_appearance_order_and_sorts_currencies() -> None:
    by = (GroupKey.STATUS,)
    rows = [
        row(("processing",), "USD", 1, 10),
        row(("created",), "USD", 2, 20),
        row(("processing",), "EUR", 3, 30),
        row(("processing",), "USD", 4, 40),  # the same key and currency again: merged
    ]

    groups = groups_of(by, rows)

    assert [g.keys for g in groups] == [
        {GroupKey.STATUS: "processing"},
        {GroupKey.STATUS: "created"},
    ]
    processing = groups[0]
    assert [m.currency for m in processing.currencies] == ["EUR", "USD"]
    usd = processing.currency("USD")
    assert usd is not None
    assert (usd.count, usd.of("amount").sum) == (5, 50)
    assert processing.currency("JPY") is None
    assert processing.count == 8


def test_rolled_up_by_fewer_keys_adds_the_groups_per_currency() -> None:
    by = (GroupKey.MERCHANT, GroupKey.STATUS)
    groups = groups_of(
        by,
        [
            row((1, "created"), "USD", 1, 100),
            row((1, "completed"), "USD", 2, 250),
            row((1, "completed"), "JPY", 1, 1000),
            row((2, "created"), "USD", 5, 7),
        ],
    )

    by_merchant = rolled_up(groups, (GroupKey.MERCHANT,))

    assert [g.keys for g in by_merchant] == [{GroupKey.MERCHANT: 1}, {GroupKey.MERCHANT: 2}]
    first = by_merchant[0]
    assert [(m.currency, m.count, m.of("amount").sum) for m in first.currencies] == [
        ("JPY", 1, 1000),
        ("USD", 3, 350),
    ]
    total = total_of(groups)
    assert [(m.currency, m.count, m.of("amount").sum) for m in total.currencies] == [
        ("JPY", 1, 1000),
        ("USD", 8, 357),
    ]
    assert total.count == 9


def test_a_group_key_missing_from_a_group_cannot_be_rolled_up_by() -> None:
    groups = groups_of((GroupKey.STATUS,), [row(("created",), "USD", 1, 1)])

    with pytest.raises(KeyError):
        rolled_up(groups, (GroupKey.MERCHANT,))


# --- checked arguments ------------------------------------------------------------------


def test_group_window_takes_one_to_two_hundred_groups_after_any_offset() -> None:
    assert group_window(1, 0) == GroupWindow(0, 1)
    assert group_window(200, 10_000) == GroupWindow(10_000, 200)
    assert GroupWindow() == GroupWindow(0, 50)


@pytest.mark.parametrize(
    ("first", "offset", "error", "field"),
    [
        (201, 0, PageSizeTooLarge, "first"),
        (10_000, 0, PageSizeTooLarge, "first"),
        (0, 0, BadUserInput, "first"),
        (-1, 0, BadUserInput, "first"),
        (10, -1, BadUserInput, "offset"),
        (201, -1, BadUserInput, "offset"),  # the offset is checked first
    ],
)
def test_group_window_refuses_bad_windows(
    first: int, offset: int, error: type[DomainError], field: str
) -> None:
    with pytest.raises(error) as raised:
        group_window(first, offset)

    assert raised.value.field == field
    expected = "PAGE_SIZE_TOO_LARGE" if error is PageSizeTooLarge else "BAD_USER_INPUT"
    assert raised.value.code == expected


def test_checked_keys_drops_repeats_and_keeps_the_order() -> None:
    keys = [GroupKey.CURRENCY, GroupKey.MERCHANT, GroupKey.CURRENCY, GroupKey.DAY]

    assert checked_keys(keys) == (GroupKey.CURRENCY, GroupKey.MERCHANT, GroupKey.DAY)


def test_checked_keys_takes_four_distinct_keys_however_often_repeated() -> None:
    keys = [GroupKey.MERCHANT, GroupKey.TERMINAL, GroupKey.CURRENCY, GroupKey.STATUS] * 3

    assert len(checked_keys(keys)) == MAX_GROUP_KEYS == 4


@pytest.mark.parametrize(
    "keys",
    [
        [],
        [GroupKey.MERCHANT, GroupKey.TERMINAL, GroupKey.CURRENCY, GroupKey.STATUS, GroupKey.KIND],
        list(GroupKey),
    ],
)
def test_checked_keys_refuses_none_or_more_than_four(keys: list[GroupKey]) -> None:
    with pytest.raises(BadUserInput) as raised:
        checked_keys(keys, "by")

    assert raised.value.code == "BAD_USER_INPUT"
    assert raised.value.field == "by"


def test_group_keys_name_their_columns() -> None:
    assert GroupKey.MERCHANT.value == "merchant_id"
    assert GroupKey.TERMINAL.value == "terminal_id"
    assert {k.name for k in GroupKey} == {
        "MERCHANT",
        "TERMINAL",
        "CURRENCY",
        "STATUS",
        "KIND",
        "DAY",
        "MONTH",
    }


def test_a_measured_amount_beyond_64_bits_is_refused_with_its_own_code() -> None:
    assert within_range(2**63 - 1) == 2**63 - 1
    assert within_range(None) is None
    with pytest.raises(DomainError) as refused:
        within_range(2**63)
    assert refused.value.code == "AMOUNT_OUT_OF_RANGE"
