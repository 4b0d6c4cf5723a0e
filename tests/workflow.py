"""The write use cases over a real database, for schema-level tests: the same wiring as
the app (db units of work, idempotency keys, local disk storage), with a payout
provider and a clock the test chooses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from db.idempotency_keys import SqlIdempotencyKeys
from db.unit_of_work import SqlDuePayments, SqlUnitOfWork
from domain.commission_workflow import CommissionWorkflow, NotificationSettings
from domain.invoice_workflow import InvoicePayments
from domain.payouts import PayoutProvider
from domain.reseller_payments import ResellerPayments
from gateway.payouts import SandboxPayoutProvider
from gateway.storage import LocalDiskStorage


def workflow(
    writes: AsyncEngine,
    storage_root: Path,
    *,
    payouts: PayoutProvider | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    mentions: tuple[str, ...] = (),
) -> CommissionWorkflow:
    return CommissionWorkflow(
        lambda scope: SqlUnitOfWork(writes, scope),
        SqlIdempotencyKeys(writes),
        payouts or SandboxPayoutProvider(),
        LocalDiskStorage(storage_root),
        clock=clock,
        notifications=NotificationSettings(slack_channel="#payouts", rejection_mentions=mentions),
    )


def reseller_payments(
    writes: AsyncEngine, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> ResellerPayments:
    return ResellerPayments(
        lambda scope: SqlUnitOfWork(writes, scope),
        SqlIdempotencyKeys(writes),
        SqlDuePayments(writes),
        clock=clock,
    )


def invoice_payments(
    writes: AsyncEngine, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> InvoicePayments:
    return InvoicePayments(
        lambda scope: SqlUnitOfWork(writes, scope), SqlIdempotencyKeys(writes), clock=clock
    )
