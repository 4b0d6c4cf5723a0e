"""The payout port: how a commission leaves the company. Adapters (the EcartPay-style
HTTP provider, the local sandbox) live at the edge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from domain import entities as e
from domain.money import Money


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
    """Pays or raises PayoutFailed, PayoutTimedOut or PayoutDeclined (domain.errors)."""

    name: str

    async def pay(self, request: PayoutRequest) -> PayoutReceipt: ...


def payout_key(payment: e.Payment) -> str:
    """One key per payment and approval: every retry of paying the same approval, with
    any client idempotency key, reaches the provider with the same key, so a payout
    whose recording failed is never sent twice. A new approval (after a rejection or an
    internal review) is a new payout decision and gets a new key."""
    approved = payment.approved_for_payment_at
    stamp = approved.strftime("%Y%m%dT%H%M%S%f") if approved else "unapproved"
    return f"paygraph-{payment.tenant_id}-{payment.id}-{stamp}"
