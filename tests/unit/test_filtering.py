"""The filter, sort and window language every list shares, checked before any SQL: what a
caller's arguments turn into, and which argument an error names."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from domain.errors import BadUserInput, InvalidDateRange, PageSizeTooLarge
from domain.filtering import (
    ID_ASCENDING,
    MAX_FILTER_DEPTH,
    MAX_FILTER_NODES,
    MAX_IN_VALUES,
    MAX_TEXT_LENGTH,
    AllOf,
    AnyOf,
    Condition,
    FieldKind,
    Negation,
    Op,
    SortKey,
    Through,
    build_filter,
    build_sort,
    sort_direction_named,
    sort_field_named,
)
from domain.listings import LISTINGS
from domain.paging import (
    DEFAULT_PAGE_SIZE,
    MAX_OFFSET,
    MAX_PAGE_SIZE,
    Keyset,
    ListRequest,
    Offset,
    Page,
    Position,
)
from domain.portfolio import commission_filter, portfolio_filter
from domain.statuses import STATUSES_BY_KIND, PaymentKind, PaymentStatus

PAYMENT = LISTINGS["Payment"]
DETAIL = LISTINGS["PaymentDetail"]
ACQUIRING = Condition("kind", Op.EQ, "acquiring")
MARCH_1 = datetime(2025, 3, 1, tzinfo=UTC)
MARCH_31 = datetime(2025, 3, 31, 23, 59, 59, tzinfo=UTC)


def parse_id(target: str | None, raw: Any, path: str) -> int:
    """A stand-in for the edge's id parser: numeric ids only, errors naming the path."""
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise BadUserInput(f"`{path}`: {raw!r} is not a {target} id.", field=path) from None


def payment_filter(data: dict[str, Any] | None) -> Any:
    return build_filter(PAYMENT, data, listings=LISTINGS, parse_id=parse_id)


def refused(data: dict[str, Any]) -> BadUserInput:
    with pytest.raises(BadUserInput) as raised:
        payment_filter(data)
    return raised.value


def nested(depth: int) -> dict[str, Any]:
    data: dict[str, Any] = {"amount": {"eq": 1}}
    for _ in range(depth):
        data = {"not": data}
    return data


# --- build_filter: what a filter becomes ------------------------------------------------


@pytest.mark.parametrize("data", [None, {}, {"status": None}, {"amount": {"eq": None}}])
def test_a_filter_that_leaves_nothing_out_builds_to_none(data: dict[str, Any] | None) -> None:
    assert payment_filter(data) is None


def test_one_predicate_builds_to_one_condition_on_its_column() -> None:
    assert payment_filter({"partner_id": {"eq": "7"}}) == Condition("partner_id", Op.EQ, 7)


def test_fields_and_their_predicates_all_combine_with_and() -> None:
    built = payment_filter({"amount": {"gte": 100, "lte": 500}, "status": {"eq": "paid"}})

    assert built == AllOf(
        (
            Condition("amount", Op.GTE, 100),
            Condition("amount", Op.LTE, 500),
            Condition("status", Op.EQ, "paid"),
        )
    )


def test_an_enum_predicate_takes_the_member_or_its_value() -> None:
    by_member = payment_filter({"status": {"eq": PaymentStatus.MANUALLY_PAID}})
    by_value = payment_filter({"status": {"eq": "manually_paid"}})

    assert by_member == by_value == Condition("status", Op.EQ, "manually_paid")


def test_an_in_list_is_deduplicated_into_a_stable_tuple() -> None:
    first = payment_filter({"payment_method_id": {"in": ["3", "1", "3"]}})
    second = payment_filter({"payment_method_id": {"in": ["1", "3"]}})

    assert first == second == Condition("payment_method_id", Op.IN, (1, 3))
    assert hash(first) == hash(second)  # the tree keys dataloaders


def test_currency_codes_are_matched_in_any_case() -> None:
    built = payment_filter({"currency": {"in": ["usd", "EUR", "Usd"]}})

    assert built == Condition("currency", Op.IN, ("EUR", "USD"))


def test_a_date_predicate_takes_an_iso_date_or_a_date() -> None:
    assert payment_filter({"payment_date": {"eq": "2025-04-01"}}) == payment_filter(
        {"payment_date": {"eq": date(2025, 4, 1)}}
    )


