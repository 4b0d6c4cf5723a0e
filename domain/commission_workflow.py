"""The commission payout use cases: each opens a unit of work in the caller's scope,
loads and locks the payment, asks the state machine, writes the outcome and commits.
Paying talks to the payout provider outside any transaction (domain.commission_payouts):
an attempt is recorded first, the answer after."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain import commission
from domain import commission_moves as moves
from domain import entities as e
from domain.commission import Action, Availability, CommissionCase, require
from domain.commission_cases import NotificationSettings, load_case, write_scope
from domain.commission_payouts import CommissionPayouts, ReconcileReport
from domain.errors import NotFound
from domain.idempotency import MIN_RETENTION
from domain.idempotent import IdempotentRuns, Settled, Unfinished, key_response
from domain.notifications import Audience
from domain.outcomes import Actor, Outcome, actor_of
from domain.payout_timing import PayoutTiming
from domain.payouts import PayoutProvider
from domain.principal import Principal
from domain.storage import DocumentStorage, Readable, head_of
from domain.uploads import HEAD_BYTES, check_upload
from domain.writes import IdempotencyKeys, PendingPayouts, UnitOfWork, UnitOfWorkFactory

__all__ = ["AddedDocument", "CommissionWorkflow", "NotificationSettings", "PayoutTiming"]

Decide = Callable[[CommissionCase, Actor, Audience, datetime], Outcome]


@dataclass(frozen=True, slots=True)
class AddedDocument:
    payment: e.Payment
    document: e.PaymentDocument


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
        payout_timing: PayoutTiming | None = None,
        pending_payouts: PendingPayouts | None = None,
    ) -> None:
        self._units = units
        self._storage = storage
        self._clock = clock
        self._notifications = notifications or NotificationSettings()
        self._runs = IdempotentRuns(keys, clock=clock, retention=key_retention)
        self._payouts = CommissionPayouts(
            units,
            payouts,
            clock=clock,
            notifications=self._notifications,
            timing=payout_timing or PayoutTiming(),
            pending=pending_payouts,
        )

    def today(self) -> date:
        """The date the cutoff rule compares with (UTC)."""
        return self._clock().date()

    async def available(self, principal: Principal, payment_id: int) -> list[Availability]:
        """What the caller may do with the payment, seen through the workflow's own scope:
        for a caller that may act on a payment without reading it (the commission payouts API lets
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
        data: bytes | Readable,
        *,
        file_name: str,
        content_type: str,
    ) -> AddedDocument:
        # The file itself is checked first, so a refused one is never stored.
        moves.check_document_type(document_type)
        check_upload(file_name, content_type, head_of(data, HEAD_BYTES))
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
            lambda key_id: self._payouts.pay(principal, payment_id, text, key_id),
        )

    async def reconcile(self, limit: int = 20) -> ReconcileReport:
        """Resolve payout attempts nobody holds any more by asking the provider again."""
        return await self._payouts.reconcile(limit)

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
        case, audience = await load_case(uow, payment_id, self._notifications)
        return case, await actor_of(uow.commission.user, principal), audience

    async def _idempotent(
        self,
        principal: Principal,
        operation: str,
        idempotency_key: str,
        arguments: Mapping[str, object],
        run: Callable[[int], Awaitable[e.Payment | Unfinished]],
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
