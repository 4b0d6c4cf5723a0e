"""Reseller completion: a reseller customer's payment that a manager completes because it was
paid elsewhere, by its document number or by its id; and its expiry.

The lifecycle is WAITING_FOR_PAYMENT -> COMPLETED | EXPIRED, and EXPIRED -> COMPLETED.
A payment past its expiration date is moved to EXPIRED by PayGraph's own periodic job
(`expire_due`), one audited transition per payment; completing does not wait for it,
as both statuses may be completed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain import entities as e
from domain.access import ReadScope
from domain.errors import (
    Forbidden,
    InvalidState,
    PaymentCurrencyMismatch,
    PaymentDocumentNotFound,
    PaymentMethodNotFound,
    PaymentTotalMismatch,
)
from domain.idempotency import MIN_RETENTION
from domain.idempotent import IdempotentRuns, Settled, key_response
from domain.ledger import transfer
from domain.outcomes import SYSTEM_ACTOR, Actor, Outcome, actor_of
from domain.permissions import COMPLETE_PAYMENTS
from domain.principal import Credential, Principal
from domain.statuses import PaymentKind, PaymentStatus
from domain.writes import DuePayments, IdempotencyKeys, PaymentRecords, UnitOfWorkFactory

logger = logging.getLogger("paygraph.reseller")

S = PaymentStatus
COMPLETABLE = frozenset({S.WAITING_FOR_PAYMENT, S.EXPIRED})
# The reseller completion API's 422 text, word for word.
NOT_COMPLETABLE = 'Only payments with "waiting for payment/expired" status can be completed'
DOCUMENT_NOT_FOUND = "Required parameter document_id is not found"
METHOD_NOT_FOUND = "Required parameter payment_method_id is not found"
CURRENCY_MISMATCH = "Transmitted currency_code does not match the payment currency_code"

# Ledger accounts: the customer owed the reseller; the money arrived through a system
# outside PayGraph.
CUSTOMER_RECEIVABLES = "customer_receivables"
EXTERNAL_RECEIPTS = "external_receipts"


class ResellerAction(StrEnum):
    COMPLETE = "complete"
    EXPIRE = "expire"


@dataclass(frozen=True, slots=True)
class Completion:
    """What the manager sends: the method is required, total and currency optional."""

    payment_method_id: int
    total: int | None = None
    currency_code: str | None = None
    requester_ip: str | None = None

    def arguments(self) -> dict[str, object]:
        """The request as the idempotency key fingerprints it (not the IP: a retry may
        come through another proxy)."""
        return {
            "paymentMethodId": self.payment_method_id,
            "total": self.total,
            "currencyCode": self.currency_code,
        }


def complete(
    payment: e.Payment, method: e.PaymentMethod, completion: Completion, actor: Actor, now: datetime
) -> Outcome:
    """Checks in the reseller completion API's order after the lookups: currency
    (PAYMENT-003), total, then the status (its 422)."""
    given = completion.currency_code
    if given is not None and given.strip().upper() != payment.currency:
        raise PaymentCurrencyMismatch(CURRENCY_MISMATCH, field="currencyCode")
    if completion.total is not None and completion.total != payment.amount:
        raise PaymentTotalMismatch(
            f"total {completion.total} does not match the payment total {payment.amount} "
            f"({payment.requested.format()}); amounts are minor units.",
            field="total",
        )
    if payment.status not in COMPLETABLE:
        raise InvalidState(NOT_COMPLETABLE, status=payment.status.value, reason="WRONG_STATUS")
    posting = None
    if payment.amount > 0:
        posting = transfer(
            payment.requested,
            debit=EXTERNAL_RECEIPTS,
            credit=CUSTOMER_RECEIVABLES,
            description=f"Payment {payment.document_number or payment.id} completed "
            f"({method.name})",
        )
    changes: dict[str, object] = {
        "status": S.COMPLETED,
        "closed_at": now,
        "paid_at": now,
        "paid_amount": payment.amount,
        "manager_id": actor.user_id,
        "payment_method_id": method.id,
        "requester_ip": completion.requester_ip,
    }
    return Outcome(
        ResellerAction.COMPLETE,
        payment.status,
        S.COMPLETED,
        changes,
        comments=f"completed by {actor.label} with {method.name}",
        posting=posting,
    )


def is_due(payment: e.Payment, now: datetime) -> bool:
    return (
        payment.kind is PaymentKind.RESELLER
        and payment.status is S.WAITING_FOR_PAYMENT
        and payment.expiration_date is not None
        and payment.expiration_date <= now
    )


def expire(payment: e.Payment, now: datetime) -> Outcome:
    if not is_due(payment, now):
        raise InvalidState(
            f"Payment {payment.id} is {payment.status.value} and not due to expire.",
            status=payment.status.value,
            reason="WRONG_STATUS",
        )
    return Outcome(
        ResellerAction.EXPIRE,
        payment.status,
        S.EXPIRED,
        {"status": S.EXPIRED},
        comments=f"expiration date {payment.expiration_date} passed",
    )


def completion_scope(principal: Principal) -> ReadScope:
    """Who may complete: a manager (its reseller and every reseller below it) or a
    tenant-wide admin, with `complete-payments`; reseller payments only."""
    if COMPLETE_PAYMENTS not in principal.permissions:
        raise Forbidden(
            f"Completing payments needs the permission {COMPLETE_PAYMENTS}.",
            reason="MISSING_PERMISSION",
        )
    manager = principal.credential is Credential.API_TOKEN
    if not manager and principal.partner_id is not None:
        raise Forbidden(
            "Payments are completed by reseller managers and tenant admins, not partner users.",
            reason="WRONG_CALLER",
        )
    return ReadScope(
        tenant_id=principal.tenant_id,
        partner_ids=principal.partner_scope,
        payment_kinds=frozenset({PaymentKind.RESELLER}),
    )


class ResellerPayments:
    def __init__(
        self,
        units: UnitOfWorkFactory,
        keys: IdempotencyKeys,
        due: DuePayments,
        *,
        clock: Callable[[], datetime],
        key_retention: timedelta = MIN_RETENTION,
    ) -> None:
        self._units = units
        self._due = due
        self._clock = clock
        self._runs = IdempotentRuns(keys, clock=clock, retention=key_retention)

    async def complete(
        self,
        principal: Principal,
        reseller_id: int,
        document_number: str,
        completion: Completion,
        idempotency_key: str,
    ) -> Settled:
        """The reseller completion API's POST /resellers/{reseller_id}/payments/{document_id}."""
        scope = completion_scope(principal)
        number = document_number.strip()

        async def find(records: PaymentRecords) -> e.Payment | None:
            return await records.reseller_payment_for_update(reseller_id, number)

        arguments = {"resellerId": reseller_id, "documentId": number, **completion.arguments()}
        return await self._runs.run(
            principal,
            "completePayment",
            idempotency_key,
            arguments,
            lambda key_id: self._complete(principal, scope, find, completion, key_id),
            lambda payment_id: self._replayed(scope, payment_id),
        )

    async def complete_by_id(
        self, principal: Principal, payment_id: int, completion: Completion, idempotency_key: str
    ) -> Settled:
        scope = completion_scope(principal)

        async def find(records: PaymentRecords) -> e.Payment | None:
            return await records.payment_for_update(payment_id)

        arguments = {"id": payment_id, **completion.arguments()}
        return await self._runs.run(
            principal,
            "completePaymentById",
            idempotency_key,
            arguments,
            lambda key_id: self._complete(principal, scope, find, completion, key_id),
            lambda found_id: self._replayed(scope, found_id),
        )

    async def _complete(
        self,
        principal: Principal,
        scope: ReadScope,
        find: Callable[[PaymentRecords], Awaitable[e.Payment | None]],
        completion: Completion,
        key_id: int,
    ) -> e.Payment:
        now = self._clock()
        async with self._units(scope) as uow:
            records = uow.payments
            payment = await find(records)
            if payment is None or payment.kind is not PaymentKind.RESELLER:
                # Another reseller's payment outside the tree reads as missing too.
                raise PaymentDocumentNotFound(DOCUMENT_NOT_FOUND, field="documentId")
            method = await records.payment_method(completion.payment_method_id)
            if method is None:
                raise PaymentMethodNotFound(METHOD_NOT_FOUND, field="paymentMethodId")
            actor = await actor_of(records.user, principal)
            outcome = complete(payment, method, completion, actor, now)
            completed = await records.apply(payment, outcome, actor, now)
            await uow.complete_key(key_id, key_response(completed))
            await uow.commit()
        return completed

    async def _replayed(self, scope: ReadScope, payment_id: int) -> e.Payment:
        async with self._units(scope) as uow:
            payment = await uow.payments.payment_for_update(payment_id)
        if payment is None:
            raise PaymentDocumentNotFound(DOCUMENT_NOT_FOUND, field="documentId")
        return payment

    async def expire_due(self, *, limit: int = 500) -> int:
        """Move reseller payments past their expiration date to EXPIRED; returns how
        many. Safe to run from several processes: each payment is claimed by its
        transition, and a payment completed meanwhile is skipped."""
        now = self._clock()
        expired = 0
        for tenant_id, payment_id in await self._due.due_expirations(now, limit):
            scope = ReadScope(tenant_id, payment_kinds=frozenset({PaymentKind.RESELLER}))
            try:
                async with self._units(scope) as uow:
                    payment = await uow.payments.payment_for_update(payment_id)
                    if payment is None or not is_due(payment, now):
                        continue
                    await uow.payments.apply(payment, expire(payment, now), SYSTEM_ACTOR, now)
                    await uow.commit()
                    expired += 1
            except InvalidState:
                logger.info("payment %s changed before it could expire", payment_id)
        return expired
