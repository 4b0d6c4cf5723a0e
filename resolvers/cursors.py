"""Opaque cursors and global IDs: base64 of `<kind>:<value>`."""

from __future__ import annotations

import base64
import binascii

from domain.errors import BadUserInput

MAX_ROW_ID = 2**63 - 1


def parse_row_id(text: str) -> int | None:
    """A database row id written as ASCII digits within BIGINT, or None. `str.isdigit`
    alone would admit `²` or `٣`."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if value <= MAX_ROW_ID else None


def decode_token(token: str) -> tuple[str, int] | None:
    """`(kind, row id)` from a base64 `<kind>:<id>` token, or None when malformed."""
    try:
        kind, raw = base64.b64decode(token, validate=True).decode().split(":", 1)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    row_id = parse_row_id(raw)
    return None if row_id is None else (kind, row_id)


def encode(kind: str, value: int) -> str:
    return base64.b64encode(f"{kind}:{value}".encode()).decode()


def decode(kind: str, token: str, *, argument: str) -> int:
    """The integer inside a token of `kind`; BAD_USER_INPUT naming `argument` otherwise."""
    decoded = decode_token(token)
    if decoded is not None and decoded[0] == kind:
        return decoded[1]
    raise BadUserInput(f"`{argument}` is not a valid {kind} cursor.", field=argument)


def encode_cursor(row_id: int) -> str:
    return encode("cursor", row_id)


def decode_cursor(token: str | None, *, argument: str = "after") -> int | None:
    return None if token is None else decode("cursor", token, argument=argument)
