"""domain.statements (the month, the statement's tallies, differences and reconciliation),
domain.portfolio's shares and KPIs, and the statement's JSON as written."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.aggregates import FieldMeasures, Group, GroupKey, MeasuredRow, groups_of
from domain.errors import BadUserInput
from domain.portfolio import BASIS_POINTS, EXCEPTION_STATUSES, portfolio_kpis, share_of
from domain.statements import (
    BY_MERCHANT_AND_CURRENCY,
    DetailRow,
    Difference,
    Month,
    Statement,
    StatementLine,
    StatementMismatch,
    differences,
    reconciled,
)
from domain.statuses import STATUSES_BY_KIND, PaymentKind, PaymentStatus
from gateway.statement_files import statement_json

# --- Month ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "year", "month"),
    [
        ("2024-02", 2024, 2),
        ("2026-10", 2026, 10),
        ("1999-12", 1999, 12),
        ("0001-01", 1, 1),
        (" 2024-03\n", 2024, 3),  # surrounding blanks are forgiven
    ],
)
def test_a_month_parses_from_yyyy_mm(text: str, year: int, month: int) -> None:
    parsed = Month.parse(text)

    assert parsed == Month(year, month)
    assert str(parsed) == f"{year:04d}-{month:02d}"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2024",
        "2024-2",
        "2024-13",
        "2024-00",
        "0000-05",
        "24-02",
        "2024/02",
        "2024-02-01",
        "202402",
        "February 2024",
        "2024-1a",
        "-2024-02",
    ],
)
def test_anything_but_yyyy_mm_is_bad_user_input(text: str) -> None:
    with pytest.raises(BadUserInput) as raised:
        Month.parse(text)

    assert raised.value.code == "BAD_USER_INPUT"
    assert "`month` must be YYYY-MM" in raised.value.message
    assert repr(text) in raised.value.message


@pytest.mark.parametrize(
    ("month", "last"),
    [
        (Month(2024, 2), datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC)),  # leap
        (Month(2023, 2), datetime(2023, 2, 28, 23, 59, 59, 999_999, tzinfo=UTC)),
        (Month(2000, 2), datetime(2000, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC)),  # / 400
        (Month(1900, 2), datetime(1900, 2, 28, 23, 59, 59, 999_999, tzinfo=UTC)),  # / 100
        (Month(2024, 12), datetime(2024, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)),
        (Month(2024, 4), datetime(2024, 4, 30, 23, 59, 59, 999_999, tzinfo=UTC)),
        (Month(2024, 1), datetime(2024, 1, 31, 23, 59, 59, 999_999, tzinfo=UTC)),
    ],
)
def test_a_months_first_and_last_moment_in_utc(month: Month, last: datetime) -> None:
    assert month.first_moment == datetime(month.year, month.month, 1, tzinfo=UTC)
    assert month.first_moment.utcoffset() == timedelta(0)
    assert month.last_moment == last
    # the next month starts one microsecond later
    assert last + timedelta(microseconds=1) == (
        datetime(month.year + 1, 1, 1, tzinfo=UTC)
        if month.month == 12
        else datetime(month.year, month.month + 1, 1, tzinfo=UTC)
    )


@given(st.integers(min_value=1, max_value=9998), st.integers(min_value=1, max_value=12))
def test_consecutive_months_meet_without_a_gap_or_an_overlap(year: int, month: int) -> None:
    this = Month(year, month)
    following = Month(year + 1, 1) if month == 12 else Month(year, month + 1)

    assert this.last_moment < following.first_moment
    assert following.first_moment - this.last_moment == timedelta(microseconds=1)
    assert Month.parse(str(this)) == this


def test_the_last_month_that_parses_has_a_last_moment() -> None:
    # "9999-12" is accepted by Month.parse, so `paygraph statement --month 9999-12` gets
    # this far: its last moment must exist (it is the last microsecond datetime holds)
    month = Month.parse("9999-12")

    assert month.last_moment == datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)


# --- a statement's tallies ----------------------------------------------------------------


def line(
    payment_id: int,
    merchant_id: int,
    currency: str,
    amount: int,
    paid: int | None = None,
    settleable: int | None = None,
    details: tuple[DetailRow, ...] = (),
) -> StatementLine:
    return StatementLine(
        payment_id=payment_id,
        merchant_id=merchant_id,
        merchant_name=f"Shop {merchant_id}",
        reference=None,
        status="COMPLETED",
        created_at="2024-02-10T12:00:00+00:00",
        currency=currency,
        amount=amount,
        paid_amount=paid,
        settleable_amount=settleable,
        details=details,
    )


def statement_of(*lines: StatementLine) -> Statement:
    statement = Statement(7, "Partner Seven", Month(2024, 2))
    for one in lines:
        statement.add(one)
    return statement


def test_a_statement_tallies_its_lines_by_merchant_and_currency() -> None:
    statement = statement_of(
        line(1, 20, "USD", 1_000, paid=900, settleable=None),
        line(2, 10, "USD", 501, paid=None, settleable=500),
        line(3, 20, "JPY", 1_000, paid=1_000, settleable=990),
        line(4, 20, "USD", 2_000, paid=1_999, settleable=1_990),
        line(5, 10, "USD", 500),
    )

    groups = statement.by_merchant_and_currency

    assert [(g.keys[GroupKey.MERCHANT], g.keys[GroupKey.CURRENCY]) for g in groups] == [
        (10, "USD"),
        (20, "JPY"),
        (20, "USD"),
    ]
    ten_usd = groups[0].currencies[0]
    assert ten_usd.count == 2
    assert ten_usd.of("amount") == FieldMeasures(2, 1_001, 500, 501)
    assert ten_usd.of("amount").avg == 500  # 500.5, to even
    assert ten_usd.of("paid_amount") == FieldMeasures()  # none known
    assert ten_usd.of("settleable_amount") == FieldMeasures(1, 500, 500, 500)
    totals = {m.currency: m for m in statement.totals.currencies}
    assert list(totals) == ["JPY", "USD"]
    assert (totals["USD"].count, totals["USD"].of("amount").sum) == (4, 4_001)
    assert totals["USD"].of("paid_amount").sum == 2_899
    assert statement.totals.count == 5
    assert statement.merchant_names == {20: "Shop 20", 10: "Shop 10"}
    assert [one.payment_id for one in statement.lines] == [1, 2, 3, 4, 5]


def test_a_statements_details_are_tallied_in_their_own_currency() -> None:
    statement = statement_of(
        line(1, 10, "USD", 100, details=(DetailRow("DHL", 30, "USD"), DetailRow("UPS", 7, "EUR"))),
        line(2, 10, "EUR", 100, details=(DetailRow("DHL", 5, "EUR"),)),
    )

    details = {
        (g.keys[GroupKey.MERCHANT], m.currency): (m.count, m.of("amount").sum)
        for g in statement.details_by_merchant_and_currency
        for m in g.currencies
    }

    assert details == {(10, "EUR"): (2, 12), (10, "USD"): (1, 30)}


def test_an_empty_statement_has_no_totals() -> None:
    statement = statement_of()

    assert statement.totals == Group({}, ())
    assert statement.by_merchant_and_currency == []


# --- differences and reconciliation -----------------------------------------------------


def gateway(*rows: tuple[int | None, str, int, int, int | None, int | None]) -> list[Group]:
    """The gateway's groups as the statement client reads them: count and sums only."""
    measured = [
        MeasuredRow(
            (merchant, currency),
            currency,
            count,
            {
                "amount": FieldMeasures(1, amount),
                "paid_amount": FieldMeasures() if paid is None else FieldMeasures(1, paid),
                "settleable_amount": (
                    FieldMeasures() if settleable is None else FieldMeasures(1, settleable)
                ),
            },
        )
        for merchant, currency, count, amount, paid, settleable in rows
    ]
    return groups_of(BY_MERCHANT_AND_CURRENCY, measured)


