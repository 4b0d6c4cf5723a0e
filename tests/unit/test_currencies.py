"""The ISO 4217 table: lookups and the table's own consistency."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from domain.currencies import ISO_4217, Currency, currency, currency_by_numeric
from domain.errors import BadUserInput, UnknownCurrency


@pytest.mark.parametrize("code", ["USD", "usd", "Usd", "uSD"])
def test_a_currency_is_found_by_its_alpha_code_in_any_case(code: str) -> None:
    found = currency(code)

    assert found == Currency("USD", 840, 2, "US Dollar")


def test_a_currency_is_found_by_its_numeric_code() -> None:
    assert currency_by_numeric(392).code == "JPY"
    assert currency_by_numeric(978).code == "EUR"


def test_numeric_codes_with_leading_zeros_are_read_as_integers() -> None:
    # The table spells Lek as 008; the lookup takes the integer.
    assert currency_by_numeric(8).code == "ALL"
    assert currency("ALL").numeric == 8


@pytest.mark.parametrize("code", ["XYZ", "", "US", "USDX", "123"])
def test_an_unknown_alpha_code_raises_unknown_currency(code: str) -> None:
    with pytest.raises(UnknownCurrency) as raised:
        currency(code)

    assert isinstance(raised.value, BadUserInput)
    assert raised.value.code == "BAD_USER_INPUT"
    assert raised.value.field == "currency"


@pytest.mark.parametrize("numeric", [0, 1, 999, -840])
def test_an_unknown_numeric_code_raises_unknown_currency(numeric: int) -> None:
    with pytest.raises(UnknownCurrency) as raised:
        currency_by_numeric(numeric)

    assert str(numeric) in raised.value.message


@pytest.mark.parametrize(
    ("code", "exponent"),
    [("JPY", 0), ("KRW", 0), ("USD", 2), ("EUR", 2), ("KWD", 3), ("BHD", 3), ("CLF", 4)],
)
def test_each_currency_carries_its_minor_unit_exponent(code: str, exponent: int) -> None:
    assert currency(code).exponent == exponent


def test_every_alpha_code_is_three_upper_case_letters() -> None:
    bad = [code for code in ISO_4217 if not re.fullmatch(r"[A-Z]{3}", code)]

    assert bad == []


def test_every_table_key_matches_its_currency_code() -> None:
    assert all(key == entry.code for key, entry in ISO_4217.items())


def test_numeric_codes_are_unique() -> None:
    counts = Counter(entry.numeric for entry in ISO_4217.values())

    assert [numeric for numeric, count in counts.items() if count > 1] == []


def test_numeric_codes_are_three_digit_positive_numbers() -> None:
    assert all(1 <= entry.numeric <= 999 for entry in ISO_4217.values())


def test_exponents_are_only_the_iso_minor_unit_sizes() -> None:
    assert {entry.exponent for entry in ISO_4217.values()} <= {0, 2, 3, 4}


def test_every_currency_has_a_name() -> None:
    assert all(entry.name.strip() for entry in ISO_4217.values())


def test_numeric_lookup_agrees_with_alpha_lookup_for_every_currency() -> None:
    for entry in ISO_4217.values():
        assert currency_by_numeric(entry.numeric) is entry
        assert currency(entry.code.lower()) is entry
