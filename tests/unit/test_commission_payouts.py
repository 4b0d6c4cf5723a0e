"""Paying through a durable payout attempt, over in-memory fakes: no transaction is open
while the provider answers, a second payer waits for the first instead of paying again,
and an attempt whose payer gave up or died is resolved by the reconcile."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from domain.errors import InvalidState, PayoutTimedOut
from domain.statuses import IdempotencyStatus, PaymentStatus, PayoutAttemptStatus
from tests.unit.fakes import ADMIN_USER, admin
from tests.unit.test_commission_workflow import LEASE, PAYMENT_ID, approved_world

S = PaymentStatus


async def test_no_transaction_is_open_while_the_provider_answers() -> None:
    # given a payout whose provider holds its answer
    w = approved_world()
    entered, gate = w.payouts.hold()
    paying = asyncio.create_task(w.workflow.pay(admin(), PAYMENT_ID, "Nov", "pay-1"))
    await entered.wait()

    # then, while it holds, no unit of work is open, and the attempt is committed
    assert w.db.open_units == 0
    assert w.payment.status is S.PAYOUT_IN_PROGRESS
    (attempt,) = w.db.pending_attempts(PAYMENT_ID)
    assert attempt.locked_until == w.clock() + LEASE
    assert (attempt.actor.user_id, attempt.comments) == (ADMIN_USER.id, "Nov")

    gate.set()
    settled = await paying
    assert settled.payment.status is S.PAID
    assert w.db.open_units == 0


async def test_a_second_payer_waits_for_the_first_and_never_pays_again() -> None:
    # given a payout in flight under one key
    w = approved_world()
    entered, gate = w.payouts.hold()
    first = asyncio.create_task(w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1"))
    await entered.wait()

    # when another admin pays the same payment under another key meanwhile
    second = asyncio.create_task(w.workflow.pay(admin(user_id=31), PAYMENT_ID, None, "pay-2"))
    await asyncio.sleep(0.2)
    assert not second.done()  # it waits, holding nothing
    assert w.db.open_units == 0
    gate.set()

    # then the first pays, and the second is told the payment is paid
    assert (await first).payment.status is S.PAID
    with pytest.raises(InvalidState) as refused:
        await second
    assert refused.value.status == "paid"
    assert len(w.payouts.calls) == 1
    # and the second's key is released, the first's completed
    assert [row.key for row in w.db.keys.values()] == ["pay-1"]


async def test_the_reconcile_resolves_an_attempt_whose_payer_gave_up() -> None:
    # given a payout that timed out although the provider paid it
    w = approved_world()
    w.payouts.fail_next(PayoutTimedOut("No answer in 10 s."), after_paying=True)
    with pytest.raises(PayoutTimedOut):
        await w.workflow.pay(admin(), PAYMENT_ID, "Nov", "pay-1")

    # when the reconcile runs
    report = await w.workflow.reconcile()

    # then it asked the provider again, recorded the payout in the payer's name once
    assert (report.paid, report.handled) == (1, 1)
    assert w.payment.status is S.PAID
    assert len(w.payouts.calls) == 2
    assert len(w.payouts.paid) == 1
    paid_event = w.db.events_of(PAYMENT_ID)[-1]
    assert (paid_event.action, paid_event.actor_label, paid_event.comments) == (
        "payout_paid",
        ADMIN_USER.name,
        "Nov",
    )
    # and the payer's key now replays the paid payment
    (key,) = w.db.keys.values()
    assert key.stored.status is IdempotencyStatus.COMPLETED
    again = await w.workflow.pay(admin(), PAYMENT_ID, "Nov", "pay-1")
    assert again.replayed and again.payment.status is S.PAID
    # and a second run finds nothing to do
    assert (await w.workflow.reconcile()).handled == 0


async def test_the_reconcile_leaves_an_attempt_alone_until_its_lease_runs_out() -> None:
    # given a payer that died while the provider answered: its attempt is still held
    w = approved_world()
    entered, _ = w.payouts.hold()
    dying = asyncio.create_task(w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1"))
    await entered.wait()
    dying.cancel()
    with pytest.raises(asyncio.CancelledError):
        await dying
    w.payouts.gate = w.payouts.entered = None  # the provider answers from now on

    # when the reconcile runs within the lease, then after it
    early = await w.workflow.reconcile()
    w.clock.advance(LEASE)
    late = await w.workflow.reconcile()

    # then only the second run took it, and it paid once
    assert (early.handled, late.paid) == (0, 1)
    assert w.payment.status is S.PAID
    assert len(w.payouts.paid) == 1


async def test_an_unanswered_reconcile_waits_a_lease_before_asking_again() -> None:
    w = approved_world()
    w.payouts.fail_next(PayoutTimedOut("no answer"))
    with pytest.raises(PayoutTimedOut):
        await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")

    w.payouts.fail_next(PayoutTimedOut("still no answer"))
    first = await w.workflow.reconcile()
    soon = await w.workflow.reconcile()
    w.clock.advance(LEASE + timedelta(seconds=1))
    later = await w.workflow.reconcile()

    assert (first.pending, soon.handled, later.paid) == (1, 0, 1)
    (attempt,) = w.db.attempts.values()
    assert attempt.status is PayoutAttemptStatus.PAID