AGREED = statement_of(
    line(1, 10, "USD", 1_000, paid=900, settleable=None),
    line(2, 10, "USD", 500, paid=500, settleable=None),
    line(3, 20, "JPY", 3_000, paid=None, settleable=2_900),
)
AGREEING_GATEWAY = [(10, "USD", 2, 1_500, 1_400, None), (20, "JPY", 1, 3_000, None, 2_900)]


def test_a_statement_that_agrees_with_the_gateway_has_no_differences() -> None:
    assert differences(AGREED.by_merchant_and_currency, gateway(*AGREEING_GATEWAY)) == []
    reconciled(AGREED, gateway(*AGREEING_GATEWAY))  # does not raise


def test_minima_and_maxima_are_not_compared() -> None:
    # The gateway's min and max are not read (the client keeps sums only)
    assert differences(AGREED.by_merchant_and_currency, gateway(*AGREEING_GATEWAY)) == []
    assert AGREED.by_merchant_and_currency[0].currencies[0].of("amount").min == 500


def test_a_group_only_the_gateway_has_is_a_difference_of_every_measure() -> None:
    extra = (30, "EUR", 2, 40, 40, None)

    found = differences(AGREED.by_merchant_and_currency, gateway(*AGREEING_GATEWAY, extra))

    assert found == [
        Difference(30, "EUR", "count", None, 2),
        Difference(30, "EUR", "amount", None, 40),
        Difference(30, "EUR", "paid_amount", None, 40),
    ]
    assert str(found[0]) == "merchant 30 EUR count: statement None, gateway 2"


