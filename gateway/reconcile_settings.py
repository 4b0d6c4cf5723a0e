"""The payout reconcile job's settings (gateway.payout_reconcile): how long a payout
attempt is held before it is asked about again, how often the server looks, and how many
attempts it takes at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain.payout_timing import PayoutTiming
from gateway.environment import SettingsError, env_int, env_seconds

MAX_LEASE_SECONDS = 3600.0


@dataclass(frozen=True)
class ReconcileSettings:
    """`after`: the lease of whoever asks the provider (seconds); an attempt still
    unresolved that long after it was taken is asked again. `interval`: how often the
    server looks (0: never; `paygraph payouts reconcile` still does)."""

    payout_timeout: float = 10.0
    after: float = 20.0
    interval: float = 5.0
    batch: int = 20

    def __post_init__(self) -> None:
        if not self.payout_timeout < self.after <= MAX_LEASE_SECONDS:
            raise SettingsError(
                "PAYGRAPH_PAYOUT_RECONCILE_AFTER must be more than PAYGRAPH_PAYOUT_TIMEOUT "
                f"({self.payout_timeout:g} s) and at most {MAX_LEASE_SECONDS:g} seconds"
            )
        if not 0 <= self.interval <= 86_400:
            raise SettingsError("PAYGRAPH_PAYOUT_RECONCILE_INTERVAL must be 0 to 86400 seconds")
        if not 1 <= self.batch <= 500:
            raise SettingsError("PAYGRAPH_PAYOUT_RECONCILE_BATCH must be 1 to 500")

    @property
    def timing(self) -> PayoutTiming:
        return PayoutTiming(
            call_timeout=timedelta(seconds=self.payout_timeout),
            lease=timedelta(seconds=self.after),
        )

    @classmethod
    def from_env(cls, payout_timeout: float) -> ReconcileSettings:
        return cls(
            payout_timeout=payout_timeout,
            after=env_seconds("PAYGRAPH_PAYOUT_RECONCILE_AFTER", 2 * payout_timeout),
            interval=env_seconds("PAYGRAPH_PAYOUT_RECONCILE_INTERVAL", 5.0),
            batch=env_int("PAYGRAPH_PAYOUT_RECONCILE_BATCH", 20),
        )
