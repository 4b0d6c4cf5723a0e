"""Document 003's rules as pure functions: the checks that make up its 422, bookings
across currencies and what a change, deletion or authorization writes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from domain import entities as e
from domain import invoice_payments as rules
from domain.errors import InvalidState, NotFound, ValidationFailed
from domain.fx import Leg, Route
from domain.invoice_payments import (
    CASH,
    FX_CONVERSION,
    RECEIVABLES,
    Booking,
    InvoicePaymentAction,
    PaymentInput,
    Problems,
    References,
)
from domain.ledger import balances
from domain.money import Money
from domain.outcomes import Actor
from domain.statuses import InvoiceStatus, LedgerDirection, PaymentKind, PaymentStatus
from tests.unit.fakes import T0, TENANT_ID, payment

ACTOR = Actor(30, "Ada Admin")
INVOICE = e.Invoice(
    id=7,
    tenant_id=TENANT_ID,
    number="INV-7",
    company_id=None,
    account_id=None,
    sender_id=1,
    receiver_id=2,
    total_amount=100_000,
    paid_amount=0,
    currency="USD",
    status=InvoiceStatus.OPEN,
    issued_on=date(2025, 1, 1),
    due_on=None,
    created_at=T0,
    updated_at=T0,
)
EUR_USD = e.FxRate(5, TENANT_ID, "EUR", "USD", 1_083_400, 6, date(2025, 1, 1), T0)


def direct(rate: e.FxRate) -> Route:
    """The route of a payment in the rate's base currency on a USD invoice."""
    return Route(rate.base_currency, "USD", (Leg(rate.base_currency, "USD", rate),))


def recorded(**changes: object) -> e.Payment:
    values: dict[str, object] = {
        "kind": PaymentKind.INVOICE,
        "status": PaymentStatus.RECORDED,
        "invoice_id": INVOICE.id,
        "amount": 40_000,
        "currency": "USD",
        "original_amount": None,
        "original_currency": None,
        "fx_rate_id": None,
        "authorized": False,
        "payment_date": date(2025, 1, 10),
    }
    return payment(**{**values, **changes})


def test_every_problem_is_reported_at_once_in_the_documents_shape() -> None:
    problems = Problems("input.")
    rules.check_invoice(None, None, problems, "input.invoiceId")
    rules.check_fields(PaymentInput(amount=0, sender_id=9), References(), problems, creating=True)
    with pytest.raises(ValidationFailed) as failed:
        problems.raise_any()
    assert failed.value.errors == {
        "input.invoiceId": ["can't be blank"],
        "input.amount": ["must be greater than 0"],
        "input.senderId": ["does not exist"],
    }
    assert failed.value.extensions()["field"] == "input.invoiceId"


@pytest.mark.parametrize("status", [InvoiceStatus.DRAFT, InvoiceStatus.VOID])
def test_drafts_and_void_invoices_take_no_payments(status: InvoiceStatus) -> None:
    problems = Problems("input.")
    rules.check_invoice(replace(INVOICE, status=status), 7, problems, "invoiceId")
    assert list(problems.errors) == ["invoiceId"]


def test_a_missing_amount_is_only_a_problem_when_creating() -> None:
    problems = Problems("input.")
    rules.check_fields(PaymentInput(), References(), problems, creating=False)
    assert not problems.errors


def test_the_invoice_currency_books_as_is() -> None:
    booking = rules.book(40_000, "USD", INVOICE, None, date(2025, 1, 10), Problems(""))
    assert booking == Booking(Money(40_000, "USD"))
    posting = rules.posting_of(booking, "x")
    assert [(line.account_code, line.direction) for line in posting.lines] == [
        (CASH, LedgerDirection.DEBIT),
        (RECEIVABLES, LedgerDirection.CREDIT),
    ]


def test_another_currency_converts_and_each_currency_balances_on_its_own() -> None:
    booking = rules.book(50_000, "EUR", INVOICE, direct(EUR_USD), date(2025, 1, 10), Problems(""))
    assert booking is not None
    assert booking.amount == Money(54_170, "USD")
    assert booking.entered == Money(50_000, "EUR")
    assert booking.values()["fx_rate_id"] == EUR_USD.id
    posting = rules.posting_of(booking, "x")
    assert balances(posting.lines) == {"EUR": 0, "USD": 0}
    assert {line.account_code for line in posting.lines} == {CASH, FX_CONVERSION, RECEIVABLES}


