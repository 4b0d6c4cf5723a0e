"""How long a payout call may take and how long its attempt is held, apart from the
payout machinery (domain.commission_payouts) so that `paygraph` can check the reconcile
settings without loading it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class PayoutTiming:
    """`call_timeout`: how long the provider may take (its adapter's own timeout).
    `lease`: how long whoever asks the provider holds the attempt; after that another
    payer or the reconcile job may take it (a process that died mid-call)."""

    call_timeout: timedelta = timedelta(seconds=10)
    lease: timedelta = timedelta(seconds=20)

    def __post_init__(self) -> None:
        if self.lease <= self.call_timeout:
            raise ValueError("the payout lease must be longer than the provider's timeout")

    @property
    def cutoff(self) -> float:
        """Seconds after which a call is abandoned whatever the adapter does: halfway
        between the timeout and the lease, so the answer is written before the lease
        ends and nobody else asks meanwhile."""
        return (self.call_timeout + self.lease).total_seconds() / 2