def test_a_datetime_without_an_offset_is_read_as_utc_and_others_are_converted() -> None:
    naive = payment_filter({"created_at": {"gte": "2025-03-01T12:00:00"}})
    shifted = payment_filter({"created_at": {"gte": "2025-03-01T14:00:00+02:00"}})
    aware = payment_filter(
        {"created_at": {"gte": datetime(2025, 3, 1, 7, tzinfo=timezone(timedelta(hours=-5)))}}
    )

    expected = Condition("created_at", Op.GTE, datetime(2025, 3, 1, 12, tzinfo=UTC))
    assert naive == shifted == aware == expected
    assert naive.value.utcoffset() == timedelta(0)


def test_a_range_with_equal_bounds_is_one_value_and_allowed() -> None:
    built = payment_filter({"amount": {"gte": 100, "lte": 100}})

    assert built == AllOf((Condition("amount", Op.GTE, 100), Condition("amount", Op.LTE, 100)))


def test_is_null_takes_a_flag() -> None:
    assert payment_filter({"invoice_id": {"is_null": True}}) == Condition(
        "invoice_id", Op.IS_NULL, True
    )


def test_a_relation_filter_reaches_through_its_foreign_key() -> None:
    built = payment_filter({"user": {"name": {"contains": "ana"}}})

    assert isinstance(built, Through)
    assert built.relation.columns == ("user_id",)
    assert built.relation.target == "User"
    assert built.where == Condition("name", Op.CONTAINS, "ana")


def test_document_003s_address_matches_the_sender_or_the_receiver() -> None:
    built = payment_filter({"address": {"city": {"eq": "Austin"}}})

    assert isinstance(built, Through)
    assert built.relation.columns == ("sender_id", "receiver_id")


def test_an_empty_relation_filter_still_requires_a_related_row() -> None:
    built = payment_filter({"invoice": {}})

    assert isinstance(built, Through)
    assert built.where == AllOf(())


def test_like_wildcards_are_kept_as_the_callers_text() -> None:
    # The SQL compiler escapes them; the tree keeps exactly what was typed.
    assert payment_filter({"reference": {"contains": "100%_x"}}) == Condition(
        "reference", Op.CONTAINS, "100%_x"
    )


def test_and_or_not_build_their_nodes() -> None:
    built = payment_filter(
        {
            "or": [{"amount": {"eq": 1}}, {"amount": {"eq": 2}}],
            "not": {"status": {"eq": "paid"}},
        }
    )

    assert built == AllOf(
        (
            AnyOf((Condition("amount", Op.EQ, 1), Condition("amount", Op.EQ, 2))),
            Negation(Condition("status", Op.EQ, "paid")),
        )
    )


def test_an_or_with_an_empty_member_matches_everything() -> None:
    assert payment_filter({"or": [{"amount": {"eq": 1}}, {}]}) == AllOf(())


def test_not_of_an_empty_filter_matches_nothing() -> None:
    assert payment_filter({"not": {}}) == Negation(AllOf(()))


def test_filters_may_nest_to_the_maximum_depth() -> None:
    assert payment_filter(nested(MAX_FILTER_DEPTH)) is not None


def test_filters_may_hold_the_maximum_number_of_conditions() -> None:
    data = {"or": [{"amount": {"eq": n}} for n in range(MAX_FILTER_NODES)]}

    built = payment_filter(data)

    assert isinstance(built, AnyOf) and len(built.parts) == MAX_FILTER_NODES


def test_an_in_list_may_hold_the_maximum_number_of_values() -> None:
    built = payment_filter({"amount": {"in": list(range(MAX_IN_VALUES))}})

    assert isinstance(built, Condition) and len(built.value) == MAX_IN_VALUES


def test_other_listings_build_with_their_own_fields() -> None:
    built = build_filter(
        DETAIL,
        {"carrier": {"contains": "dhl"}, "partner_id": {"eq": "4"}},
        listings=LISTINGS,
        parse_id=parse_id,
        path="filter",
    )

    assert built == AllOf(
        (Condition("carrier", Op.CONTAINS, "dhl"), Condition("partner_id", Op.EQ, 4))
    )


