"""Reseller completions and invoice payment mutations: read the
arguments, call the use case with the caller, hand back what it returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from domain import entities as e
from domain.idempotent import Settled
from domain.invoice_payments import PaymentInput
from domain.invoice_workflow import InvoicePayments
from domain.reseller_payments import Completion, ResellerPayments
from resolvers.nodes import named_row_id, row_id

if TYPE_CHECKING:
    from resolvers.context import Context

NO_ROW = 0  # no row has id 0: an id that does not parse is simply not found


def _resellers(context: Context) -> ResellerPayments:
    if context.resellers is None:
        raise RuntimeError("this context has no reseller payments")
    return context.resellers


def _invoices(context: Context) -> InvoicePayments:
    if context.invoices is None:
        raise RuntimeError("this context has no invoice payments")
    return context.invoices


def reference(type_name: str, given: str | None) -> int | None:
    """The row id a reference argument names (global ID or numeric id), NO_ROW when it
    names nothing, None when it was not given."""
    if given is None:
        return None
    found = named_row_id(type_name, given)
    return NO_ROW if found is None else found


@dataclass(frozen=True, slots=True)
class PaymentFields:
    """The invoice payments API's fields as the schema read them."""

    amount: int | None = None
    currency: str | None = None
    payment_method_id: str | None = None
    sender_id: str | None = None
    receiver_id: str | None = None
    payment_date: date | None = None
    sent_at: datetime | None = None
    received_at: datetime | None = None
    reference: str | None = None
    description: str | None = None
    authorized: bool | None = None

    def input(self, invoice_id: int | None = None) -> PaymentInput:
        return PaymentInput(
            invoice_id=invoice_id,
            amount=self.amount,
            currency=self.currency,
            payment_method_id=reference("PaymentMethod", self.payment_method_id),
            sender_id=reference("Address", self.sender_id),
            receiver_id=reference("Address", self.receiver_id),
            payment_date=self.payment_date,
            sent_at=self.sent_at,
            received_at=self.received_at,
            reference=self.reference,
            description=self.description,
            authorized=self.authorized,
        )


def _completion(
    context: Context, payment_method_id: str, total: int | None, currency_code: str | None
) -> Completion:
    # An id that does not parse names no row: the use case refuses it in the reseller
    # completion API's order (the caller first, then PAYMENT-001, then PAYMENT-002).
    method = reference("PaymentMethod", payment_method_id)
    return Completion(method or NO_ROW, total, currency_code, context.client_ip)


async def complete_payment(
    context: Context,
    reseller_id: str,
    document_id: str,
    payment_method_id: str,
    total: int | None,
    currency_code: str | None,
    idempotency_key: str,
) -> Settled:
    reseller = reference("Partner", reseller_id) or NO_ROW
    completion = _completion(context, payment_method_id, total, currency_code)
    return await _resellers(context).complete(
        context.principal, reseller, document_id, completion, idempotency_key
    )


async def complete_payment_by_id(
    context: Context,
    id: str,
    payment_method_id: str,
    total: int | None,
    currency_code: str | None,
    idempotency_key: str,
) -> Settled:
    payment = reference("Payment", id) or NO_ROW
    completion = _completion(context, payment_method_id, total, currency_code)
    return await _resellers(context).complete_by_id(
        context.principal, payment, completion, idempotency_key
    )


async def create_payment(
    context: Context, invoice_id: str | None, fields: PaymentFields, idempotency_key: str
) -> Settled:
    return await _invoices(context).create(
        context.principal, fields.input(reference("Invoice", invoice_id)), idempotency_key
    )


async def create_invoice_payment(
    context: Context, invoice_id: str, fields: PaymentFields, idempotency_key: str
) -> Settled:
    return await _invoices(context).create(
        context.principal,
        fields.input(reference("Invoice", invoice_id)),
        idempotency_key,
        operation="createInvoicePayment",
        invoice_field="invoiceId",
    )


def _payment_id(given: str) -> int:
    return row_id("Payment", given)


async def update_payment(context: Context, id: str, fields: PaymentFields) -> e.Payment:
    return await _invoices(context).update(context.principal, _payment_id(id), fields.input())


async def delete_payment(context: Context, id: str) -> e.Payment:
    return await _invoices(context).delete(context.principal, _payment_id(id))


async def authorize_payment(context: Context, id: str) -> e.Payment:
    return await _invoices(context).authorize(context.principal, _payment_id(id))
