"""Protocols of the write side: a unit of work (one database transaction) with the
records a commission transition reads and writes, and the idempotency keys that live
outside it. The database adapter implements them; unit tests use in-memory fakes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from types import TracebackType
from typing import Protocol

from domain import entities as e
from domain.access import ReadScope
from domain.idempotency import KeyClaim, KeyRequest
from domain.outcomes import Actor, Outcome
from domain.payouts import PayoutAttempt, PayoutRequest
from domain.statuses import PayoutAttemptStatus


class CommissionRecords(Protocol):
    async def payment_for_update(self, payment_id: int) -> e.Payment | None:
        """The payment if the scope may write it, locked until the transaction ends."""
        ...

    async def documents(self, payment_id: int) -> list[e.PaymentDocument]: ...

    async def partner(self, partner_id: int) -> e.Partner | None: ...

    async def declined_payouts(self, payment_id: int) -> int:
        """How many payouts of this payment the provider declined."""
        ...

    async def user(self, user_id: int) -> e.User | None: ...

    async def apply(
        self, payment: e.Payment, outcome: Outcome, actor: Actor, now: datetime
    ) -> e.Payment:
        """Write the outcome: claim the payment with a conditional update on the status
        and version it was read with (raising InvalidState if another transition got
        there first), then the documents, the audit event, the ledger lines and the
        outbox rows. Returns the payment as it now is."""
        ...

    async def open_attempt(self, payment_id: int) -> PayoutAttempt | None:
        """The payment's PENDING payout attempt, if it has one."""
        ...

    async def add_attempt(
        self,
        payment: e.Payment,
        request: PayoutRequest,
        actor: Actor,
        comments: str | None,
        key_id: int | None,
        *,
        locked_until: datetime,
        now: datetime,
    ) -> PayoutAttempt:
        """Record a PENDING attempt, held by its caller until `locked_until`. There is one
        attempt per payout key: one the provider refused (FAILED) is reopened."""
        ...

    async def hold_attempt(self, attempt: PayoutAttempt, until: datetime) -> bool:
        """Take a PENDING attempt whose lease is still what `attempt` read; False when
        someone else took or resolved it first."""
        ...

    async def release_attempt(self, attempt_id: int, until: datetime | None) -> None:
        """Let anyone take a PENDING attempt from `until` on (None: at once)."""
        ...

    async def resolve_attempt(
        self, attempt_id: int, status: PayoutAttemptStatus, payout_id: str | None, now: datetime
    ) -> bool:
        """Record the provider's answer on a PENDING attempt; False if it was resolved
        already."""
        ...


class PaymentRecords(Protocol):
    """What the reseller completion and invoice payment writes read
    and write. Lookups are limited to the unit of work's scope; `*_for_update` rows stay
    locked until the transaction ends."""

    async def payment_for_update(self, payment_id: int) -> e.Payment | None: ...

    async def reseller_payment_for_update(
        self, reseller_id: int, document_number: str
    ) -> e.Payment | None:
        """The reseller's payment with this document number (the reseller completion API's
        document_id)."""
        ...

    async def invoice_for_update(self, invoice_id: int) -> e.Invoice | None: ...

    async def payment_method(self, method_id: int) -> e.PaymentMethod | None: ...

    async def address(self, address_id: int) -> e.Address | None: ...

    async def user(self, user_id: int) -> e.User | None: ...

    async def fx_rate(self, source: str, target: str, on: date) -> e.FxRate | None:
        """The latest rate effective on or before `on` between the two currencies,
        stored either way round."""
        ...

    async def base_currency(self) -> str:
        """The tenant's base currency, which a conversion without a direct rate
        crosses (domain.fx.find_route)."""
        ...

    async def create(
        self, values: Mapping[str, object], outcome: Outcome, actor: Actor, now: datetime
    ) -> e.Payment:
        """Insert the payment, then write the outcome's event and postings."""
        ...

    async def apply(
        self, payment: e.Payment, outcome: Outcome, actor: Actor, now: datetime
    ) -> e.Payment:
        """As CommissionRecords.apply."""
        ...

    async def live_total(self, invoice_id: int) -> int:
        """The sum of the invoice's payments that are not deleted, in its currency."""
        ...

    async def update_invoice(
        self, invoice: e.Invoice, changes: Mapping[str, object], now: datetime
    ) -> e.Invoice: ...


class UnitOfWork(Protocol):
    commission: CommissionRecords
    payments: PaymentRecords

    async def complete_key(self, key_id: int, response: str) -> None:
        """Mark an idempotency key completed, in this transaction."""
        ...

    async def forget_key(self, key_id: int) -> None:
        """Delete an idempotency key still in flight, in this transaction, so a retry with
        it runs again."""
        ...

    async def commit(self) -> None: ...

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """Roll back unless committed."""
        ...


UnitOfWorkFactory = Callable[[ReadScope], UnitOfWork]


class DuePayments(Protocol):
    async def due_expirations(self, now: datetime, limit: int) -> list[tuple[int, int]]:
        """`(tenant id, payment id)` of reseller payments still waiting for payment
        whose expiration date has passed, oldest first, across every tenant."""
        ...


class PendingPayouts(Protocol):
    async def claim_due(self, now: datetime, until: datetime, limit: int) -> list[PayoutAttempt]:
        """PENDING payout attempts nobody holds (no lease, or one that ran out), oldest
        first, across every tenant, each held until `until` by the caller. Several
        instances may claim at once: each attempt goes to one of them."""
        ...


class IdempotencyKeys(Protocol):
    """Claims and releases commit on their own, outside any unit of work, so a second
    request with the key sees the first one in flight."""

    async def claim(self, request: KeyRequest) -> KeyClaim:
        """A new claim, a stored response to replay, or IdempotencyKeyReused /
        IdempotencyKeyInUse."""
        ...

    async def release(self, claim: KeyClaim) -> None:
        """Forget an in-flight claim whose request failed, so a retry can run; a claim
        another request has since taken over (its lease ran out) is left alone."""
        ...

    async def unlock(self, claim: KeyClaim) -> None:
        """End an in-flight claim's lease but keep the key, so a retry with it takes over
        at once (its work is unfinished); a claim taken over since is left alone."""
        ...