# --- build_filter: what it refuses, naming the argument ---------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"status": {"in": []}}, "filter.status.in"),
        ({"payment_method_id": {"in": []}}, "filter.paymentMethodId.in"),
        ({"amount": {"gte": 500, "lte": 100}}, "filter.amount"),
        ({"payment_date": {"gte": "2025-05-01", "lte": "2025-04-01"}}, "filter.paymentDate"),
        (
            {"created_at": {"gte": "2025-03-02T00:00:00Z", "lte": "2025-03-01T00:00:00Z"}},
            "filter.createdAt",
        ),
        ({"payment_date": {"gte": "2025-13-01"}}, "filter.paymentDate.gte"),
        ({"payment_date": {"eq": "yesterday"}}, "filter.paymentDate.eq"),
        ({"payment_date": {"eq": datetime(2025, 3, 1, tzinfo=UTC)}}, "filter.paymentDate.eq"),
        ({"created_at": {"lte": "2025-02-30T00:00:00"}}, "filter.createdAt.lte"),
        ({"currency": {"eq": "XXZ"}}, "filter.currency.eq"),
        ({"currency": {"in": ["USD", "dollars"]}}, "filter.currency.in[1]"),
        ({"status": {"eq": "teleported"}}, "filter.status.eq"),
        ({"status": {"gte": "paid"}}, "filter.status.gte"),
        ({"amount": {"contains": "1"}}, "filter.amount.contains"),
        ({"amount": {"eq": "100"}}, "filter.amount.eq"),
        ({"amount": {"eq": True}}, "filter.amount.eq"),
        ({"amount": {"eq": 1.5}}, "filter.amount.eq"),
        ({"authorized": {"eq": "yes"}}, "filter.authorized.eq"),
        ({"invoice_id": {"is_null": "no"}}, "filter.invoiceId.isNull"),
        ({"invoice_id": {"eq": "INV-1"}}, "filter.invoiceId.eq"),
        ({"reference": {"eq": 42}}, "filter.reference.eq"),
        ({"reference": {"contains": "x" * (MAX_TEXT_LENGTH + 1)}}, "filter.reference.contains"),
        ({"status": {"in": "paid"}}, "filter.status.in"),
        ({"paid_amount_ratio": {"eq": 1}}, "filter.paidAmountRatio"),
        ({"user": {"salary": {"gte": 1}}}, "filter.user.salary"),
        ({"and": []}, "filter.and"),
        ({"or": []}, "filter.or"),
        ({"or": [{"amount": {"eq": 1}}, {"amount": {"gte": 9, "lte": 1}}]}, "filter.or[1].amount"),
        ({"amount": {"in": list(range(MAX_IN_VALUES + 1))}}, "filter.amount.in"),
    ],
)
def test_bad_filters_are_bad_user_input_naming_the_argument_path(
    data: dict[str, Any], field: str
) -> None:
    error = refused(data)

    assert error.code == "BAD_USER_INPUT"
    assert error.field == field
    assert f"`{field}`" in error.message


def test_filters_nested_deeper_than_the_maximum_are_refused() -> None:
    error = refused(nested(MAX_FILTER_DEPTH + 1))

    assert error.code == "BAD_USER_INPUT"
    assert error.field is not None and error.field.startswith("filter.not")
    assert str(MAX_FILTER_DEPTH) in error.message


def test_filters_with_more_than_the_maximum_conditions_are_refused() -> None:
    data = {"or": [{"amount": {"eq": n}} for n in range(MAX_FILTER_NODES + 1)]}

    error = refused(data)

    assert error.field == f"filter.or[{MAX_FILTER_NODES}].amount.eq"
    assert str(MAX_FILTER_NODES) in error.message


def test_errors_name_the_path_the_caller_gave() -> None:
    with pytest.raises(BadUserInput) as raised:
        build_filter(
            PAYMENT,
            {"amount": {"in": []}},
            listings=LISTINGS,
            parse_id=parse_id,
            path="details.filter",
        )

    assert raised.value.field == "details.filter.amount.in"


# --- build_sort ---------------------------------------------------------------------------


def test_no_sort_keys_order_by_id_ascending() -> None:
    assert build_sort(PAYMENT, []) == (ID_ASCENDING,) == (SortKey("id"),)


def test_every_ordering_ends_with_the_id_as_tie_breaker() -> None:
    order = build_sort(PAYMENT, [("created_at", True)])

    assert order == (SortKey("created_at", True, FieldKind.DATETIME), ID_ASCENDING)
    assert [key.signature for key in order] == ["created_at-", "id+"]


