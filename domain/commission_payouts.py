"""Paying a commission without holding a pool connection or a row lock while the payout
provider answers:

1. One short transaction moves the payment to PAYOUT_IN_PROGRESS through the state
   machine and records a PENDING payout attempt, held by this request for a lease.
2. With no transaction open, the provider is asked under the payment's payout key.
3. Another short transaction records its answer (paid, declined, or refused: nothing
   paid) in the name of whoever asked, and completes the idempotency keys that asked.

When the answer is not known (a timeout, a provider error, a crash, a failed write) the
attempt stays PENDING and `markPartnerPaymentAsPaid` is refused. Paying again, with any
idempotency key, or the reconcile job takes the attempt and asks the provider again
under the same payout key, which the provider deduplicates: never a second payout."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from domain import commission_moves as moves
from domain import entities as e
from domain.commission import Action, CommissionCase, require
from domain.commission_cases import NotificationSettings, load_case, tenant_scope, write_scope
from domain.errors import (
    DomainError,
    InvalidState,
    NotRecorded,
    PayoutDeclined,
    PayoutFailed,
    PayoutRefused,
    PayoutTimedOut,
)
from domain.idempotent import Unfinished, key_response
from domain.notifications import Audience
from domain.outcomes import SYSTEM_ACTOR, Actor, Outcome, actor_of
from domain.payout_timing import PayoutTiming
from domain.payouts import PayoutAttempt, PayoutProvider, PayoutReceipt, payout_request
from domain.principal import Principal
from domain.statuses import PaymentStatus, PayoutAttemptStatus
from domain.writes import PendingPayouts, UnitOfWorkFactory

logger = logging.getLogger("paygraph.payouts")

A = PayoutAttemptStatus
Answer = PayoutReceipt | PayoutFailed | PayoutDeclined
POLL_SECONDS = 0.05  # how often a payer waiting for another's attempt looks again (doubling)
MAX_POLL_SECONDS = 0.5
STILL_IN_PROGRESS = (
    " The payout stays in progress: retry payPartnerPayment with the same idempotency "
    "key to ask the provider again (it does not pay the same payout key twice), or leave "
    "it to the payout reconcile."
)


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """What one reconcile run did with the attempts it took."""

    paid: int = 0
    declined: int = 0
    failed: int = 0
    pending: int = 0  # the provider's answer is still unknown: asked again after a lease

    @property
    def handled(self) -> int:
        return self.paid + self.declined + self.failed + self.pending

    def __add__(self, other: ReconcileReport) -> ReconcileReport:
        return ReconcileReport(
            self.paid + other.paid,
            self.declined + other.declined,
            self.failed + other.failed,
            self.pending + other.pending,
        )


@dataclass(frozen=True, slots=True)
class _Held:
    until: datetime  # someone else is asking the provider; look again then at the latest


class CommissionPayouts:
    def __init__(
        self,
        units: UnitOfWorkFactory,
        provider: PayoutProvider,
        *,
        clock: Callable[[], datetime],
        notifications: NotificationSettings,
        timing: PayoutTiming,
        pending: PendingPayouts | None = None,
    ) -> None:
        self._units = units
        self._provider = provider
        self._clock = clock
        self._notifications = notifications
        self._timing = timing
        self._pending = pending

    async def pay(
        self, principal: Principal, payment_id: int, comments: str | None, key_id: int
    ) -> e.Payment | Unfinished:
        """Start a payout, or resume the payment's open attempt, and record the answer."""
        attempt = await self._take(principal, payment_id, comments, key_id)
        answer = await self._ask(attempt)
        try:
            status, payment = await self._record(attempt, answer, key_id, next_try=None)
        except DomainError:
            raise
        except Exception as error:
            logger.exception(
                "the answer to payout %s (payment %s) was not recorded",
                attempt.request.payout_key,
                attempt.payment_id,
            )
            await self._release_quietly(attempt)
            not_recorded = NotRecorded(
                "The payout provider's answer could not be recorded." + STILL_IN_PROGRESS
            )
            not_recorded.__cause__ = error
            return self._unfinished(attempt, key_id, not_recorded)
        if status is A.PAID:
            return payment
        assert isinstance(answer, DomainError)
        if status is A.PENDING:
            unknown = type(answer)(answer.message + STILL_IN_PROGRESS)
            unknown.__cause__ = answer
            return self._unfinished(attempt, key_id, unknown)
        if status is A.FAILED:
            raise PayoutRefused(
                f"{answer.message} Nothing was paid: the payment is approved for payment again."
            ) from answer
        raise answer  # declined: the payment is PAYMENT_REJECTED

    @staticmethod
    def _unfinished(attempt: PayoutAttempt, key_id: int, error: DomainError) -> Unfinished:
        """The key that started the attempt stays in flight (unlocked), so once the
        attempt is resolved it replays the outcome; a key that only resumed it is
        released: retried, it resumes the attempt again."""
        if attempt.key_id == key_id:
            return Unfinished(error)
        raise error

    async def reconcile(self, limit: int = 20) -> ReconcileReport:
        """Take the attempts nobody holds (their payer gave up or died), ask the provider
        again about each, concurrently, and record its answers."""
        if self._pending is None:
            raise RuntimeError("reconciling needs the pending payouts port")
        now = self._clock()
        attempts = await self._pending.claim_due(now, now + self._timing.lease, limit)
        reports = await asyncio.gather(*(self._reconcile_one(a) for a in attempts))
        return sum(reports, ReconcileReport())

    async def _reconcile_one(self, attempt: PayoutAttempt) -> ReconcileReport:
        answer = await self._ask(attempt)
        try:
            status, _ = await self._record(
                attempt, answer, None, next_try=self._clock() + self._timing.lease
            )
        except Exception:
            logger.exception("reconciling payout %s failed", attempt.request.payout_key)
            status = A.PENDING  # its lease runs out and it is taken again
        if status is not A.PENDING:
            logger.info("payout %s reconciled: %s", attempt.request.payout_key, status.value)
        return ReconcileReport(
            paid=status is A.PAID,
            declined=status is A.DECLINED,
            failed=status is A.FAILED,
            pending=status is A.PENDING,
        )

    # --- 1. the attempt ------------------------------------------------------------------

    async def _take(
        self, principal: Principal, payment_id: int, comments: str | None, key_id: int
    ) -> PayoutAttempt:
        """The attempt this request asks the provider about: a new one, or the payment's
        open one once nobody else holds it (waiting, with no connection held, while
        another request asks the provider)."""
        waits = 0
        while True:
            found = await self._open(principal, payment_id, comments, key_id)
            if isinstance(found, PayoutAttempt):
                return found
            left = (found.until - self._clock()).total_seconds()
            delay = min(POLL_SECONDS * 2**waits, MAX_POLL_SECONDS)
            await asyncio.sleep(max(min(delay, left), POLL_SECONDS))
            waits = min(waits + 1, 8)

    async def _open(
        self, principal: Principal, payment_id: int, comments: str | None, key_id: int
    ) -> PayoutAttempt | _Held:
        now = self._clock()
        until = now + self._timing.lease
        async with self._units(write_scope(principal)) as uow:
            case, _ = await load_case(uow, payment_id, self._notifications)
            require(case, Action.PAY, principal, now.date())
            records = uow.commission
            if case.payment.status is PaymentStatus.PAYOUT_IN_PROGRESS:
                attempt = await records.open_attempt(payment_id)
                if attempt is None:
                    raise _no_attempt(case)
                if attempt.locked_until is not None and attempt.locked_until > now:
                    return _Held(attempt.locked_until)
                if not await records.hold_attempt(attempt, until):
                    return _Held(now)  # taken a moment ago: look again
                await uow.commit()
                return replace(attempt, locked_until=until)
            assert case.payout_account is not None  # a guard of PAY
            actor = await actor_of(records.user, principal)
            payment = await records.apply(case.payment, moves.pay(case, comments), actor, now)
            request = payout_request(payment, case.payout_account, case.declined_payouts)
            attempt = await records.add_attempt(
                payment, request, actor, comments, key_id, locked_until=until, now=now
            )
            await uow.commit()
        return attempt

    # --- 2. the provider -----------------------------------------------------------------

    async def _ask(self, attempt: PayoutAttempt) -> Answer:
        try:
            async with asyncio.timeout(self._timing.cutoff):
                return await self._provider.pay(attempt.request)
        except TimeoutError:
            return PayoutTimedOut(
                f"The payout provider did not answer within {self._timing.cutoff:g} s."
            )
        except (PayoutDeclined, PayoutFailed) as answer:
            return answer
        except Exception as error:
            logger.exception("payout %s: the provider call failed", attempt.request.payout_key)
            return PayoutFailed(f"The payout provider call failed ({type(error).__name__}).")

    # --- 3. the answer -------------------------------------------------------------------

    async def _record(
        self,
        attempt: PayoutAttempt,
        answer: Answer,
        key_id: int | None,
        *,
        next_try: datetime | None,
    ) -> tuple[PayoutAttemptStatus, e.Payment]:
        """Write the answer in one transaction; an unknown one only ends this request's
        hold, until `next_try` (None: anyone may take the attempt at once)."""
        now = self._clock()
        async with self._units(tenant_scope(attempt.tenant_id)) as uow:
            case, audience = await load_case(uow, attempt.payment_id, self._notifications)
            records = uow.commission
            status = _status(answer)
            if status is A.PENDING:
                await records.release_attempt(attempt.id, next_try)
                await uow.commit()
                return A.PENDING, case.payment
            if case.payment.status is not PaymentStatus.PAYOUT_IN_PROGRESS or not (
                await records.resolve_attempt(attempt.id, status, _payout_id(answer), now)
            ):
                # Another payer or the reconcile job recorded the answer first (the same
                # one: the provider answers one payout key alike).
                if case.payment.status is not PaymentStatus.PAID:
                    raise InvalidState(
                        f"Payment {case.payment.id} changed while this request ran; it is "
                        f"now {case.payment.status.value}.",
                        status=case.payment.status.value,
                        reason="CONCURRENT_CHANGE",
                    )
                if key_id is not None:
                    await uow.complete_key(key_id, key_response(case.payment))
                await uow.commit()
                return A.PAID, case.payment
            outcome, actor = _move(case, attempt, answer, audience, now)
            payment = await records.apply(case.payment, outcome, actor, now)
            if status is A.PAID:
                for asked in {attempt.key_id, key_id} - {None}:
                    assert asked is not None
                    await uow.complete_key(asked, key_response(payment))
            elif attempt.key_id is not None and attempt.key_id != key_id:
                # The request that started it may run again: it will be refused or pay anew.
                await uow.forget_key(attempt.key_id)
            await uow.commit()
        return status, payment

    async def _release_quietly(self, attempt: PayoutAttempt) -> None:
        try:
            async with self._units(tenant_scope(attempt.tenant_id)) as uow:
                await uow.commission.release_attempt(attempt.id, None)
                await uow.commit()
        except Exception:
            logger.exception("could not release payout attempt %s", attempt.id)


