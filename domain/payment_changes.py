"""A payment changed: the event every write announces, in the same transaction as the
change, so that live subscriptions can follow it. It names the payment only: what a
subscriber receives is read again through its own scope, never taken from the event."""

from __future__ import annotations

from collections.abc import AsyncIterator, Hashable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class PaymentChange:
    tenant_id: int
    payment_id: int
    action: str  # the audit event's action, e.g. `approve_document`

    def encode(self) -> str:
        """The text a broker carries (PostgreSQL NOTIFY payloads are text, under 8,000
        bytes; this is a few dozen)."""
        return f"{self.tenant_id}:{self.payment_id}:{self.action}"

    @classmethod
    def decode(cls, text: str) -> PaymentChange | None:
        """The change `encode` wrote, or None for anything else on the channel."""
        tenant, _, rest = text.partition(":")
        payment, _, action = rest.partition(":")
        if not (tenant.isdigit() and payment.isdigit() and action):
            return None
        return cls(int(tenant), int(payment), action)


@dataclass(frozen=True, eq=False, slots=True)
class HeardChange:
    """A change as one process heard it, handed alike to each of its subscriptions of the
    tenant. Subscriptions that would read the same for it (the same scope and filter)
    read it once: the first keeps its read in `shared`, by what it read, for the rest."""

    change: PaymentChange
    shared: dict[Hashable, Any] = field(default_factory=dict)


class PaymentFeed(Protocol):
    """One connection's way to follow the changes of a tenant's payments: each
    subscription follows them through a bounded queue of its own."""

    def follow(self, tenant_id: int) -> AbstractAsyncContextManager[AsyncIterator[HeardChange]]:
        """The changes committed from now on, while the context is open."""
        ...
