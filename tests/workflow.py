"""The commission workflow over a real database, for schema-level tests: the same
wiring as the app (db units of work, idempotency keys, local disk storage), with a
payout provider and a clock the test chooses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import read_engine
from db.idempotency_keys import SqlIdempotencyKeys
from db.loaders import SqlReadLoaders
from db.unit_of_work import SqlUnitOfWork
from domain.access import ReadScope
from domain.commission_workflow import CommissionWorkflow, NotificationSettings
from domain.payouts import PayoutProvider
from domain.principal import Principal
from gateway.payouts import SandboxPayoutProvider
from gateway.storage import LocalDiskStorage
from resolvers.context import Context
from schema.app_schema import schema


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


async def run(
    engine: AsyncEngine,
    commission: CommissionWorkflow,
    document: str,
    principal: Principal,
    **variables: Any,
) -> Any:
    context = Context(
        principal=principal,
        loaders=SqlReadLoaders(read_engine(engine), ReadScope.of(principal)),  # type: ignore[arg-type]
        request_id="test-request",
        commission=commission,
    )
    return await schema.execute(document, variable_values=variables, context_value=context)