def _status(answer: Answer) -> PayoutAttemptStatus:
    """What the answer says about the payout; PENDING when it does not say whether the
    provider paid."""
    if isinstance(answer, PayoutReceipt):
        return A.PAID
    if isinstance(answer, PayoutDeclined):
        return A.DECLINED
    if isinstance(answer, PayoutRefused):
        return A.FAILED
    return A.PENDING


def _move(
    case: CommissionCase,
    attempt: PayoutAttempt,
    answer: Answer,
    audience: Audience,
    now: datetime,
) -> tuple[Outcome, Actor]:
    """The payment's move for a known answer, and who it is recorded for: a payout in the
    name of whoever asked for it, a decline or a refusal in PayGraph's."""
    if isinstance(answer, PayoutReceipt):
        return moves.payout_paid(case, attempt.comments, answer, now, audience), attempt.actor
    if isinstance(answer, PayoutDeclined):
        return moves.payout_declined(case, answer.message, audience), SYSTEM_ACTOR
    return moves.payout_failed(case, answer.message), SYSTEM_ACTOR


def _payout_id(answer: Answer) -> str | None:
    return answer.payout_id if isinstance(answer, PayoutReceipt) else None


def _no_attempt(case: CommissionCase) -> InvalidState:
    # The status and its attempt are written in one transaction; this is a broken row.
    logger.error("payment %s is in progress without a payout attempt", case.payment.id)
    return InvalidState(
        f"Payment {case.payment.id} is in progress but has no payout attempt.",
        status=case.payment.status.value,
        reason="PAYOUT_IN_PROGRESS",
    )
