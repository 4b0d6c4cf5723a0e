"""The invoice payments API's use cases: record, change, delete and authorize payments against
invoices. Each runs in one transaction that locks the invoice, writes the payment, its
audit event and its ledger postings, and brings the invoice's paid amount and status in
line with its live payments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from domain import entities as e
from domain import invoice_payments as rules
from domain.access import ReadScope
from domain.date_bounds import payment_date_problem
from domain.errors import Forbidden, NotFound
from domain.fx import find_route
from domain.idempotency import MIN_RETENTION
from domain.idempotent import IdempotentRuns, Settled, key_response
from domain.invoice_payments import Booking, PaymentInput, Problems, References
from domain.outcomes import actor_of
from domain.permissions import AUTHORIZE_PAYMENTS, MANAGE_PAYMENTS
from domain.principal import Principal
from domain.writes import IdempotencyKeys, PaymentRecords, UnitOfWorkFactory


def invoice_scope(principal: Principal, permission: str) -> ReadScope:
    """Invoice payments are the tenant's books: recorded by tenant-wide users only."""
    if permission not in principal.permissions:
        raise Forbidden(f"This needs the permission {permission}.", reason="MISSING_PERMISSION")
    if principal.partner_scope is not None:
        raise Forbidden(
            "Invoice payments are recorded by tenant staff, not partner users or managers.",
            reason="WRONG_CALLER",
        )
    return ReadScope(principal.tenant_id)


