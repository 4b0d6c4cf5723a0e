"""Opaque cursors and global IDs: base64 of `<kind>:<value>`."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import BadUserInput
from resolvers.cursors import decode, decode_cursor, encode, encode_cursor
from resolvers.nodes import parse_global_id


def _b64(raw: bytes | str) -> str:
    data = raw.encode() if isinstance(raw, str) else raw
    return base64.b64encode(data).decode()


# --- cursors ----------------------------------------------------------------------------


def test_a_cursor_is_base64_of_kind_and_row_id() -> None:
    assert encode_cursor(42) == _b64("cursor:42")


def test_a_cursor_decodes_back_to_its_row_id() -> None:
    assert decode_cursor(encode_cursor(42)) == 42


def test_no_cursor_means_no_after_key() -> None:
    assert decode_cursor(None) is None


@given(row_id=st.integers(min_value=0, max_value=2**63 - 1))
def test_any_row_id_round_trips_through_a_cursor(row_id: int) -> None:
    assert decode_cursor(encode_cursor(row_id)) == row_id


@given(
    kind=st.sampled_from(["cursor", "Payment", "Invoice"]),
    value=st.integers(min_value=0, max_value=2**63 - 1),
)
def test_any_kind_round_trips_through_encode_and_decode(kind: str, value: int) -> None:
    assert decode(kind, encode(kind, value), argument="x") == value


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not base64!",
        "@@@@",
        "Y3Vyc29yOjQ",  # truncated: bad padding
        _b64("cursor"),  # no separator
        _b64("cursor:"),  # no value
        _b64("cursor:-1"),  # negative
        _b64("cursor:1.5"),
        _b64("cursor: 7"),
        _b64("cursor:abc"),
        _b64("Payment:42"),  # another kind
        _b64("CURSOR:42"),
        _b64(b"\xff\xfe:42"),  # not UTF-8
    ],
)
def test_a_garbage_cursor_is_bad_user_input(token: str) -> None:
    with pytest.raises(BadUserInput) as raised:
        decode_cursor(token)

    assert raised.value.code == "BAD_USER_INPUT"
    assert raised.value.field == "after"


def test_a_garbage_cursor_error_names_the_argument_it_came_from() -> None:
    with pytest.raises(BadUserInput) as raised:
        decode_cursor("garbage!", argument="before")

    assert raised.value.field == "before"
    assert "`before`" in raised.value.message


def test_a_token_of_another_kind_is_refused_naming_the_expected_kind() -> None:
    with pytest.raises(BadUserInput) as raised:
        decode("Invoice", encode("Payment", 1), argument="id")

    assert raised.value.field == "id"
    assert "Invoice" in raised.value.message


# --- global IDs -------------------------------------------------------------------------


def test_a_global_id_parses_into_type_name_and_row_id() -> None:
    assert parse_global_id(_b64("Payment:17")) == ("Payment", 17)


def test_a_global_id_made_by_encode_parses_back() -> None:
    assert parse_global_id(encode("Invoice", 900)) == ("Invoice", 900)


def test_only_the_first_colon_separates_the_type_name() -> None:
    assert parse_global_id(_b64("Payment:1:2")) is None


@pytest.mark.parametrize(
    "global_id",
    [
        "",
        "17",
        "not base64!",
        _b64("Payment"),
        _b64("Payment:"),
        _b64("Payment:-1"),
        _b64("Payment:abc"),
        _b64(b"\xff:1"),
    ],
)
def test_a_malformed_global_id_parses_to_none(global_id: str) -> None:
    assert parse_global_id(global_id) is None


@pytest.mark.parametrize("raw", ["²", "٣", str(2**63), "+5", " 5", ""], ids=repr)
def test_a_global_id_with_a_row_id_that_is_not_ascii_bigint_digits_is_not_ours(raw: str) -> None:
    token = base64.b64encode(f"Payment:{raw}".encode()).decode()
    assert parse_global_id(token) is None


def test_a_cursor_beyond_bigint_is_bad_user_input() -> None:
    with pytest.raises(BadUserInput):
        decode_cursor(base64.b64encode(f"cursor:{2**70}".encode()).decode())