def test_a_group_only_the_statement_has_is_a_difference() -> None:
    found = differences(AGREED.by_merchant_and_currency, gateway(AGREEING_GATEWAY[0]))

    assert found == [
        Difference(20, "JPY", "count", 1, None),
        Difference(20, "JPY", "amount", 3_000, None),
        Difference(20, "JPY", "settleable_amount", 2_900, None),
    ]


def test_a_sum_off_by_one_minor_unit_or_a_known_against_an_unknown_sum_differs() -> None:
    off = [(10, "USD", 2, 1_501, 1_400, None), (20, "JPY", 1, 3_000, None, 0)]

    found = differences(AGREED.by_merchant_and_currency, gateway(*off))

    assert found == [
        Difference(10, "USD", "amount", 1_500, 1_501),
        Difference(20, "JPY", "settleable_amount", 2_900, 0),
    ]


def test_a_payment_without_a_merchant_sorts_last() -> None:
    statement = statement_of(line(1, 10, "USD", 1))
    found = differences(
        statement.by_merchant_and_currency,
        gateway((None, "USD", 1, 1, None, None), (10, "USD", 1, 1, None, None)),
    )

    assert [(d.merchant_id, d.measure) for d in found] == [(None, "count"), (None, "amount")]


def test_a_mismatch_is_raised_with_every_difference_named() -> None:
    off = [(10, "USD", 3, 1_500, 1_400, None), (20, "JPY", 1, 3_000, None, 2_900)]

    with pytest.raises(StatementMismatch) as raised:
        reconciled(AGREED, gateway(*off))

    assert raised.value.code == "STATEMENT_MISMATCH"
    assert raised.value.message == (
        "Partner 7, 2024-02: the statement does not match the gateway's aggregate: "
        "merchant 10 USD count: statement 2, gateway 3."
    )


def test_a_mismatch_lists_twenty_differences_and_counts_the_rest() -> None:
    rows = [(merchant, "USD", 1, 1, None, None) for merchant in range(100, 125)]

    with pytest.raises(StatementMismatch) as raised:
        reconciled(statement_of(), gateway(*rows))

    message = raised.value.message
    assert message.count("merchant ") == 20
    assert message.endswith(" (and 30 more).")  # 25 groups x (count, amount)


