"""Opaque cursors and global IDs: base64 of `<kind>:<value>`."""

from __future__ import annotations

import base64
import binascii

from domain.errors import BadUserInput


def encode(kind: str, value: int) -> str:
    return base64.b64encode(f"{kind}:{value}".encode()).decode()


def decode(kind: str, token: str, *, argument: str) -> int:
    """The integer inside a token of `kind`; BAD_USER_INPUT naming `argument` otherwise."""
    try:
        found_kind, value = base64.b64decode(token, validate=True).decode().split(":", 1)
        if found_kind == kind and value.isdigit():
            return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise BadUserInput(f"`{argument}` is not a valid {kind} cursor.", field=argument)


def encode_cursor(row_id: int) -> str:
    return encode("cursor", row_id)


def decode_cursor(token: str | None, *, argument: str = "after") -> int | None:
    return None if token is None else decode("cursor", token, argument=argument)
