"""The commission payout use cases: each opens a unit of work in the caller's scope,
loads and locks the payment, asks the state machine, writes the outcome and commits.
Paying also calls the payout provider inside that transaction, so a payout whose
recording fails leaves nothing behind, and a retry reaches the provider with the same
payout key and is never paid twice."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain import commission
from domain import commission_moves as moves
from domain import entities as e
from domain.access import ReadScope
from domain.commission import Action, Availability, CommissionCase, require
from domain.errors import DomainError, NotFound, NotRecorded, PayoutDeclined
from domain.idempotency import MIN_RETENTION
from domain.idempotent import IdempotentRuns, Settled, key_response
from domain.notifications import Audience
from domain.outcomes import SYSTEM_ACTOR, Actor, Outcome
from domain.payouts import PayoutProvider, PayoutRequest, payout_key
from domain.principal import Principal
from domain.statuses import PaymentKind
from domain.storage import DocumentStorage
from domain.writes import IdempotencyKeys, UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger("paygraph.commission")

Decide = Callable[[CommissionCase, Actor, Audience, datetime], Outcome]


@dataclass(frozen=True, slots=True)
class AddedDocument:
    payment: e.Payment
    document: e.PaymentDocument


@dataclass(frozen=True, slots=True)
class NotificationSettings:
    slack_channel: str | None = None
    rejection_mentions: Sequence[str] = ()


def write_scope(principal: Principal) -> ReadScope:
    """Commission mutations reach the caller's tenant and partner scope, commission
    payments only, whatever the caller may read."""
    return ReadScope(
        tenant_id=principal.tenant_id,
        partner_ids=principal.partner_scope,
        payment_kinds=frozenset({PaymentKind.COMMISSION}),
    )


class CommissionWorkflow:
    def __init__(
        self,
        units: UnitOfWorkFactory,
        keys: IdempotencyKeys,
        payouts: PayoutProvider,
        storage: DocumentStorage,
        *,
        clock: Callable[[], datetime],
        notifications: NotificationSettings | None = None,
        key_retention: timedelta = MIN_RETENTION,
    ) -> None:
        self._units = units
        self._payouts = payouts
        self._storage = storage
        self._clock = clock
        self._notifications = notifications or NotificationSettings()
        self._runs = IdempotentRuns(keys, clock=clock, retention=key_retention)

    def today(self) -> date:
        """The date the cutoff rule compares with (UTC)."""
        return self._clock().date()

    async def available(self, principal: Principal, payment_id: int) -> list[Availability]:
        """What the caller may do with the payment, seen through the workflow's own scope:
        for a caller that may act on a payment without reading it (document 000 lets
        `pay-partners-payments` alone reject documents)."""
        async with self._units(write_scope(principal)) as uow:
            try:
                case, _, _ = await self._load(uow, principal, payment_id)
            except NotFound:
                return []
        return commission.available(case, principal, self.today())

    # --- the partner's side -----------------------------------------------------------

    async def request_payment(self, principal: Principal, payment_id: int) -> e.Payment:
        return await self._transition(
            principal, payment_id, Action.REQUEST_PAYMENT, lambda c, *_: moves.request_payment(c)
        )

    async def add_document(
        self,
        principal: Principal,
        payment_id: int,
        document_type: str,
        data: bytes,
        *,
        file_name: str,
        content_type: str,
    ) -> AddedDocument:
        # Stored before the transaction: content-addressed, so a failed transaction
        # leaves at most an unreferenced copy, never a row without its file.
        stored = await self._storage.put(
            principal.tenant_id, data, file_name=file_name, content_type=content_type
        )
        now = self._clock()
        async with self._units(write_scope(principal)) as uow:
            case, actor, _ = await self._load(uow, principal, payment_id)
            require(case, Action.ADD_DOCUMENT, principal, now.date())
            outcome = moves.add_document(case, document_type, stored)
            payment = await uow.commission.apply(case.payment, outcome, actor, now)
            documents = await uow.commission.documents(payment_id)
            await uow.commit()
        document = next(d for d in documents if d.document_type == document_type)
        return AddedDocument(payment, document)

    # --- review -------------------------------------------------------------------------

    async def approve_document(
        self, principal: Principal, payment_id: int, document_id: int
    ) -> e.Payment:
        return await self._transition(
            principal,
            payment_id,
            Action.APPROVE_DOCUMENT,
            lambda case, actor, audience, now: moves.approve_document(
                case, document_id, actor, now, audience
            ),
        )

    async def reject_document(
        self, principal: Principal, payment_id: int, document_id: int, reason: str | None
    ) -> e.Payment:
        moves.text_argument(reason, "rejectionReason", required=True)
        return await self._transition(
            principal,
            payment_id,
            Action.REJECT_DOCUMENT,
            lambda case, actor, audience, now: moves.reject_document(
                case, document_id, reason, actor, now, audience
            ),
        )

    async def send_to_internal_review(
        self, principal: Principal, payment_id: int, comments: str | None
    ) -> e.Payment:
        moves.text_argument(comments, "comments", required=True)
        return await self._transition(
            principal,
            payment_id,
            Action.SEND_TO_INTERNAL_REVIEW,
            lambda case, *_: moves.send_to_internal_review(case, comments),
        )

    async def reject_payment(
        self, principal: Principal, payment_id: int, comments: str | None
    ) -> e.Payment:
        text = moves.text_argument(comments, "comments", required=False)
        return await self._transition(
            principal,
            payment_id,
            Action.REJECT_PAYMENT,
            lambda case, _, audience, __: moves.reject_payment(case, text, audience),
        )

    # --- money out ----------------------------------------------------------------------

    async def pay(
        self, principal: Principal, payment_id: int, comments: str | None, idempotency_key: str
    ) -> Settled:
        text = moves.text_argument(comments, "comments", required=False)
        arguments = {"id": payment_id, "comments": text}
        return await self._idempotent(
            principal,
            "payPartnerPayment",
            idempotency_key,
            arguments,
            lambda key_id: self._pay(principal, payment_id, text, key_id),
        )

    async def mark_as_paid(
        self, principal: Principal, payment_id: int, paid_at: datetime, idempotency_key: str
    ) -> Settled:
        arguments = {"id": payment_id, "paidAt": paid_at.isoformat()}

        async def run(key_id: int) -> e.Payment:
            return await self._transition(
                principal,
                payment_id,
                Action.MARK_AS_PAID,
                lambda case, _, audience, now: moves.mark_as_paid(case, paid_at, now, audience),
                key_id=key_id,
            )

        return await self._idempotent(
            principal, "markPartnerPaymentAsPaid", idempotency_key, arguments, run
        )

    async def _pay(
        self, principal: Principal, payment_id: int, comments: str | None, key_id: int
    ) -> e.Payment:
        now = self._clock()
        async with self._units(write_scope(principal)) as uow:
            case, actor, audience = await self._load(uow, principal, payment_id)
            require(case, Action.PAY, principal, now.date())
            payment = case.payment
            assert case.payout_account is not None  # a guard of PAY
            request = PayoutRequest(
                payout_key=payout_key(payment, case.declined_payouts),
                amount=payment.requested,
                destination=case.payout_account,
                reference=payment.reference or str(payment.id),
                description=f"Commission {payment.period_start} to {payment.period_end}",
            )
            try:
                receipt = await self._payouts.pay(request)
            except PayoutDeclined as declined:
                outcome = moves.payout_declined(case, declined.message, audience)
                await uow.commission.apply(payment, outcome, SYSTEM_ACTOR, now)
                await uow.commit()
                raise
            # From here on the money has left: a failure must say that nothing was
            # recorded and that retrying is safe (the provider deduplicates the payout).
            try:
                outcome = moves.pay(case, comments, receipt, now, audience)
                paid = await uow.commission.apply(payment, outcome, actor, now)
                await uow.complete_key(key_id, key_response(paid))
                await uow.commit()
            except DomainError:
                raise
            except Exception as error:
                logger.exception(
                    "payout %s of payment %s was sent but not recorded",
                    receipt.payout_id,
                    payment.id,
                )
                raise NotRecorded(
                    "The payout could not be recorded, so nothing was changed. Retry with "
                    "the same idempotency key: the payout provider will not pay twice."
                ) from error
        return paid

    # --- the machinery ------------------------------------------------------------------

    async def _transition(
        self,
        principal: Principal,
        payment_id: int,
        action: Action,
        decide: Decide,
        *,
        key_id: int | None = None,
    ) -> e.Payment:
        now = self._clock()
        async with self._units(write_scope(principal)) as uow:
            case, actor, audience = await self._load(uow, principal, payment_id)
            require(case, action, principal, now.date())
            outcome = decide(case, actor, audience, now)
            payment = await uow.commission.apply(case.payment, outcome, actor, now)
            if key_id is not None:
                await uow.complete_key(key_id, key_response(payment))
            await uow.commit()
        return payment

    async def _load(
        self, uow: UnitOfWork, principal: Principal, payment_id: int
    ) -> tuple[CommissionCase, Actor, Audience]:
        records = uow.commission
        payment = await records.payment_for_update(payment_id)
        if payment is None:
            raise NotFound(f"Commission payment {payment_id} not found.", field="id")
        documents = await records.documents(payment_id)
        partner = await records.partner(payment.partner_id) if payment.partner_id else None
        payee = await records.user(payment.user_id) if payment.user_id else None
        user = await records.user(principal.user_id) if principal.user_id else None
        actor = Actor(principal.user_id, user.name if user else f"user {principal.user_id}")
        audience = Audience(
            partner_name=partner.name if partner else "(no partner)",
            payee=payee,
            slack_channel=self._notifications.slack_channel,
            rejection_mentions=tuple(self._notifications.rejection_mentions),
        )
        case = CommissionCase(
            payment,
            documents,
            partner.payout_account if partner else None,
            declined_payouts=await records.declined_payouts(payment_id),
        )
        return case, actor, audience

    async def _idempotent(
        self,
        principal: Principal,
        operation: str,
        idempotency_key: str,
        arguments: Mapping[str, object],
        run: Callable[[int], Awaitable[e.Payment]],
    ) -> Settled:
        return await self._runs.run(
            principal,
            operation,
            idempotency_key,
            arguments,
            run,
            lambda payment_id: self._replayed(principal, payment_id),
        )

    async def _replayed(self, principal: Principal, payment_id: int) -> e.Payment:
        async with self._units(write_scope(principal)) as uow:
            payment = await uow.commission.payment_for_update(payment_id)
        if payment is None:
            raise NotFound(f"Commission payment {payment_id} not found.", field="id")
        return payment
