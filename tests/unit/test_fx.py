"""Currency conversion at stored rates: exact fractions, one rounding, half to even."""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain import entities as e
from domain.errors import BadUserInput
from domain.fx import convert, units_per_unit
from domain.money import MAX_MINOR_UNITS, Money


def rate(base: str, quote: str, value: int, scale: int = 6) -> e.FxRate:
    return e.FxRate(
        1, 1, base, quote, value, scale, date(2025, 1, 1), datetime(2025, 1, 1, tzinfo=UTC)
    )


def test_direct_rate_converts_minor_units_exactly() -> None:
    # 500.00 EUR at 1.083400 USD per EUR is 541.70 USD
    converted = convert(Money(50_000, "EUR"), "USD", rate("EUR", "USD", 1_083_400))
    assert converted.converted == Money(54_170, "USD")
    assert converted.original == Money(50_000, "EUR")


def test_a_rate_stored_the_other_way_round_divides() -> None:
    # 541.70 USD back to EUR at 1.083400 USD per EUR is 500.00 EUR
    converted = convert(Money(54_170, "USD"), "EUR", rate("EUR", "USD", 1_083_400))
    assert converted.converted == Money(50_000, "EUR")
    assert converted.units_per_unit == 1 / Fraction(1_083_400, 10**6)


def test_exponents_differ_between_currencies() -> None:
    # 1,000 JPY (no minor unit) at 0.006700 USD per JPY is 6.70 USD; and 1.000 KWD
    # (three decimals) at 3.25 USD per KWD is 3.25 USD
    assert convert(Money(1_000, "JPY"), "USD", rate("JPY", "USD", 6_700)).converted == Money(
        670, "USD"
    )
    assert convert(Money(1_000, "KWD"), "USD", rate("KWD", "USD", 325, 2)).converted == Money(
        325, "USD"
    )


@pytest.mark.parametrize(("amount", "expected"), [(1, 0), (3, 2), (5, 2), (7, 4), (9, 4)])
def test_halves_round_to_even(amount: int, expected: int) -> None:
    # at 0.5 every odd amount lands on a half: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, 3.5 -> 4
    assert convert(Money(amount, "USD"), "EUR", rate("USD", "EUR", 5, 1)).converted.amount == (
        expected
    )


def test_a_rate_for_other_currencies_is_refused() -> None:
    with pytest.raises(ValueError):
        units_per_unit(rate("EUR", "USD", 1_000_000), "GBP", "USD")


@given(
    amount=st.integers(min_value=1, max_value=10**12),
    value=st.integers(min_value=1, max_value=10**9),
    scale=st.integers(min_value=0, max_value=9),
)
def test_conversion_is_within_half_a_minor_unit_of_the_exact_value(
    amount: int, value: int, scale: int
) -> None:
    assume(amount * value // 10**scale < MAX_MINOR_UNITS)  # beyond: refused, tested below
    converted = convert(Money(amount, "EUR"), "USD", rate("EUR", "USD", value, scale))
    exact = Fraction(amount * value, 10**scale)
    assert abs(converted.converted.amount - exact) <= Fraction(1, 2)


def test_a_conversion_beyond_64_bits_is_refused() -> None:
    with pytest.raises(BadUserInput):
        convert(Money(10**12, "EUR"), "USD", rate("EUR", "USD", 10**9, 0))