class InvoicePayments:
    def __init__(
        self,
        units: UnitOfWorkFactory,
        keys: IdempotencyKeys,
        *,
        clock: Callable[[], datetime],
        key_retention: timedelta = MIN_RETENTION,
    ) -> None:
        self._units = units
        self._clock = clock
        self._runs = IdempotentRuns(keys, clock=clock, retention=key_retention)

    async def create(
        self,
        principal: Principal,
        data: PaymentInput,
        idempotency_key: str,
        *,
        operation: str = "createPayment",
        invoice_field: str = "input.invoiceId",
    ) -> Settled:
        scope = invoice_scope(principal, MANAGE_PAYMENTS)
        if data.authorized:
            invoice_scope(principal, AUTHORIZE_PAYMENTS)
        return await self._runs.run(
            principal,
            operation,
            idempotency_key,
            data.arguments(),
            lambda key_id: self._create(principal, scope, data, invoice_field, key_id),
            lambda payment_id: self._replayed(scope, payment_id),
        )

    async def _create(
        self,
        principal: Principal,
        scope: ReadScope,
        data: PaymentInput,
        invoice_field: str,
        key_id: int,
    ) -> e.Payment:
        now = self._clock()
        async with self._units(scope) as uow:
            records = uow.payments
            problems = Problems("input.")
            invoice = None
            if data.invoice_id is not None:
                invoice = await records.invoice_for_update(data.invoice_id)
            rules.check_invoice(invoice, data.invoice_id, problems, invoice_field)
            rules.check_fields(data, await _references(records, data), problems, creating=True)
            on = _payment_date(data.payment_date, now, problems)
            # Every rule is checked, so the answer lists every broken one; the booking
            # needs a payable invoice and a valid amount.
            code = rules.currency_of(data.currency, invoice.currency if invoice else None, problems)
            payable = invoice is not None and invoice.status in rules.PAYABLE
            paid = 0
            booking = None
            if invoice is not None and payable and code and rules.valid_amount(data.amount):
                assert data.amount is not None
                paid = await records.live_total(invoice.id)
                booking = await _booking(records, data.amount, code, invoice, on, problems)
                if booking is not None:
                    rules.check_room(invoice, paid, booking, problems)
            problems.raise_any()
            assert invoice is not None and booking is not None
            actor = await actor_of(records.user, principal)
            payment = await records.create(
                rules.new_payment_values(invoice, data, booking, on, now, actor),
                rules.created(invoice, booking, data),
                actor,
                now,
            )
            await records.update_invoice(
                invoice, rules.invoice_after(invoice, paid + booking.amount.amount), now
            )
            await uow.complete_key(key_id, key_response(payment))
            await uow.commit()
        return payment

    async def update(self, principal: Principal, payment_id: int, data: PaymentInput) -> e.Payment:
        scope = invoice_scope(principal, MANAGE_PAYMENTS)
        now = self._clock()
        async with self._units(scope) as uow:
            records = uow.payments
            payment = rules.require_live(await records.payment_for_update(payment_id), payment_id)
            invoice = await _invoice_of(records, payment)
            problems = Problems("input.")
            rules.check_fields(data, await _references(records, data), problems, creating=False)
            amount, currency, given_on = rules.entered_values(payment, data)
            on = _payment_date(given_on, now, problems)
            code = rules.currency_of(currency, invoice.currency, problems)
            paid = await records.live_total(invoice.id)
            booking = None
            if code and rules.valid_amount(amount):
                booking = await _booking(records, amount, code, invoice, on, problems)
                if booking is not None:
                    rules.check_room(invoice, paid - payment.amount, booking, problems)
            problems.raise_any()
            assert booking is not None
            outcome = rules.changed(payment, invoice, data, booking, on)
            if outcome is None:
                return payment
            actor = await actor_of(records.user, principal)
            updated = await records.apply(payment, outcome, actor, now)
            if updated.amount != payment.amount:
                after = paid - payment.amount + updated.amount
                await records.update_invoice(invoice, rules.invoice_after(invoice, after), now)
            await uow.commit()
        return updated

    async def delete(self, principal: Principal, payment_id: int) -> e.Payment:
        scope = invoice_scope(principal, MANAGE_PAYMENTS)
        now = self._clock()
        async with self._units(scope) as uow:
            records = uow.payments
            payment = rules.require_live(await records.payment_for_update(payment_id), payment_id)
            invoice = await _invoice_of(records, payment)
            paid = await records.live_total(invoice.id)
            actor = await actor_of(records.user, principal)
            removed = await records.apply(payment, rules.deleted(payment, now), actor, now)
            after = paid - payment.amount
            await records.update_invoice(invoice, rules.invoice_after(invoice, after), now)
            await uow.commit()
        return removed

    async def authorize(self, principal: Principal, payment_id: int) -> e.Payment:
        scope = invoice_scope(principal, AUTHORIZE_PAYMENTS)
        now = self._clock()
        async with self._units(scope) as uow:
            records = uow.payments
            payment = rules.require_live(await records.payment_for_update(payment_id), payment_id)
            actor = await actor_of(records.user, principal)
            done = await records.apply(payment, rules.authorized(payment, actor, now), actor, now)
            await uow.commit()
        return done

    async def _replayed(self, scope: ReadScope, payment_id: int) -> e.Payment:
        async with self._units(scope) as uow:
            payment = await uow.payments.payment_for_update(payment_id)
        if payment is None:
            raise NotFound(f"No invoice payment has the ID {payment_id}.", field="id")
        return payment


async def _references(records: PaymentRecords, data: PaymentInput) -> References:
    return References(
        payment_method=(
            await records.payment_method(data.payment_method_id)
            if data.payment_method_id is not None
            else None
        ),
        sender=await records.address(data.sender_id) if data.sender_id is not None else None,
        receiver=(
            await records.address(data.receiver_id) if data.receiver_id is not None else None
        ),
    )


async def _invoice_of(records: PaymentRecords, payment: e.Payment) -> e.Invoice:
    invoice = (
        await records.invoice_for_update(payment.invoice_id)
        if payment.invoice_id is not None
        else None
    )
    if invoice is None:  # a foreign key and the create rule forbid it
        raise NotFound(f"Payment {payment.id} has no invoice.", field="id")
    return invoice


def _payment_date(given: date | None, now: datetime, problems: Problems) -> date:
    on = given or now.date()
    problem = payment_date_problem(on, now)
    if problem is not None:
        problems.add("paymentDate", problem)
    return on


async def _booking(
    records: PaymentRecords,
    amount: int,
    code: str,
    invoice: e.Invoice,
    on: date,
    problems: Problems,
) -> Booking | None:
    route = None
    if code != invoice.currency:
        route = await find_route(records, code, invoice.currency, on)
    return rules.book(amount, code, invoice, route, on, problems)
