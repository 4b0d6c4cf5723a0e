"""The bounds on what a caller may send, checked before anything is written or queried:
dates and moments (domain/date_bounds.py), a filter's total values, exact idempotency
keys and storable text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.date_bounds import (
    CLOCK_SKEW,
    EARLIEST_DATE,
    LATEST_DATE,
    as_utc,
    payment_date_problem,
    payment_moment_problem,
)
from domain.errors import BadUserInput
from domain.filtering import MAX_FILTER_VALUES, MAX_IN_VALUES, build_filter, parse_datetime
from domain.idempotency import MAX_KEY_LENGTH, checked_key
from domain.listings import LISTINGS
from schema.storable_text import is_storable, unstorable_path
from tests.unit.test_filtering import parse_id, payment_filter

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones()
    )
)
def test_any_moment_is_converted_or_refused_without_overflow(moment: datetime) -> None:
    utc = as_utc(moment)
    if utc is not None:
        assert utc.tzinfo is UTC
        assert EARLIEST_DATE <= utc.date() <= LATEST_DATE


@pytest.mark.parametrize(
    "moment",
    [
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(-timedelta(hours=23, minutes=59))),
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
        datetime(1969, 12, 31, 23, 0, tzinfo=UTC),
        datetime(1970, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),  # 1969 in UTC
        datetime(9001, 1, 1),
    ],
)
def test_a_moment_outside_1970_to_9000_is_refused(moment: datetime) -> None:
    assert as_utc(moment) is None
    with pytest.raises(BadUserInput, match="between 1970-01-01 and 9000-12-31"):
        parse_datetime(moment, "filter.createdAt.gte")


def test_the_edges_of_the_range_are_accepted() -> None:
    assert as_utc(datetime(1970, 1, 1)) == datetime(1970, 1, 1, tzinfo=UTC)
    assert as_utc(datetime(9000, 12, 31, 23, 59, 59, tzinfo=UTC)) is not None


@pytest.mark.parametrize(
    ("on", "problem"),
    [
        (date(1999, 12, 31), "must not be before 2000-01-01"),
        (date(2000, 1, 1), None),
        (NOW.date(), None),
        (NOW.date() + timedelta(days=1), "must not be in the future"),
    ],
)
def test_a_payment_date_lies_between_2000_and_today(on: date, problem: str | None) -> None:
    assert payment_date_problem(on, NOW) == problem


@pytest.mark.parametrize(
    ("moment", "problem"),
    [
        (datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), "must not be before 2000-01-01"),
        (datetime(2000, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))), "must not be before"),
        (datetime(2000, 1, 1, tzinfo=UTC), None),
        (NOW + CLOCK_SKEW, None),  # this very moment is not the future
        (NOW + CLOCK_SKEW + timedelta(seconds=1), "must not be in the future"),
    ],
)
def test_a_payment_moment_lies_between_2000_and_now_give_or_take_the_skew(
    moment: datetime, problem: str | None
) -> None:
    found = payment_moment_problem(moment, NOW)
    assert (found is None) == (problem is None)
    if problem is not None:
        assert found is not None and found.startswith(problem)


def test_a_filter_holds_at_most_the_values_budget_in_all() -> None:
    whole = [{"amount": {"in": list(range(MAX_IN_VALUES))}}] * (MAX_FILTER_VALUES // MAX_IN_VALUES)
    assert payment_filter({"or": whole}) is not None

    with pytest.raises(BadUserInput, match=f"at most {MAX_FILTER_VALUES} values in all") as error:
        payment_filter({"or": whole, "amount": {"eq": 1}})
    assert error.value.field == "filter.amount.eq"

    with pytest.raises(BadUserInput) as error:
        build_filter(
            LISTINGS["Payment"],
            {"or": [*whole, {"amount": {"in": [1]}}]},
            listings=LISTINGS,
            parse_id=parse_id,
        )
    assert error.value.field == "filter.or[4].amount.in"


@pytest.mark.parametrize("key", ["abc ", " abc", "\tabc", "abc\n", "a\x00c", "", "k" * 256])
def test_an_idempotency_key_is_refused_rather_than_trimmed(key: str) -> None:
    with pytest.raises(BadUserInput) as error:
        checked_key(key)
    assert error.value.field == "idempotencyKey"


@pytest.mark.parametrize("key", ["abc", "a b c", "k" * MAX_KEY_LENGTH, "clé-ünïcode"])
def test_an_idempotency_key_is_kept_exactly_as_written(key: str) -> None:
    assert checked_key(key) == key


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "x\udfff", "\udbff\udc00"])
def test_nul_and_lone_surrogates_are_not_storable(text: str) -> None:
    assert not is_storable(text)


def test_the_path_of_unstorable_text_names_where_it_is_never_what() -> None:
    assert unstorable_path({"f": {"or": [{"a": "ok"}, {"b": "\x00"}]}}, "") == "f.or.1.b"
    assert unstorable_path({"f": {"\ud800": 1}}, "") == "f"
    assert unstorable_path({"\ud800": 1}, "") == "variables"
    assert unstorable_path({"f": ["ok", "also ok", "emoji 😀 ok"]}, "") is None