def test_no_rate_and_amounts_too_small_to_convert_are_field_problems() -> None:
    problems = Problems("input.")
    assert rules.book(100, "EUR", INVOICE, None, date(2025, 1, 10), problems) is None
    tiny = replace(EUR_USD, rate_value=1)  # 0.000001 USD per EUR
    assert rules.book(1, "EUR", INVOICE, direct(tiny), date(2025, 1, 10), problems) is None
    assert list(problems.errors) == ["input.currency", "input.amount"]


def test_a_payment_may_not_pass_the_invoice_total() -> None:
    problems = Problems("input.")
    rules.check_room(INVOICE, 60_000, Booking(Money(40_000, "USD")), problems)
    assert not problems.errors
    rules.check_room(INVOICE, 60_001, Booking(Money(40_000, "USD")), problems)
    assert problems.errors["input.amount"] == [
        "exceeds the invoice's outstanding amount (399.99 USD)"
    ]


def test_the_invoice_status_follows_its_paid_amount() -> None:
    assert rules.invoice_after(INVOICE, 0)["status"] is InvoiceStatus.OPEN
    assert rules.invoice_after(INVOICE, 1)["status"] is InvoiceStatus.PARTIALLY_PAID
    assert rules.invoice_after(INVOICE, 100_000)["status"] is InvoiceStatus.PAID


def test_new_payments_default_payer_and_payee_from_the_invoice() -> None:
    values = rules.new_payment_values(
        INVOICE, PaymentInput(), Booking(Money(1, "USD")), date(2025, 1, 10), T0, ACTOR
    )
    assert (values["sender_id"], values["receiver_id"]) == (INVOICE.receiver_id, INVOICE.sender_id)
    assert values["authorized"] is False and values["authorized_by_id"] is None


def test_a_money_change_reverses_rebooks_and_clears_the_authorization() -> None:
    before = recorded(authorized=True, authorized_by_id=30, authorized_at=T0)
    booking = Booking(Money(30_000, "USD"))
    outcome = rules.changed(
        before, INVOICE, PaymentInput(amount=30_000), booking, before.payment_date
    )
    assert outcome is not None and outcome.action is InvoicePaymentAction.UPDATE
    assert outcome.reversal is not None and outcome.posting is not None
    assert outcome.payment_changes["authorized"] is False
    net = balances(outcome.reversal.lines + outcome.posting.lines)
    assert net == {"USD": 0}
    receivables = sum(
        (1 if line.direction is LedgerDirection.CREDIT else -1) * line.money.amount
        for line in outcome.reversal.lines + outcome.posting.lines
        if line.account_code == RECEIVABLES
    )
    assert receivables == 30_000 - 40_000


def test_other_changes_post_nothing_and_no_change_is_none() -> None:
    before = recorded()
    same = Booking(Money(40_000, "USD"))
    outcome = rules.changed(
        before, INVOICE, PaymentInput(reference="R-1"), same, before.payment_date
    )
    assert outcome is not None and outcome.postings == ()
    assert rules.changed(before, INVOICE, PaymentInput(), same, before.payment_date) is None


def test_deleting_reverses_the_booking() -> None:
    outcome = rules.deleted(recorded(), T0)
    assert outcome.to_status is PaymentStatus.DELETED
    assert outcome.posting is None and outcome.reversal is not None
    assert [line.direction for line in outcome.reversal.lines] == [
        LedgerDirection.CREDIT,
        LedgerDirection.DEBIT,
    ]


def test_deleted_or_foreign_payments_cannot_change() -> None:
    with pytest.raises(InvalidState):
        rules.require_live(recorded(status=PaymentStatus.DELETED), 1)
    with pytest.raises(NotFound):
        rules.require_live(recorded(kind=PaymentKind.RESELLER, status=PaymentStatus.COMPLETED), 1)
    with pytest.raises(NotFound):
        rules.require_live(None, 1)


def test_authorizing_twice_is_refused() -> None:
    outcome = rules.authorized(recorded(), ACTOR, T0)
    assert outcome.payment_changes == {
        "authorized": True,
        "authorized_by_id": ACTOR.user_id,
        "authorized_at": T0,
    }
    with pytest.raises(InvalidState) as refused:
        rules.authorized(recorded(authorized=True), ACTOR, T0 + timedelta(minutes=1))
    assert refused.value.reason == "ALREADY_AUTHORIZED"
