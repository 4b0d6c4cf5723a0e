"""The BigInt scalar's input parsing: JSON integers, or strings of ASCII digits with an
optional leading minus; signed 64-bit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.money import MAX_MINOR_UNITS
from schema.scalars import _parse_big_int


@pytest.mark.parametrize("value", [0, 1, -1, 123456789, MAX_MINOR_UNITS, -MAX_MINOR_UNITS])
def test_an_integer_is_taken_as_it_is(value: int) -> None:
    assert _parse_big_int(value) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("42", 42),
        ("007", 7),
        ("9223372036854775807", MAX_MINOR_UNITS),
        ("-9223372036854775807", -MAX_MINOR_UNITS),
    ],
)
def test_a_string_of_digits_is_parsed(text: str, expected: int) -> None:
    assert _parse_big_int(text) == expected


@pytest.mark.parametrize(("text", "expected"), [("-5", -5), ("-0", 0)])
def test_a_single_leading_minus_is_allowed(text: str, expected: int) -> None:
    assert _parse_big_int(text) == expected


@pytest.mark.parametrize(
    "text",
    # A plus sign, whitespace anywhere, or digits of another script (Arabic-Indic,
    # Devanagari, full-width, superscript) are not a BigInt, though int() reads them.
    ["+5", "+0", " 12", "12 ", "  12 ", "\t12", "12\n", "١٢", "१२", "\uff11\uff12", "²", "1٢"],
)
def test_only_ascii_digits_and_a_leading_minus_are_taken(text: str) -> None:
    with pytest.raises(ValueError, match="integer or a string of ASCII digits"):
        _parse_big_int(text)


@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_is_refused(value: bool) -> None:
    with pytest.raises(ValueError, match="integer or a string of ASCII digits"):
        _parse_big_int(value)


@pytest.mark.parametrize("value", [1.0, 0.5, float("inf"), "1.0", "1e3", "1.5"])
def test_a_float_or_decimal_text_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="integer or a string of ASCII digits"):
        _parse_big_int(value)


@pytest.mark.parametrize(
    "value", ["", " ", "+", "-", "--5", "+-5", "5-", "1 000", "1,000", "1_000", "0x10", "abc"]
)
def test_text_that_is_not_a_signed_run_of_digits_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="integer or a string of ASCII digits"):
        _parse_big_int(value)


@pytest.mark.parametrize("value", [None, [1], {"value": 1}, b"12"])
def test_other_types_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="integer or a string of ASCII digits"):
        _parse_big_int(value)


@pytest.mark.parametrize(
    "value",
    [2**63, -(2**63) - 1, "9223372036854775808", "-9223372036854775809", "9" * 40, "9" * 5000],
)
def test_a_value_outside_the_signed_64_bit_range_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="64-bit"):
        _parse_big_int(value)


@given(value=st.integers(min_value=-MAX_MINOR_UNITS, max_value=MAX_MINOR_UNITS))
def test_any_in_range_integer_round_trips_through_its_string_form(value: int) -> None:
    # The scalar serializes with str(); parsing that string gives the number back.
    assert _parse_big_int(str(value)) == value
    assert _parse_big_int(value) == value