@given(
    st.lists(
        st.tuples(
            st.sampled_from([1, 2, 3]),
            st.sampled_from(["USD", "EUR"]),
            st.integers(0, 10**6),
            st.none() | st.integers(0, 10**6),
        ),
        max_size=15,
    )
)
def test_a_statement_agrees_with_a_gateway_that_summed_the_same_payments(
    rows: list[tuple[int, str, int, int | None]],
) -> None:
    statement = statement_of(
        *(line(i, m, c, a, paid=p) for i, (m, c, a, p) in enumerate(rows, start=1))
    )
    sums: dict[tuple[int, str], list[tuple[int, int | None]]] = {}
    for merchant, currency, amount, paid in rows:
        sums.setdefault((merchant, currency), []).append((amount, paid))
    answer = []
    for (merchant, currency), values in sorted(sums.items()):
        known = [p for _, p in values if p is not None]
        amount = sum(a for a, _ in values)
        answer.append(
            (merchant, currency, len(values), amount, sum(known) if known else None, None)
        )

    assert differences(statement.by_merchant_and_currency, gateway(*answer)) == []
    if answer:  # and losing any one payment is noticed
        merchant, currency, count, amount, paid, settleable = answer[0]
        short = (merchant, currency, count - 1, amount, paid, settleable)
        assert differences(statement.by_merchant_and_currency, gateway(short, *answer[1:]))


# --- the statement's JSON ---------------------------------------------------------------


def test_the_json_carries_minor_units_as_strings_and_formatted_totals() -> None:
    statement = statement_of(
        line(1, 10, "USD", 123_456, paid=100_000),
        line(2, 10, "JPY", 1_000, paid=None, settleable=999),
        line(3, 11, "USD", 1, paid=1, settleable=1),
    )

    written = statement_json(statement)

    assert written["paymentCount"] == 3
    assert written["partner"] == {"id": 7, "name": "Partner Seven"}
    assert written["month"] == "2024-02"
    usd = next(t for t in written["totals"] if t["currency"] == "USD")
    assert usd == {
        "currency": "USD",
        "count": 2,
        "amount": "123457",
        "paidAmount": "100001",
        "settleableAmount": "1",
        "averageAmount": "61728",  # 61728.5, to even
        "formatted": {
            "amount": "1,234.57 USD",
            "paidAmount": "1,000.01 USD",
            "settleableAmount": "0.01 USD",
        },
    }
    jpy = next(t for t in written["totals"] if t["currency"] == "JPY")
    assert jpy["paidAmount"] is None
    assert jpy["formatted"] == {
        "amount": "1,000 JPY",
        "paidAmount": "-",
        "settleableAmount": "999 JPY",
    }
    assert [m["id"] for m in written["merchants"]] == [10, 11]


def test_the_json_keeps_every_detail_row_of_a_merchant() -> None:
    # A USD payment shipped once in USD and once in EUR, by a merchant with no EUR payment
    shipped = (DetailRow("DHL", 700, "USD"), DetailRow("UPS", 900, "EUR"))
    statement = statement_of(line(1, 10, "USD", 10_000, details=shipped))

    written = statement_json(statement)

    [merchant] = written["merchants"]
    # the EUR shipment is in the merchant's JSON, as it is in its CSV line
    assert merchant["details"] == [
        {"currency": "EUR", "count": 1, "amount": "900"},
        {"currency": "USD", "count": 1, "amount": "700"},
    ]


# --- portfolio shares and KPIs ------------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "whole", "basis_points"),
    [
        (0, 0, 0),
        (0, 5, 0),
        (5, 5, 10_000),
        (1, 3, 3_333),
        (2, 3, 6_667),
        (1, 20_000, 0),  # 0.5: to even
        (3, 20_000, 2),  # 1.5: to even
        (5, 20_000, 2),  # 2.5: to even
        (1, 7, 1_429),
    ],
)
def test_share_of_is_in_basis_points_rounded_half_to_even(
    part: int, whole: int, basis_points: int
) -> None:
    assert share_of(part, whole) == basis_points


ACQUIRING = STATUSES_BY_KIND[PaymentKind.ACQUIRING]


