"""The payout reconcile job: every interval, the server takes the payout attempts nobody
holds any more (a payer that timed out, gave up or died) and asks the provider again
about each (domain.commission_payouts). `paygraph payouts reconcile` runs it once.
Several instances may run it at once: each attempt is claimed by one of them."""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from domain.commission_payouts import PayoutTiming, ReconcileReport
from domain.commission_workflow import CommissionWorkflow
from gateway.background_job import running_every
from gateway.environment import SettingsError, env_int, env_seconds

logger = logging.getLogger("paygraph.payouts")
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


async def reconcile_due(workflow: CommissionWorkflow, batch: int) -> ReconcileReport:
    """Reconcile batches until one comes back short: every attempt due now was asked
    once (one still unanswered waits a lease before it is asked again)."""
    total = ReconcileReport()
    while True:
        report = await workflow.reconcile(batch)
        total += report
        if report.handled < batch:
            return total


async def _reconcile(workflow: CommissionWorkflow, batch: int) -> None:
    report = await reconcile_due(workflow, batch)
    if report.handled:
        logger.info(
            "payouts reconciled: %d paid, %d declined, %d failed, %d still pending",
            report.paid,
            report.declined,
            report.failed,
            report.pending,
        )


def reconcile_running(
    workflow: CommissionWorkflow, settings: ReconcileSettings
) -> AbstractAsyncContextManager[None]:
    return running_every(
        settings.interval,
        partial(_reconcile, workflow, settings.batch),
        name="paygraph-payout-reconcile",
        label="the payout reconcile",
        logger=logger,
    )
