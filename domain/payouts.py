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


def payout_key(payment: e.Payment, declined_payouts: int) -> str:
    """One key per payment until the provider declines it: every attempt to pay it, with
    any client idempotency key and after any review in between, reaches the provider with
    the same key, so a payout whose recording failed is never sent twice. Only a decline
    (the provider refused, so nothing was paid) moves on to a new key, because the
    provider would answer the old one with its decline forever."""
    return f"paygraph-{payment.tenant_id}-{payment.id}-{declined_payouts + 1}"
