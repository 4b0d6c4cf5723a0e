"""Money: integer minor units in one ISO 4217 currency."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.currencies import ISO_4217
from domain.errors import BadUserInput, CurrencyMismatch, DomainError
from domain.money import MAX_MINOR_UNITS, Money

# Small enough that sums of three never leave the 64-bit range.
modest_amounts = st.integers(min_value=-(2**60), max_value=2**60)
in_range_amounts = st.integers(min_value=-MAX_MINOR_UNITS, max_value=MAX_MINOR_UNITS)


def _amount_from_formatted(text: str, code: str) -> int:
    number, _, found_code = text.partition(" ")
    assert found_code == code
    return int(number.replace(",", "").replace(".", ""))


# --- construction -----------------------------------------------------------------------


def test_an_integer_amount_in_a_known_currency_is_accepted() -> None:
    money = Money(1234, "USD")

    assert money.amount == 1234
    assert money.currency == "USD"


@pytest.mark.parametrize("amount", [1.0, 0.1, 12.5, float("nan")])
def test_a_float_amount_is_refused(amount: float) -> None:
    with pytest.raises(BadUserInput) as raised:
        Money(amount, "USD")  # type: ignore[arg-type]

    assert raised.value.field == "amount"


@pytest.mark.parametrize("amount", [True, False])
def test_a_boolean_amount_is_refused_even_though_bool_is_an_int(amount: bool) -> None:
    with pytest.raises(BadUserInput) as raised:
        Money(amount, "USD")

    assert raised.value.field == "amount"


@pytest.mark.parametrize("amount", ["100", None])
def test_a_non_numeric_amount_is_refused(amount: object) -> None:
    with pytest.raises(BadUserInput):
        Money(amount, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [MAX_MINOR_UNITS, -MAX_MINOR_UNITS, 0])
def test_amounts_at_the_edge_of_the_64_bit_range_are_accepted(amount: int) -> None:
    assert Money(amount, "USD").amount == amount


@pytest.mark.parametrize("amount", [2**63, -(2**63) - 1, 2**64, -(2**100)])
def test_amounts_outside_the_64_bit_range_are_refused(amount: int) -> None:
    with pytest.raises(BadUserInput) as raised:
        Money(amount, "USD")

    assert raised.value.field == "amount"
    assert raised.value.code == "BAD_USER_INPUT"


def test_an_unknown_currency_is_refused_at_construction() -> None:
    with pytest.raises(BadUserInput) as raised:
        Money(100, "XYZ")

    assert raised.value.field == "currency"


def test_money_is_immutable() -> None:
    money = Money(100, "USD")

    with pytest.raises(AttributeError):
        money.amount = 200  # type: ignore[misc]


def test_precision_is_the_currency_exponent() -> None:
    assert Money(1, "JPY").precision == 0
    assert Money(1, "USD").precision == 2
    assert Money(1, "KWD").precision == 3
    assert Money(1, "USD").currency_info.numeric == 840


# --- arithmetic -------------------------------------------------------------------------


def test_adding_money_in_one_currency_sums_the_minor_units() -> None:
    assert Money(150, "USD") + Money(275, "USD") == Money(425, "USD")


def test_subtracting_money_in_one_currency_can_go_negative() -> None:
    assert Money(100, "EUR") - Money(250, "EUR") == Money(-150, "EUR")


def test_negating_money_flips_the_sign_and_keeps_the_currency() -> None:
    assert -Money(42, "JPY") == Money(-42, "JPY")
    assert -Money(-42, "JPY") == Money(42, "JPY")
    assert -Money(0, "JPY") == Money(0, "JPY")


def test_adding_money_in_two_currencies_is_refused() -> None:
    with pytest.raises(CurrencyMismatch) as raised:
        Money(100, "USD") + Money(100, "EUR")

    error = raised.value
    assert isinstance(error, BadUserInput)
    assert isinstance(error, DomainError)
    assert error.code == "BAD_USER_INPUT"
    assert error.field == "currency"
    assert "USD" in error.message
    assert "EUR" in error.message


def test_subtracting_money_in_two_currencies_is_refused() -> None:
    with pytest.raises(CurrencyMismatch) as raised:
        Money(100, "JPY") - Money(1, "KWD")

    assert raised.value.code == "BAD_USER_INPUT"


def test_a_sum_that_leaves_the_64_bit_range_is_refused() -> None:
    with pytest.raises(BadUserInput):
        Money(MAX_MINOR_UNITS, "USD") + Money(1, "USD")


@given(a=modest_amounts, b=modest_amounts, c=modest_amounts)
def test_addition_within_one_currency_is_associative_and_commutative(
    a: int, b: int, c: int
) -> None:
    x, y, z = Money(a, "USD"), Money(b, "USD"), Money(c, "USD")

    assert x + y == y + x
    assert (x + y) + z == x + (y + z)
    assert (x + y).amount == a + b


@given(a=modest_amounts, b=modest_amounts)
def test_subtraction_is_addition_of_the_negation(a: int, b: int) -> None:
    x, y = Money(a, "KWD"), Money(b, "KWD")

    assert x - y == x + (-y)
    assert (x - y) + y == x


# --- formatting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "code", "expected"),
    [
        (123456, "USD", "1,234.56 USD"),
        (5, "USD", "0.05 USD"),
        (0, "USD", "0.00 USD"),
        (100000000, "USD", "1,000,000.00 USD"),
        (1000, "JPY", "1,000 JPY"),
        (7, "JPY", "7 JPY"),
        (0, "JPY", "0 JPY"),
        (1234567, "KWD", "1,234.567 KWD"),
        (5, "KWD", "0.005 KWD"),
        (12345, "CLF", "1.2345 CLF"),
    ],
)
def test_format_shows_major_units_thousands_separators_and_exact_minor_digits(
    amount: int, code: str, expected: str
) -> None:
    assert Money(amount, code).format() == expected


@pytest.mark.parametrize(
    ("amount", "code", "expected"),
    [
        (-123456789, "USD", "-1,234,567.89 USD"),
        (-1, "USD", "-0.01 USD"),
        (-5, "KWD", "-0.005 KWD"),
        (-1000000, "JPY", "-1,000,000 JPY"),
    ],
)
def test_format_puts_the_minus_sign_before_the_whole_number(
    amount: int, code: str, expected: str
) -> None:
    assert Money(amount, code).format() == expected


@given(amount=in_range_amounts, code=st.sampled_from(sorted(ISO_4217)))
def test_format_round_trips_to_the_integer_amount_for_every_exponent(
    amount: int, code: str
) -> None:
    money = Money(amount, code)

    text = money.format()

    assert _amount_from_formatted(text, code) == amount
    number = text.split(" ")[0]
    if money.precision:
        assert len(number.rsplit(".", 1)[1]) == money.precision
    else:
        assert "." not in number


def test_a_lower_case_currency_code_is_stored_in_its_canonical_form() -> None:
    assert Money(1, "usd").currency == "USD"
    assert Money(1, "usd") + Money(2, "USD") == Money(3, "USD")
