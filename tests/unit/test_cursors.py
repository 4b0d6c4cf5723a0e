"""Opaque cursors and global IDs: base64 of `<kind>:<value>`."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import BadUserInput
from domain.filtering import FieldKind, SortKey
from domain.paging import Position
from resolvers.cursors import cursor_row_id, decode, decode_cursor, encode, encode_cursor
from resolvers.nodes import parse_global_id


@dataclass(frozen=True)
class Row:
    id: int
    created_at: datetime | None = None
    reference: str | None = None
    payment_date: date | None = None
    amount: int = 0


BY_ID = (SortKey("id"),)
NEWEST = (SortKey("created_at", True, FieldKind.DATETIME), SortKey("id"))
BY_REFERENCE_AND_DAY = (
    SortKey("reference", False, FieldKind.TEXT, nullable=True),
    SortKey("payment_date", True, FieldKind.DATE, nullable=True),
    SortKey("id"),
)


def _b64(raw: bytes | str) -> str:
    data = raw.encode() if isinstance(raw, str) else raw
    return base64.b64encode(data).decode()


# --- cursors ----------------------------------------------------------------------------


def test_a_cursor_in_id_order_is_base64_of_kind_and_row_id() -> None:
    assert encode_cursor(Row(42), BY_ID) == _b64("cursor:42")


def test_a_cursor_decodes_back_to_its_row_id() -> None:
    assert decode_cursor(encode_cursor(Row(42), BY_ID), BY_ID) == Position((42,))


def test_no_cursor_means_no_after_key() -> None:
    assert decode_cursor(None) is None


@given(row_id=st.integers(min_value=0, max_value=2**63 - 1))
def test_any_row_id_round_trips_through_a_cursor(row_id: int) -> None:
    assert decode_cursor(encode_cursor(Row(row_id), BY_ID), BY_ID) == Position((row_id,))


def test_a_sorted_cursor_carries_the_sort_values_and_the_id() -> None:
    moment = datetime(2025, 4, 15, 10, 12, 48, 123456, tzinfo=UTC)
    token = encode_cursor(Row(7, created_at=moment), NEWEST)

    assert decode_cursor(token, NEWEST) == Position((moment, 7))
    assert cursor_row_id(token) == 7


def test_null_sort_values_round_trip() -> None:
    row = Row(9, reference=None, payment_date=date(2025, 1, 2))
    token = encode_cursor(row, BY_REFERENCE_AND_DAY)

    assert decode_cursor(token, BY_REFERENCE_AND_DAY) == Position((None, date(2025, 1, 2), 9))


def test_a_cursor_of_another_sort_order_is_bad_user_input() -> None:
    token = encode_cursor(Row(7, created_at=datetime(2025, 1, 1, tzinfo=UTC)), NEWEST)

    for other in (
        BY_ID,
        BY_REFERENCE_AND_DAY,
        (SortKey("created_at", False, FieldKind.DATETIME), SortKey("id")),
    ):
        with pytest.raises(BadUserInput) as raised:
            decode_cursor(token, other)
        assert raised.value.field == "after"
        assert "another sort order" in raised.value.message


@pytest.mark.parametrize(
    "payload",
    [
        '["created_at-,id+",["not a date"]]',
        '["created_at-,id+",[null]]',  # created_at is not nullable
        '["created_at-,id+",[]]',
        '["created_at-,id+"]',
        "not json",
    ],
)
def test_a_tampered_sorted_cursor_is_bad_user_input(payload: str) -> None:
    with pytest.raises(BadUserInput) as raised:
        decode_cursor(_b64(f"cursor:7:{payload}"), NEWEST, argument="before")

    assert raised.value.field == "before"


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


def test_an_oversized_cursor_is_bad_user_input() -> None:
    with pytest.raises(BadUserInput):
        decode_cursor(_b64("cursor:1:" + "x" * 2000), NEWEST)


def test_an_id_descending_cursor_and_a_default_cursor_refuse_each_other() -> None:
    descending = (SortKey("id", True),)
    token = encode_cursor(Row(3), descending)

    assert decode_cursor(token, descending) == Position((3,))
    for wrong, order in ((token, BY_ID), (encode_cursor(Row(3), BY_ID), descending)):
        with pytest.raises(BadUserInput):
            decode_cursor(wrong, order)