def test_sort_keys_carry_their_kind_and_nullability() -> None:
    order = build_sort(PAYMENT, [("reference", False), ("payment_date", True)])

    assert order == (
        SortKey("reference", False, FieldKind.TEXT, nullable=True),
        SortKey("payment_date", True, FieldKind.DATE, nullable=True),
        ID_ASCENDING,
    )


def test_sorting_by_id_ends_the_ordering() -> None:
    assert build_sort(PAYMENT, [("id", True)]) == (SortKey("id", True),)
    assert build_sort(PAYMENT, [("amount", False), ("id", True), ("created_at", False)]) == (
        SortKey("amount", False, FieldKind.AMOUNT),
        SortKey("id", True),
    )


@pytest.mark.parametrize(
    ("keys", "field"),
    [
        ([("nope", False)], "sort[0]"),
        ([("amount", False), ("paid_amount", False)], "sort[1]"),  # filterable, not sortable
        ([("amount", False), ("amount", True)], "sort[1]"),
    ],
)
def test_unknown_unsortable_or_repeated_sort_keys_are_refused(
    keys: list[tuple[str, bool]], field: str
) -> None:
    with pytest.raises(BadUserInput) as raised:
        build_sort(PAYMENT, keys)

    assert raised.value.code == "BAD_USER_INPUT"
    assert raised.value.field == field


# --- the documents' sortBy / sortType strings ---------------------------------------------


@pytest.mark.parametrize("text", ["createdAt", "created_at", "CREATED_AT", "CreatedAt"])
def test_sort_by_accepts_a_field_in_any_of_its_spellings(text: str) -> None:
    assert sort_field_named(PAYMENT, text, path="sortBy") == "created_at"


def test_sort_by_finds_fields_of_the_listing_it_is_given() -> None:
    assert sort_field_named(DETAIL, "carrier", path="sortBy") == "carrier"
    assert sort_field_named(PAYMENT, "periodStart", path="sortBy") == "period_start"


@pytest.mark.parametrize("text", ["nope", "paidAmount", "", "created at"])
def test_sort_by_an_unknown_or_unsortable_field_names_the_argument(text: str) -> None:
    with pytest.raises(BadUserInput) as raised:
        sort_field_named(PAYMENT, text, path="sortBy")

    error = raised.value
    assert error.code == "BAD_USER_INPUT"
    assert error.field == "sortBy"
    assert "createdAt" in error.message  # it lists the choices


@pytest.mark.parametrize(
    ("text", "descending"),
    [
        ("asc", False),
        ("ASC", False),
        ("Asc", False),
        ("desc", True),
        ("DESC", True),
        (" desc ", True),
    ],
)
def test_sort_type_is_asc_or_desc_in_any_case(text: str, descending: bool) -> None:
    assert sort_direction_named(text, path="sortType") is descending


@pytest.mark.parametrize("text", ["", "up", "ascending", "descending", "1"])
def test_any_other_sort_type_names_the_argument(text: str) -> None:
    with pytest.raises(BadUserInput) as raised:
        sort_direction_named(text, path="sortDirection")

    assert raised.value.code == "BAD_USER_INPUT"
    assert raised.value.field == "sortDirection"


# --- document 001's portfolio filter ------------------------------------------------------


def test_the_portfolio_lists_acquiring_payments_only() -> None:
    assert portfolio_filter(None, None, None) == AllOf((ACQUIRING,))


def test_the_portfolio_date_window_is_inclusive_at_both_ends() -> None:
    built = portfolio_filter(MARCH_1, MARCH_31, PaymentStatus.COMPLETED)

    assert built == AllOf(
        (
            ACQUIRING,
            Condition("created_at", Op.GTE, MARCH_1),
            Condition("created_at", Op.LTE, MARCH_31),
            Condition("status", Op.EQ, "completed"),
        )
    )


def test_a_portfolio_window_of_one_instant_is_allowed() -> None:
    built = portfolio_filter(MARCH_1, MARCH_1, None)

    assert isinstance(built, AllOf) and len(built.parts) == 3


def test_either_portfolio_bound_may_be_left_open() -> None:
    assert portfolio_filter(MARCH_1, None, None) == AllOf(
        (ACQUIRING, Condition("created_at", Op.GTE, MARCH_1))
    )
    assert portfolio_filter(None, MARCH_31, None) == AllOf(
        (ACQUIRING, Condition("created_at", Op.LTE, MARCH_31))
    )


