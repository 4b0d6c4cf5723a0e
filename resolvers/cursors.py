"""Opaque cursors and global IDs: base64 of `<kind>:<value>`.

A cursor is the position of a row in its list's ordering: `cursor:<id>` when the list is
ordered by id alone, `cursor:<id>:<json>` otherwise, the JSON holding the ordering's
signature and the row's sort-key values. A cursor only fits the ordering it came from.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date, datetime
from typing import Any

from domain.errors import BadUserInput, DomainError
from domain.filtering import (
    FieldKind,
    SortKey,
    cursor_keys,
    parse_date,
    parse_datetime,
    plain_order,
)
from domain.paging import Position

MAX_ROW_ID = 2**63 - 1
MAX_CURSOR_LENGTH = 1024


def parse_row_id(text: str) -> int | None:
    """A database row id written as ASCII digits within BIGINT, or None. `str.isdigit`
    alone would admit `²` or `٣`."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if value <= MAX_ROW_ID else None


def _unwrap(token: str) -> tuple[str, str] | None:
    if len(token) > MAX_CURSOR_LENGTH:
        return None
    try:
        kind, raw = base64.b64decode(token, validate=True).decode().split(":", 1)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return kind, raw


def decode_token(token: str) -> tuple[str, int] | None:
    """`(kind, row id)` from a base64 `<kind>:<id>` token, or None when malformed."""
    unwrapped = _unwrap(token)
    if unwrapped is None:
        return None
    row_id = parse_row_id(unwrapped[1])
    return None if row_id is None else (unwrapped[0], row_id)


def encode(kind: str, value: int | str) -> str:
    return base64.b64encode(f"{kind}:{value}".encode()).decode()


def decode(kind: str, token: str, *, argument: str) -> int:
    """The integer inside a token of `kind`; BAD_USER_INPUT naming `argument` otherwise."""
    decoded = decode_token(token)
    if decoded is not None and decoded[0] == kind:
        return decoded[1]
    raise BadUserInput(f"`{argument}` is not a valid {kind} cursor.", field=argument)


def _signature(order: tuple[SortKey, ...]) -> str:
    return ",".join(key.signature for key in order)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return getattr(value, "value", value)  # enum members as their stored value


def encode_cursor(item: Any, order: tuple[SortKey, ...] = ()) -> str:
    """The cursor of `item` (any read model) in `order`."""
    if plain_order(order):
        return encode("cursor", item.id)
    return cursor_of(
        item.id, [_json_value(getattr(item, key.column)) for key in cursor_keys(order)], order
    )


def cursor_of(row_id: int, values: list[Any], order: tuple[SortKey, ...]) -> str:
    """The cursor of the row `row_id` whose sort-key values (as JSON values: moments in
    ISO-8601, enums by stored value) are `values`."""
    if plain_order(order):
        return encode("cursor", row_id)
    payload = json.dumps([_signature(order), values], separators=(",", ":"))
    return encode("cursor", f"{row_id}:{payload}")


def cursor_row_id(token: str) -> int | None:
    """The row id inside a cursor, whatever its ordering; None when malformed."""
    unwrapped = _unwrap(token)
    if unwrapped is None or unwrapped[0] != "cursor":
        return None
    return parse_row_id(unwrapped[1].partition(":")[0])


def decode_cursor(
    token: str | None, order: tuple[SortKey, ...] = (), *, argument: str = "after"
) -> Position | None:
    """The position a cursor names in `order`; BAD_USER_INPUT naming `argument` when it
    is malformed or was issued for another ordering."""
    if token is None:
        return None
    invalid = BadUserInput(f"`{argument}` is not a valid cursor.", field=argument)
    unwrapped = _unwrap(token)
    if unwrapped is None or unwrapped[0] != "cursor":
        raise invalid
    raw_id, _, payload = unwrapped[1].partition(":")
    row_id = parse_row_id(raw_id)
    if row_id is None:
        raise invalid
    keys = cursor_keys(order)
    if plain_order(order):
        if payload:
            raise _other_order(argument)
        return Position((row_id,))
    if not payload:
        raise _other_order(argument)
    try:
        signature, values = json.loads(payload)
    except (ValueError, TypeError):
        raise invalid from None
    if signature != _signature(order):
        raise _other_order(argument)
    if not isinstance(values, list) or len(values) != len(keys):
        raise invalid
    try:
        parsed = tuple(
            _parsed(key, value, argument) for key, value in zip(keys, values, strict=True)
        )
    except DomainError:
        raise invalid from None
    return Position((*parsed, row_id))


def _other_order(argument: str) -> BadUserInput:
    return BadUserInput(
        f"`{argument}` was issued for another sort order; start again from the first page.",
        field=argument,
    )


def _parsed(key: SortKey, value: Any, argument: str) -> Any:
    if value is None:
        if not key.nullable:
            raise BadUserInput("null in a non-null key", field=argument)
        return None
    if key.kind is FieldKind.DATETIME:
        return parse_datetime(value, argument)
    if key.kind is FieldKind.DATE:
        return parse_date(value, argument)
    if key.kind in (FieldKind.AMOUNT, FieldKind.ID):
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadUserInput("not an integer", field=argument)
        return value
    if not isinstance(value, str):
        raise BadUserInput("not a string", field=argument)
    return value
