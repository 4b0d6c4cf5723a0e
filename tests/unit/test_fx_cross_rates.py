"""Conversion through the tenant's base currency when no direct rate joins the paid
currency and the invoice's: two legs at the rates effective on the payment date, their
product exact, one rounding at the end, both legs recorded, every currency balanced.

The worked example (tenant base USD, payment dated 2024-02-15):
- MXN -> USD 0.058500 from 2024-02-01 (and 0.050000 before it, 0.061000 after it);
- EUR -> USD 1.083400 from 2024-01-01 (and 1.100000 from 2024-03-01), so USD -> EUR
  divides by it;
- 10,002.00 MXN is 585.117 USD, exactly, and 540.0748... EUR: 540.07 EUR rounded once.
  Rounding the USD leg first (585.12 USD) would give 540.08 EUR.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import entities as e
from domain import invoice_payments as rules
from domain.errors import ValidationFailed
from domain.fx import Leg, Route, convert, convert_along, find_route
from domain.invoice_payments import CASH, FX_CONVERSION, RECEIVABLES, PaymentInput, Problems
from domain.ledger import balances
from domain.money import Money
from domain.statuses import InvoiceStatus, LedgerDirection, PaymentKind, PaymentStatus
from tests.unit.fakes import T0, TENANT_ID, payment

PAID_ON = date(2024, 2, 15)


def fx(rate_id: int, base: str, quote: str, value: int, on: date) -> e.FxRate:
    return e.FxRate(rate_id, TENANT_ID, base, quote, value, 6, on, T0)


MXN_USD_OLD = fx(10, "MXN", "USD", 50_000, date(2024, 1, 1))
MXN_USD = fx(11, "MXN", "USD", 58_500, date(2024, 2, 1))
EUR_USD = fx(12, "EUR", "USD", 1_083_400, date(2024, 1, 1))
MXN_USD_LATER = fx(13, "MXN", "USD", 61_000, date(2024, 3, 1))
EUR_USD_LATER = fx(14, "EUR", "USD", 1_100_000, date(2024, 3, 1))
RATES = (MXN_USD_OLD, MXN_USD, EUR_USD, MXN_USD_LATER, EUR_USD_LATER)
PAID = Money(1_000_200, "MXN")  # 10,002.00 MXN
INVOICE = e.Invoice(
    id=7,
    tenant_id=TENANT_ID,
    number="INV-7",
    company_id=None,
    account_id=None,
    sender_id=1,
    receiver_id=2,
    total_amount=100_000,  # 1,000.00 EUR
    paid_amount=0,
    currency="EUR",
    status=InvoiceStatus.OPEN,
    issued_on=date(2024, 1, 1),
    due_on=None,
    created_at=T0,
    updated_at=T0,
)


@dataclass
class FakeRates:
    """domain.fx.RateSource over a list: the latest rate on or before the day, stored
    either way round (stored source -> target first on the same day)."""

    rates: tuple[e.FxRate, ...] = RATES
    base: str = "USD"
    asked: list[tuple[str, str, date]] = field(default_factory=list)

    async def fx_rate(self, source: str, target: str, on: date) -> e.FxRate | None:
        self.asked.append((source, target, on))
        found = [
            r
            for r in self.rates
            if {r.base_currency, r.quote_currency} == {source, target} and r.effective_on <= on
        ]
        if not found:
            return None
        return max(found, key=lambda r: (r.effective_on, r.base_currency == source, r.id))

    async def base_currency(self) -> str:
        return self.base


def without(*left_out: e.FxRate) -> FakeRates:
    return FakeRates(tuple(r for r in RATES if r not in left_out))


# --- the route ------------------------------------------------------------------------


async def test_without_a_direct_rate_the_route_crosses_the_base_currency() -> None:
    # given no MXN/EUR rate, and MXN -> USD and EUR -> USD rates
    # when a MXN payment on a EUR invoice looks for its route on 2024-02-15
    route = await find_route(FakeRates(), "MXN", "EUR", PAID_ON)
    # then it goes MXN -> USD, then USD -> EUR at the inverse of the stored EUR -> USD
    assert route.via == "USD"
    assert route.legs == (Leg("MXN", "USD", MXN_USD), Leg("USD", "EUR", EUR_USD))
    assert route.legs[0].units_per_unit == Fraction(58_500, 10**6)
    assert route.legs[1].units_per_unit == 1 / Fraction(1_083_400, 10**6)


async def test_a_direct_rate_wins_and_the_base_currency_is_not_asked() -> None:
    # given a direct MXN -> EUR rate besides the legs through USD
    mxn_eur = fx(20, "MXN", "EUR", 54_000, date(2024, 2, 1))
    rates = FakeRates((*RATES, mxn_eur))
    # when the route is found
    route = await find_route(rates, "MXN", "EUR", PAID_ON)
    # then it is the direct rate alone, found with one lookup
    assert route.legs == (Leg("MXN", "EUR", mxn_eur),)
    assert rates.asked == [("MXN", "EUR", PAID_ON)]


async def test_each_leg_takes_the_rate_effective_on_the_payment_date_not_a_later_one() -> None:
    # given MXN and EUR rates before, on and after the payment date
    # when the route is found for 2024-02-15, then for 2024-03-01
    on_the_day = await find_route(FakeRates(), "MXN", "EUR", PAID_ON)
    later = await find_route(FakeRates(), "MXN", "EUR", date(2024, 3, 1))
    # then 2024-02-15 takes the rates in force that day: neither the superseded January
    # MXN rate nor the March ones
    assert [leg.rate for leg in on_the_day.legs] == [MXN_USD, EUR_USD]
    assert [leg.rate for leg in later.legs] == [MXN_USD_LATER, EUR_USD_LATER]
    # and the March rates would have booked another amount
    assert convert_along(PAID, on_the_day.legs).converted == Money(54_007, "EUR")
    assert convert_along(PAID, later.legs).converted == Money(55_466, "EUR")


async def test_when_the_base_currency_is_one_side_only_the_direct_rate_counts() -> None:
    # given a tenant whose base currency is the invoice's, and no MXN/EUR rate
    rates = FakeRates(base="EUR")
    # when the route is found
    route = await find_route(rates, "MXN", "EUR", PAID_ON)
    # then there is none, and no leg was looked for beyond the direct one
    assert route == Route("MXN", "EUR", missing=(("MXN", "EUR"),))
    assert rates.asked == [("MXN", "EUR", PAID_ON)]


# --- the arithmetic -------------------------------------------------------------------


def test_the_legs_multiply_exactly_and_round_once() -> None:
    # given the route MXN -> USD -> EUR
    legs = (Leg("MXN", "USD", MXN_USD), Leg("USD", "EUR", EUR_USD))
    # when 10,002.00 MXN is converted along it
    conversion = convert_along(PAID, legs)
    # then 10,002.00 * 0.0585 / 1.0834 = 540.0748... EUR is 540.07 EUR
    assert conversion.units_per_unit == Fraction(117, 2000) * Fraction(5000, 5417)
    assert conversion.converted == Money(54_007, "EUR")
    assert conversion.rate_ids == (MXN_USD.id, EUR_USD.id)


def test_rounding_each_leg_would_be_a_cent_off() -> None:
    # given 10,002.00 MXN, which is 585.117 USD exactly
    first = convert(PAID, "USD", MXN_USD)
    assert first.converted == Money(58_512, "USD")  # 585.12 USD once rounded
    # when the rounded USD amount is converted on
    leg_by_leg = convert(first.converted, "EUR", EUR_USD).converted
    # then rounding per leg gives 540.08 EUR, rounding once 540.07 EUR
    assert leg_by_leg == Money(54_008, "EUR")
    once = convert_along(PAID, (Leg("MXN", "USD", MXN_USD), Leg("USD", "EUR", EUR_USD)))
    assert once.converted == Money(54_007, "EUR")


def test_legs_that_do_not_join_are_refused() -> None:
    with pytest.raises(ValueError):
        convert_along(PAID, (Leg("MXN", "USD", MXN_USD), Leg("GBP", "EUR", EUR_USD)))
    with pytest.raises(ValueError):
        convert_along(PAID, ())


@given(
    amount=st.integers(min_value=1, max_value=10**12),
    first=st.integers(min_value=1, max_value=10**9),
    second=st.integers(min_value=1, max_value=10**9),
)
def test_two_legs_land_within_half_a_minor_unit_of_the_exact_value(
    amount: int, first: int, second: int
) -> None:
    # MXN -> USD stored as is, USD -> EUR stored as EUR -> USD (divided by)
    legs = (
        Leg("MXN", "USD", fx(1, "MXN", "USD", first, PAID_ON)),
        Leg("USD", "EUR", fx(2, "EUR", "USD", second, PAID_ON)),
    )
    exact = Fraction(amount * first, second)
    if exact >= 2**63:
        return  # beyond 64 bits: refused, as a direct conversion is
    converted = convert_along(Money(amount, "MXN"), legs).converted
    assert abs(converted.amount - exact) <= Fraction(1, 2)


# --- the booking ----------------------------------------------------------------------


async def test_a_crossed_booking_records_both_legs_and_balances_each_currency() -> None:
    # given the route through USD
    route = await find_route(FakeRates(), "MXN", "EUR", PAID_ON)
    # when 10,002.00 MXN is booked against the EUR invoice
    booking = rules.book(PAID.amount, "MXN", INVOICE, route, PAID_ON, Problems("input."))
    assert booking is not None
    # then the invoice is paid 540.07 EUR, and the row keeps both legs' rates
    assert booking.amount == Money(54_007, "EUR")
    values = booking.values()
    assert (values["original_amount"], values["original_currency"]) == (1_000_200, "MXN")
    assert (values["fx_rate_id"], values["fx_rate_from_base_id"]) == (MXN_USD.id, EUR_USD.id)
    # and the posting moves MXN in and EUR out through the conversion account: no USD
    # line (the USD amount is never rounded), each currency balanced
    posting = rules.posting_of(booking, "x")
    assert [(line.account_code, line.direction, line.money) for line in posting.lines] == [
        (CASH, LedgerDirection.DEBIT, PAID),
        (FX_CONVERSION, LedgerDirection.CREDIT, PAID),
        (FX_CONVERSION, LedgerDirection.DEBIT, Money(54_007, "EUR")),
        (RECEIVABLES, LedgerDirection.CREDIT, Money(54_007, "EUR")),
    ]
    assert balances(posting.lines) == {"MXN": 0, "EUR": 0}
    # and the audit event and the posting describe both legs
    outcome = rules.created(INVOICE, booking, PaymentInput())
    assert outcome.comments == (
        "recorded 540.07 EUR against invoice INV-7, converted from 10,002.00 MXN at "
        "585/10834 (FX rates 11, 12) through USD: "
        "MXN->USD 117/2000 (FX rate 11) then USD->EUR 5000/5417 (FX rate 12)"
    )
    assert outcome.posting is not None and outcome.posting.description.startswith(
        "Payment of 540.07 EUR against invoice INV-7, converted from 10,002.00 MXN"
    )


def test_a_stored_crossed_payment_books_what_it_booked() -> None:
    # given a payment row as the crossed booking wrote it
    stored = payment(
        kind=PaymentKind.INVOICE,
        status=PaymentStatus.RECORDED,
        invoice_id=INVOICE.id,
        amount=54_007,
        currency="EUR",
        original_amount=1_000_200,
        original_currency="MXN",
        fx_rate_id=MXN_USD.id,
        fx_rate_from_base_id=EUR_USD.id,
        payment_date=PAID_ON,
    )
    # when its booking is read back (to reverse it on a change or a deletion)
    before = rules.booking_of(stored)
    # then it is the same booking, so re-booking it the same way moves nothing
    route = Route("MXN", "EUR", (Leg("MXN", "USD", MXN_USD), Leg("USD", "EUR", EUR_USD)))
    again = rules.book(1_000_200, "MXN", INVOICE, route, PAID_ON, Problems("input."))
    assert again is not None and before.values() == again.values()
    assert rules.changed(stored, INVOICE, PaymentInput(), again, PAID_ON) is None
    # and its reversal takes back MXN and EUR, each balanced
    reversal = rules.deleted(stored, T0).reversal
    assert reversal is not None and balances(reversal.lines) == {"MXN": 0, "EUR": 0}


@pytest.mark.parametrize(
    ("left_out", "missing"),
    [
        ((MXN_USD_OLD, MXN_USD, MXN_USD_LATER), "from MXN to USD"),
        ((EUR_USD, EUR_USD_LATER), "from USD to EUR"),
        (RATES, "from MXN to USD nor from USD to EUR"),
    ],
    ids=["payment-to-base", "base-to-invoice", "both"],
)
async def test_a_missing_leg_is_the_currency_field_error(
    left_out: tuple[e.FxRate, ...], missing: str
) -> None:
    # given no direct rate and one leg (or both) missing
    route = await find_route(without(*left_out), "MXN", "EUR", PAID_ON)
    problems = Problems("input.")
    # when the payment is booked
    assert rules.book(PAID.amount, "MXN", INVOICE, route, PAID_ON, problems) is None
    # then it is the usual VALIDATION_FAILED on `input.currency`, naming what is missing
    with pytest.raises(ValidationFailed) as failed:
        problems.raise_any()
    assert failed.value.code == "VALIDATION_FAILED"
    assert failed.value.errors == {
        "input.currency": [
            "has no FX rate to EUR effective on or before 2024-02-15, "
            f"directly or through USD (none {missing})"
        ]
    }


async def test_a_leg_effective_only_after_the_payment_date_is_missing() -> None:
    # given the only EUR rate starts after the payment date
    route = await find_route(without(EUR_USD), "MXN", "EUR", PAID_ON)
    # then the second leg is missing, not taken from March
    assert route.legs == () and route.missing == (("USD", "EUR"),)


async def test_with_the_base_as_one_side_a_missing_rate_reads_as_before() -> None:
    route = await find_route(FakeRates(base="EUR"), "MXN", "EUR", PAID_ON)
    problems = Problems("input.")
    assert rules.book(PAID.amount, "MXN", INVOICE, route, PAID_ON, problems) is None
    assert problems.errors == {
        "input.currency": ["has no FX rate to EUR effective on or before 2024-02-15"]
    }
