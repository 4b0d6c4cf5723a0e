"""Custom scalars: BigInt, and Date / DateTime held to the dates PayGraph accepts
(domain/date_bounds.py), so no date reaches a filter, a column or a UTC conversion that
could overflow."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, NewType

import dateutil.parser
import strawberry
from strawberry.file_uploads import Upload
from strawberry.schema.types.base_scalars import isoformat
from strawberry.types.scalar import ScalarDefinition

from domain.date_bounds import OUT_OF_RANGE, as_utc, date_in_range
from domain.money import MAX_MINOR_UNITS

# ASCII digits with an optional leading minus: no plus sign, no spaces, no other
# script's digits (`str.isdigit` and `int()` take `١٢` as 12), no underscores.
SIGNED_DIGITS = re.compile(r"-?[0-9]+")
MAX_DIGITS = len(str(MAX_MINOR_UNITS))
NOT_AN_INTEGER = "BigInt takes an integer or a string of ASCII digits with an optional leading -"


def _parse_big_int(value: Any) -> int:
    """A JSON integer, or a string of ASCII digits with an optional leading `-`. A JSON
    number with a fraction or an exponent (`12.0`, `1e3`) is not an integer here."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(NOT_AN_INTEGER)
    if isinstance(value, str):
        if not SIGNED_DIGITS.fullmatch(value):
            raise ValueError(NOT_AN_INTEGER)
        if len(value.lstrip("-").lstrip("0")) > MAX_DIGITS:
            raise ValueError("BigInt is outside the signed 64-bit range")
    number: int = int(value) if isinstance(value, str) else value
    if abs(number) > MAX_MINOR_UNITS:
        raise ValueError("BigInt is outside the signed 64-bit range")
    return number


def _parse_date(value: Any) -> dt.date:
    if not isinstance(value, str):
        raise ValueError("Date takes an ISO-8601 date such as 2025-04-01")
    try:
        on = dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"Date takes an ISO-8601 date such as 2025-04-01, not {value!r}") from None
    if not date_in_range(on):
        raise ValueError(f"Date {OUT_OF_RANGE}")
    return on


def _parse_datetime(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime takes an ISO-8601 date and time")
    try:
        moment: dt.datetime = dateutil.parser.isoparse(value)
    except (ValueError, OverflowError):
        raise ValueError(f"DateTime takes an ISO-8601 date and time, not {value!r}") from None
    if as_utc(moment) is None:
        raise ValueError(f"DateTime {OUT_OF_RANGE} (in UTC)")
    return moment


def _parse_upload(value: Any) -> Any:
    """A file of a GraphQL multipart request (Strawberry puts the parsed file where the
    `map` points); any JSON value sent in its place is refused, not passed on."""
    if not callable(getattr(getattr(value, "file", None), "read", None)):
        raise ValueError("Upload takes a file sent as a GraphQL multipart request")
    return value


BigInt = NewType("BigInt", int)

BIG_INT = strawberry.scalar(
    name="BigInt",
    description=(
        "A signed 64-bit integer, serialized as a JSON string so JavaScript clients keep "
        "every digit. Accepts a JSON integer, or a string of ASCII digits with an optional "
        "leading `-` (no `+`, spaces, fraction or exponent)."
    ),
    serialize=str,
    parse_value=_parse_big_int,
)

DATE = ScalarDefinition(
    name="Date",
    description="A calendar date, ISO-8601 (`2025-04-01`), from 1970-01-01 to 9000-12-31.",
    specified_by_url=None,
    serialize=isoformat,
    parse_value=_parse_date,
    parse_literal=None,
    origin=dt.date,
)

DATE_TIME = ScalarDefinition(
    name="DateTime",
    description=(
        "A moment, ISO-8601 (`2025-04-01T12:00:00Z`; without an offset it is UTC), from "
        "1970-01-01 to 9000-12-31 in UTC."
    ),
    specified_by_url=None,
    serialize=isoformat,
    parse_value=_parse_datetime,
    parse_literal=None,
    origin=dt.datetime,
)

UPLOAD = ScalarDefinition(
    name="Upload",
    description="Represents a file upload.",
    specified_by_url=None,
    serialize=lambda value: value,
    parse_value=_parse_upload,
    parse_literal=None,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {
    BigInt: BIG_INT,
    dt.date: DATE,
    dt.datetime: DATE_TIME,
    Upload: UPLOAD,
}