def by_status(counts: dict[PaymentStatus, dict[str, int]]) -> list[Group]:
    """Status groups as SQL would give them: per status and currency, `count` payments of
    100 minor units each."""
    rows = [
        MeasuredRow((status,), code, n, {"amount": FieldMeasures(n, 100 * n, 100, 100)})
        for status, currencies in counts.items()
        for code, n in currencies.items()
        if n
    ]
    return groups_of((GroupKey.STATUS,), rows)


status_counts = st.dictionaries(
    st.sampled_from(ACQUIRING),
    st.dictionaries(st.sampled_from(["USD", "EUR", "JPY"]), st.integers(1, 10**6), min_size=1),
)


@given(status_counts)
def test_portfolio_shares_add_up_to_about_ten_thousand_basis_points(
    counts: dict[PaymentStatus, dict[str, int]],
) -> None:
    kpis = portfolio_kpis(by_status(counts))

    shares = [share.basis_points for share in kpis.status_mix]
    total = sum(sum(c.values()) for c in counts.values())
    assert kpis.total.count == total
    if not counts:
        assert shares == []
        return
    # each share is off by at most half a basis point
    assert abs(sum(shares) - BASIS_POINTS) <= len(shares) // 2 + 1
    for share in kpis.status_mix:
        exact = share.payments.count * BASIS_POINTS / total
        assert abs(share.basis_points - exact) <= 0.5
    # the mix is in lifecycle order, every present status once
    assert [s.status for s in kpis.status_mix] == [s for s in ACQUIRING if s in counts]


@given(status_counts)
def test_the_exceptions_are_always_invalid_then_underpaid(
    counts: dict[PaymentStatus, dict[str, int]],
) -> None:
    kpis = portfolio_kpis(by_status(counts))

    assert [e.status for e in kpis.exceptions] == list(EXCEPTION_STATUSES)
    for exception in kpis.exceptions:
        expected = sum(counts.get(exception.status, {}).values())
        assert exception.payments.count == expected
        assert exception.basis_points == share_of(expected, kpis.total.count)
        if not expected:
            assert exception.payments.currencies == ()


def test_portfolio_totals_are_the_status_groups_rolled_up_per_currency() -> None:
    S = PaymentStatus
    kpis = portfolio_kpis(
        by_status(
            {
                S.COMPLETED: {"USD": 2, "JPY": 1},
                S.CREATED: {"USD": 1},
                S.INVALID: {"EUR": 1},
            }
        )
    )

    assert [(m.currency, m.count, m.of("amount").sum) for m in kpis.total.currencies] == [
        ("EUR", 1, 100),
        ("JPY", 1, 100),
        ("USD", 3, 300),
    ]
    assert [(s.status, s.basis_points) for s in kpis.status_mix] == [
        (S.CREATED, 2_000),
        (S.COMPLETED, 6_000),
        (S.INVALID, 2_000),
    ]
    assert [(s.status, s.payments.count, s.basis_points) for s in kpis.exceptions] == [
        (S.INVALID, 1, 2_000),
        (S.UNDERPAID, 0, 0),
    ]


def test_an_empty_portfolio_still_lists_both_exceptions() -> None:
    kpis = portfolio_kpis([])

    assert kpis.total == Group({}, ())
    assert kpis.status_mix == ()
    assert [(s.status, s.payments.count, s.basis_points) for s in kpis.exceptions] == [
        (PaymentStatus.INVALID, 0, 0),
        (PaymentStatus.UNDERPAID, 0, 0),
    ]


def test_a_status_outside_the_acquiring_lifecycle_sorts_after_it() -> None:
    S = PaymentStatus
    kpis = portfolio_kpis(by_status({S.PAID: {"USD": 1}, S.REFUNDED: {"USD": 1}}))

    assert [s.status for s in kpis.status_mix] == [S.REFUNDED, S.PAID]
    assert Counter(s.basis_points for s in kpis.status_mix) == Counter({5_000: 2})