def test_a_portfolio_window_that_ends_before_it_starts_is_an_invalid_date_range() -> None:
    with pytest.raises(InvalidDateRange) as raised:
        portfolio_filter(MARCH_31, MARCH_1, None)

    error = raised.value
    assert error.code == "INVALID_DATE_RANGE"
    assert error.field == "fromDate"
    assert isinstance(error, BadUserInput)


@pytest.mark.parametrize("status", STATUSES_BY_KIND[PaymentKind.ACQUIRING])
def test_every_acquiring_status_may_be_asked_for(status: PaymentStatus) -> None:
    built = portfolio_filter(None, None, status)

    assert built == AllOf((ACQUIRING, Condition("status", Op.EQ, status.value)))


@pytest.mark.parametrize(
    "status", [s for s in PaymentStatus if s not in STATUSES_BY_KIND[PaymentKind.ACQUIRING]]
)
def test_a_status_outside_the_acquiring_lifecycle_names_the_status_argument(
    status: PaymentStatus,
) -> None:
    with pytest.raises(BadUserInput) as raised:
        portfolio_filter(None, None, status)

    assert raised.value.code == "BAD_USER_INPUT"
    assert raised.value.field == "status"
    assert "CREATED" in raised.value.message  # it lists the allowed statuses


def test_document_000_lists_commission_payments_only() -> None:
    assert commission_filter() == Condition("kind", Op.EQ, "commission")


# --- paging: keyset windows ---------------------------------------------------------------


def test_a_keyset_without_sizes_is_the_first_fifty_rows() -> None:
    assert DEFAULT_PAGE_SIZE == 50
    assert Keyset.checked(None, None) == Keyset(50, False, None, None) == Keyset()


def test_first_and_last_choose_the_direction_of_travel() -> None:
    after, before = Position((1,)), Position((9,))

    assert Keyset.checked(10, None, after) == Keyset(10, False, after, None)
    assert Keyset.checked(None, 10, None, before) == Keyset(10, True, None, before)


@pytest.mark.parametrize("size", [0, 1, MAX_PAGE_SIZE])
def test_keyset_sizes_from_zero_to_two_hundred_are_allowed(size: int) -> None:
    assert MAX_PAGE_SIZE == 200
    assert Keyset.checked(size, None).size == size
    assert Keyset.checked(None, size).size == size


@pytest.mark.parametrize("argument", ["first", "last"])
def test_a_keyset_size_above_two_hundred_is_page_size_too_large(argument: str) -> None:
    with pytest.raises(PageSizeTooLarge) as raised:
        Keyset.checked(**{"first": None, "last": None, argument: MAX_PAGE_SIZE + 1})

    assert raised.value.code == "PAGE_SIZE_TOO_LARGE"
    assert raised.value.field == argument


@pytest.mark.parametrize("argument", ["first", "last"])
def test_a_negative_keyset_size_is_bad_user_input(argument: str) -> None:
    with pytest.raises(BadUserInput) as raised:
        Keyset.checked(**{"first": None, "last": None, argument: -1})

    assert raised.value.code == "BAD_USER_INPUT"
    assert raised.value.field == argument


def test_first_and_last_together_are_bad_user_input() -> None:
    with pytest.raises(BadUserInput) as raised:
        Keyset.checked(5, 5)

    assert raised.value.code == "BAD_USER_INPUT"
    assert raised.value.field == "last"


# --- paging: offset windows ---------------------------------------------------------------


def test_an_offset_window_skips_then_takes() -> None:
    assert Offset.checked(40, 20, offset_arg="start", limit_arg="length") == Offset(40, 20)


@pytest.mark.parametrize(
    ("offset", "limit", "error", "field"),
    [
        (-1, 10, BadUserInput, "start"),
        (MAX_OFFSET + 1, 10, BadUserInput, "start"),
        (0, 0, BadUserInput, "length"),
        (0, -5, BadUserInput, "length"),
        (0, MAX_PAGE_SIZE + 1, PageSizeTooLarge, "length"),
    ],
)
def test_bad_offset_windows_name_the_argument(
    offset: int, limit: int, error: type[BadUserInput], field: str
) -> None:
    with pytest.raises(error) as raised:
        Offset.checked(offset, limit, offset_arg="start", limit_arg="length")

    assert type(raised.value) is error
    assert raised.value.field == field


