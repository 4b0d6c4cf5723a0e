"""Custom scalars."""

from __future__ import annotations

from typing import Any, NewType

import strawberry

from domain.money import MAX_MINOR_UNITS


def _parse_big_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("BigInt takes an integer or a string of digits")
    text = str(value).strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isdigit():
        raise ValueError("BigInt takes an integer or a string of digits")
    number = int(text)
    if abs(number) > MAX_MINOR_UNITS:
        raise ValueError("BigInt is outside the signed 64-bit range")
    return number


BigInt = NewType("BigInt", int)

BIG_INT = strawberry.scalar(
    name="BigInt",
    description=(
        "A signed 64-bit integer, serialized as a JSON string so JavaScript clients keep "
        "every digit. Accepts a string of digits or an integer as input."
    ),
    serialize=str,
    parse_value=_parse_big_int,
)

SCALAR_MAP = {BigInt: BIG_INT}
