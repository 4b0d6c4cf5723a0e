"""The payout reconcile job: every interval, the server takes the payout attempts nobody
holds any more (a payer that timed out, gave up or died) and asks the provider again
about each (domain.commission_payouts). `paygraph payouts reconcile` runs it once.
Several instances may run it at once: each attempt is claimed by one of them. Its
settings: gateway.reconcile_settings."""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from functools import partial

from domain.commission_payouts import ReconcileReport
from domain.commission_workflow import CommissionWorkflow
from gateway.background_job import running_every
from gateway.reconcile_settings import ReconcileSettings

logger = logging.getLogger("paygraph.payouts")


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