def test_the_largest_offset_window_is_allowed() -> None:
    window = Offset.checked(MAX_OFFSET, MAX_PAGE_SIZE, offset_arg="start", limit_arg="length")

    assert window == Offset(MAX_OFFSET, MAX_PAGE_SIZE)


@pytest.mark.parametrize(
    ("page", "size", "first_page", "expected"),
    [
        (1, 25, 1, Offset(0, 25)),  # document 003: 1-based
        (3, 25, 1, Offset(50, 25)),
        (0, 50, 0, Offset(0, 50)),  # document 001: 0-based
        (2, 50, 0, Offset(100, 50)),
        (7, 200, 0, Offset(1400, 200)),
    ],
)
def test_a_page_number_is_an_offset_window(
    page: int, size: int, first_page: int, expected: Offset
) -> None:
    window = Offset.of_page(page, size, first_page=first_page, page_arg="page", size_arg="perPage")

    assert window == expected


@pytest.mark.parametrize(
    ("page", "size", "first_page", "error", "field"),
    [
        (0, 25, 1, BadUserInput, "page"),
        (-1, 25, 0, BadUserInput, "page"),
        (1, 0, 1, BadUserInput, "perPage"),
        (1, MAX_PAGE_SIZE + 1, 1, PageSizeTooLarge, "perPage"),
        (MAX_OFFSET, 200, 1, BadUserInput, "page"),  # skips past the largest offset
    ],
)
def test_bad_page_numbers_name_the_argument(
    page: int, size: int, first_page: int, error: type[BadUserInput], field: str
) -> None:
    with pytest.raises(error) as raised:
        Offset.of_page(page, size, first_page=first_page, page_arg="page", size_arg="perPage")

    assert type(raised.value) is error
    assert raised.value.field == field


def test_an_oversized_page_is_reported_before_a_bad_page_number_is_computed() -> None:
    # pageSize 201 on a valid page: the size is what the caller must fix.
    with pytest.raises(PageSizeTooLarge) as raised:
        Offset.of_page(0, 201, first_page=0, page_arg="page", size_arg="pageSize")

    assert raised.value.field == "pageSize"


# --- Page.of ------------------------------------------------------------------------------


def test_a_request_knows_its_page_size_in_either_window() -> None:
    assert ListRequest(window=Keyset(7)).size == 7
    assert ListRequest(window=Offset(30, 15)).size == 15
    assert ListRequest().size == DEFAULT_PAGE_SIZE


def test_an_offset_page_trims_the_look_ahead_row_and_says_more_follow() -> None:
    request = ListRequest(window=Offset(10, 3))

    page = Page.of([1, 2, 3, 4], request)

    assert list(page.items) == [1, 2, 3]
    assert (page.has_next, page.has_previous) == (True, True)
    assert page.order == request.order


def test_the_first_offset_page_of_a_short_list_has_no_neighbours() -> None:
    page = Page.of([1, 2], ListRequest(window=Offset(0, 3)))

    assert list(page.items) == [1, 2]
    assert (page.has_next, page.has_previous) == (False, False)


def test_a_forward_keyset_page_has_a_previous_page_only_after_a_cursor() -> None:
    first = Page.of([1, 2, 3], ListRequest(window=Keyset(2)))
    later = Page.of([3, 4], ListRequest(window=Keyset(2, after=Position((2,)))))

    assert (list(first.items), first.has_next, first.has_previous) == ([1, 2], True, False)
    assert (list(later.items), later.has_next, later.has_previous) == ([3, 4], False, True)


def test_a_backward_keyset_page_comes_back_in_list_order() -> None:
    # Rows arrive nearest-first when travelling backwards: 9, 8, 7 (+ the look-ahead 6).
    request = ListRequest(window=Keyset(3, backward=True, before=Position((10,))))

    page = Page.of([9, 8, 7, 6], request)

    assert list(page.items) == [7, 8, 9]
    assert (page.has_next, page.has_previous) == (True, True)


def test_the_last_rows_without_a_cursor_have_nothing_after_them() -> None:
    page = Page.of([2, 1], ListRequest(window=Keyset(3, backward=True)))

    assert list(page.items) == [1, 2]
    assert (page.has_next, page.has_previous) == (False, False)
