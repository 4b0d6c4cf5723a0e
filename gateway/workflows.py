"""The write side's use cases over the write engine, built once per app (and by the
CLI commands that change payments: `paygraph expire`, `paygraph payouts reconcile`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from db.idempotency_keys import SqlIdempotencyKeys
from db.models.types import utcnow
from db.payment_changes import ChangeAnnouncer, NotifyInTransaction
from db.payout_attempts import SqlPendingPayouts
from db.unit_of_work import SqlDuePayments, SqlUnitOfWork
from domain.commission_workflow import CommissionWorkflow, NotificationSettings
from domain.invoice_workflow import InvoicePayments
from domain.reseller_payments import ResellerPayments
from gateway.reconcile_settings import ReconcileSettings
from gateway.settings import Settings
from gateway.storage import LocalDiskStorage


@dataclass(frozen=True, slots=True)
class Workflows:
    """The write side's use cases, built once per app."""

    commission: CommissionWorkflow
    resellers: ResellerPayments
    invoices: InvoicePayments


def build_workflows(
    settings: Settings,
    writes: AsyncEngine,
    payouts: Any,
    storage: LocalDiskStorage,
    reconcile: ReconcileSettings,
    announcer: ChangeAnnouncer | None = None,
) -> Workflows:
    """`announcer` tells live subscriptions of every payment a unit of work changed."""
    units = partial(SqlUnitOfWork, writes, announcer=announcer)
    keys = SqlIdempotencyKeys(writes)
    retention = timedelta(hours=settings.idempotency_retention_hours)
    return Workflows(
        commission=CommissionWorkflow(
            units,
            keys,
            payouts,
            storage,
            clock=utcnow,
            notifications=NotificationSettings(
                slack_channel=settings.slack_channel,
                rejection_mentions=settings.slack_rejection_mentions,
            ),
            key_retention=retention,
            payout_timing=reconcile.timing,
            pending_payouts=SqlPendingPayouts(writes),
        ),
        resellers=reseller_payments(writes, retention, announcer),
        invoices=InvoicePayments(units, keys, clock=utcnow, key_retention=retention),
    )


def reseller_payments(
    writes: AsyncEngine, retention: timedelta, announcer: ChangeAnnouncer | None = None
) -> ResellerPayments:
    """The reseller completion API's use cases over the write engine (the server's, and `paygraph
    expire`'s)."""
    return ResellerPayments(
        partial(SqlUnitOfWork, writes, announcer=announcer),
        SqlIdempotencyKeys(writes),
        SqlDuePayments(writes),
        clock=utcnow,
        key_retention=retention,
    )


def database_announcer(writes: AsyncEngine) -> ChangeAnnouncer | None:
    """How a command outside the server (`paygraph expire`, `paygraph payouts
    reconcile`) tells live subscriptions of its changes: on PostgreSQL by NOTIFY, which
    every server's listener hears. Servers on Redis or in-process brokers do not hear a
    command's changes."""
    return NotifyInTransaction() if writes.dialect.name == "postgresql" else None
