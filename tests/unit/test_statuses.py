"""Payment lifecycles: which statuses belong to which kind of payment."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.entities import Invoice
from domain.errors import CurrencyMismatch
from domain.money import Money
from domain.statuses import STATUSES_BY_KIND, InvoiceStatus, PaymentKind, PaymentStatus


def test_every_payment_kind_has_a_lifecycle() -> None:
    assert set(STATUSES_BY_KIND) == set(PaymentKind)


@pytest.mark.parametrize("kind", list(PaymentKind))
def test_every_lifecycle_has_statuses_and_no_repeats(kind: PaymentKind) -> None:
    statuses = STATUSES_BY_KIND[kind]

    assert statuses
    assert len(set(statuses)) == len(statuses)
    assert all(isinstance(status, PaymentStatus) for status in statuses)


def test_every_payment_status_belongs_to_at_least_one_lifecycle() -> None:
    used = {status for statuses in STATUSES_BY_KIND.values() for status in statuses}

    assert set(PaymentStatus) - used == set()


def test_completed_is_shared_by_the_acquiring_and_reseller_lifecycles() -> None:
    owners = {kind for kind, statuses in STATUSES_BY_KIND.items() if "completed" in statuses}

    assert owners == {PaymentKind.ACQUIRING, PaymentKind.RESELLER}


def test_statuses_compare_equal_to_their_stored_strings() -> None:
    assert PaymentStatus("manually_paid") is PaymentStatus.MANUALLY_PAID
    assert PaymentKind.INVOICE == "invoice"


def _invoice(total: int, paid: int, currency: str = "USD") -> Invoice:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    return Invoice(
        id=1,
        tenant_id=1,
        number="INV-1",
        company_id=None,
        account_id=None,
        sender_id=None,
        receiver_id=None,
        total_amount=total,
        paid_amount=paid,
        currency=currency,
        status=InvoiceStatus.PARTIALLY_PAID,
        issued_on=date(2024, 1, 1),
        due_on=None,
        created_at=now,
        updated_at=now,
    )


def test_an_invoice_outstanding_amount_is_total_minus_paid() -> None:
    invoice = _invoice(total=10_000, paid=2_550)

    assert invoice.total == Money(10_000, "USD")
    assert invoice.paid == Money(2_550, "USD")
    assert invoice.outstanding == Money(7_450, "USD")


def test_a_fully_paid_invoice_has_nothing_outstanding() -> None:
    assert _invoice(total=500, paid=500, currency="JPY").outstanding == Money(0, "JPY")


def test_an_overpaid_invoice_has_a_negative_outstanding_amount() -> None:
    assert _invoice(total=500, paid=700).outstanding == Money(-200, "USD")


def test_an_invoice_outstanding_amount_cannot_be_combined_with_another_currency() -> None:
    invoice = _invoice(total=100, paid=0, currency="KWD")

    with pytest.raises(CurrencyMismatch):
        invoice.outstanding + Money(1, "USD")
