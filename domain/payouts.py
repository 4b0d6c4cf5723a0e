"""The payout port: how a commission leaves the company. Adapters (the EcartPay-style
HTTP provider, the local sandbox) live at the edge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain import entities as e
from domain.money import Money
from domain.outcomes import Actor
from domain.statuses import PayoutAttemptStatus


@dataclass(frozen=True, slots=True)
class PayoutRequest:
    payout_key: str  # the provider deduplicates on it: a retry never pays twice
    amount: Money
    destination: str  # the partner's payout account
    reference: str
    description: str


@dataclass(frozen=True, slots=True)
class PayoutReceipt:
    provider: str
    payout_id: str
    status: str


class PayoutProvider(Protocol):
    """Pays or raises PayoutDeclined, PayoutRefused (it made no payout), PayoutTimedOut
    or PayoutFailed (whether it paid is not known) from domain.errors."""

    name: str

    async def pay(self, request: PayoutRequest) -> PayoutReceipt: ...


def payout_key(payment: e.Payment, declined_payouts: int) -> str:
    """One key per payment until the provider declines it: every attempt to pay it, with
    any client idempotency key and after any review in between, reaches the provider with
    the same key, so a payout whose recording failed is never sent twice. Only a decline
    (the provider refused, so nothing was paid) moves on to a new key, because the
    provider would answer the old one with its decline forever."""
    return f"paygraph-{payment.tenant_id}-{payment.id}-{declined_payouts + 1}"


def payout_request(payment: e.Payment, destination: str, declined_payouts: int) -> PayoutRequest:
    """What the provider is asked to pay for a commission payment."""
    return PayoutRequest(
        payout_key=payout_key(payment, declined_payouts),
        amount=payment.requested,
        destination=destination,
        reference=payment.reference or str(payment.id),
        description=f"Commission {payment.period_start} to {payment.period_end}",
    )


@dataclass(frozen=True, slots=True)
class PayoutAttempt:
    """A payout sent (or about to be sent) to the provider, recorded before the call in
    its own committed transaction. PENDING until the provider's answer is recorded;
    `locked_until` is the lease of whoever is asking the provider now (None: nobody)."""

    id: int
    tenant_id: int
    payment_id: int
    request: PayoutRequest
    actor: Actor  # who asked: the payout is recorded in their name
    comments: str | None
    key_id: int | None  # the idempotency key of the request that started it
    status: PayoutAttemptStatus
    payout_id: str | None
    locked_until: datetime | None
    created_at: datetime
