"""The payout reconcile on a real database, with the real local payout provider: the
server's background job resolves an attempt its payer gave up on, and two reconcilers
running at once (two instances) each take an attempt once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from db.engine import write_engine
from db.payout_attempts import SqlPendingPayouts
from domain.commission_workflow import CommissionWorkflow
from domain.errors import PayoutFailed, PayoutTimedOut
from domain.permissions import PAY_PARTNERS_PAYMENTS
from domain.principal import Credential, Principal
from gateway.payout_reconcile import reconcile_due, reconcile_running
from gateway.payouts import payout_provider
from gateway.reconcile_settings import ReconcileSettings
from gateway.settings import PayoutSettings, Settings
from gateway.storage import LocalDiskStorage
from gateway.workflows import build_workflows
from tests.e2e.test_payout_safety import Payout, approved_payout
from tests.payout_receiver import PayoutReceiver, payout_receiver

TIMEOUT = 0.5
RECONCILING = ReconcileSettings(payout_timeout=TIMEOUT, after=1.0, interval=0.1, batch=4)


@pytest.fixture(scope="module")
def receiver(database_url: str) -> Iterator[PayoutReceiver]:
    """One provider per database: payout keys name ids each database numbers from 1."""
    with payout_receiver() as running:
        yield running


@pytest.fixture
async def workflow(
    engine: AsyncEngine, receiver: PayoutReceiver, tmp_path: Path
) -> AsyncIterator[CommissionWorkflow]:
    receiver.mode = "ok"
    settings = Settings(payouts=PayoutSettings(provider="http", url=receiver.url, timeout=TIMEOUT))
    writes = write_engine(engine)
    provider = payout_provider(settings.payouts)
    try:
        workflows = build_workflows(
            settings, writes, provider, LocalDiskStorage(tmp_path), RECONCILING
        )
        yield workflows.commission
    finally:
        await provider.close()
        if writes is not engine:
            await writes.dispose()


def staff(payout: Payout) -> Principal:
    return Principal(
        payout.tenant_id, payout.admin_id, Credential.JWT, frozenset({PAY_PARTNERS_PAYMENTS})
    )


async def status_of(engine: AsyncEngine, payment_id: int) -> Any:
    async with engine.connect() as connection:
        return (
            await connection.execute(
                select(m.Payment.__table__.c.status).where(m.Payment.id == payment_id)
            )
        ).scalar_one()


async def test_the_servers_reconcile_job_resolves_a_payout_its_payer_gave_up_on(
    engine: AsyncEngine, workflow: CommissionWorkflow, receiver: PayoutReceiver
) -> None:
    # Given a payout the provider made but answered too late for its payer
    payout = await approved_payout(engine)
    receiver.mode = "slow"
    receiver.slow_seconds = 1.5
    with pytest.raises(PayoutTimedOut):
        await workflow.pay(staff(payout), payout.payment_id, None, "gave-up")
    assert await status_of(engine, payout.payment_id) == "payout_in_progress"
    receiver.mode = "ok"

    # When the server's reconcile job runs
    async with reconcile_running(workflow, RECONCILING), asyncio.timeout(20):
        while await status_of(engine, payout.payment_id) != "paid":
            await asyncio.sleep(0.05)

    # Then it asked the provider again under the same payout key: one payout
    assert receiver.calls_for(payout.key_prefix) == 2
    assert receiver.payouts_for(payout.key_prefix) == 1


async def test_two_reconcilers_at_once_each_take_an_attempt_once(
    engine: AsyncEngine, workflow: CommissionWorkflow, receiver: PayoutReceiver
) -> None:
    # Given six payouts whose provider answered 500, so each waits for a reconcile
    payouts = [await approved_payout(engine) for _ in range(6)]
    receiver.mode = "error"
    for n, payout in enumerate(payouts):
        with pytest.raises(PayoutFailed):
            await workflow.pay(staff(payout), payout.payment_id, None, f"unknown-{n}")
    mine = {payout.payment_id for payout in payouts}

    # When two instances claim due attempts at the same moment
    writes = write_engine(engine)
    try:
        now = datetime.now(UTC)
        until = now + RECONCILING.timing.lease
        claims = await asyncio.gather(
            *(SqlPendingPayouts(writes).claim_due(now, until, limit=100) for _ in range(2))
        )
    finally:
        if writes is not engine:
            await writes.dispose()

    # Then every attempt went to exactly one of them
    first, second = ({a.payment_id for a in claim} & mine for claim in claims)
    assert first | second == mine
    assert first & second == set()

    # (and once their leases run out, the reconcile pays them: no test after this one
    # finds them pending)
    receiver.mode = "ok"
    await asyncio.sleep(RECONCILING.after)
    assert (await reconcile_due(workflow, RECONCILING.batch)).paid >= len(payouts)
    assert {await status_of(engine, payout.payment_id) for payout in payouts} == {"paid"}
