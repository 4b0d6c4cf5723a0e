"""Paying a partner is where money leaves: these tests hit a real server (uvicorn in a
subprocess) with real concurrent HTTP requests, and a real local payout provider that
pays once per Idempotency-Key. They check that a payout happens once however many
requests race for it, and that a provider error, a timeout, a database failure after the
provider paid, or a crash of the server leaves a payout in progress (never a second one)
that a retry with the same key or `paygraph payouts reconcile` resolves."""

from __future__ import annotations

import asyncio
import re
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import case, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from domain.idempotency import request_hash
from domain.permissions import (
    MARK_PARTNER_PAYMENTS_PAID,
    PAY_PARTNERS_PAYMENTS,
    VIEW_PARTNER_PAYMENTS,
)
from gateway.auth import mint_token
from gateway.settings import Settings
from tests.e2e.server import ROOT, TEST_JWT_SECRET, TLS, RunningServer, running_server
from tests.factories import Factory
from tests.forkserver import run
from tests.payout_receiver import PayoutReceiver, payout_receiver

SETTINGS = Settings(jwt_secret=TEST_JWT_SECRET)
CONCURRENT = 50
PAY = """mutation($id: ID!, $key: String!) {
  payPartnerPayment(id: $id, idempotencyKey: $key) {
    replayed payment { status paidAt trackingId }
  }
}"""


@pytest.fixture(scope="module")
def receiver(database_url: str) -> Iterator[PayoutReceiver]:
    """One provider per database: payout keys name tenant and payment ids, which each
    database numbers from 1."""
    with payout_receiver() as running:
        yield running


@pytest.fixture(scope="module")
def server(database_url: str, receiver: PayoutReceiver) -> Iterator[RunningServer]:
    with running_server(database_url, env=provider_env(receiver)) as running:
        yield running


@pytest.fixture(scope="module")
def racing_server(database_url: str, receiver: PayoutReceiver) -> Iterator[RunningServer]:
    """For the races: a lease (twice the provider's timeout) that no payer outlives,
    however loaded the machine. A lease that runs out means its payer is taken for dead,
    and the next payer resumes its attempt; the fault tests below cover that."""
    with running_server(database_url, env=provider_env(receiver, timeout=15)) as running:
        yield running


def provider_env(receiver: PayoutReceiver, timeout: float = 0.5) -> dict[str, str]:
    return {
        "PAYGRAPH_PAYOUT_PROVIDER": "http",
        "PAYGRAPH_PAYOUT_URL": receiver.url,
        "PAYGRAPH_PAYOUT_TIMEOUT": str(timeout),
        "PAYGRAPH_PAYOUT_RECONCILE_AFTER": str(2 * timeout),
        # The tests run the reconcile themselves, so each sees the state it asserts.
        "PAYGRAPH_PAYOUT_RECONCILE_INTERVAL": "0",
    }


@pytest.fixture(autouse=True)
def provider_pays(receiver: PayoutReceiver) -> None:
    receiver.mode = "ok"


@dataclass
class Payout:
    tenant_id: int
    payment_id: int
    token: str
    admin_id: int

    @property
    def key_prefix(self) -> str:
        return f"paygraph-{self.tenant_id}-{self.payment_id}-"


async def approved_payout(engine: AsyncEngine) -> Payout:
    """A commission payment ready to pay: approved, documents approved, payout account on
    file, cutoff passed."""
    factory = Factory(engine)
    tenant = await factory.tenant()
    partner = await factory.partner(tenant, kind="isv", payout_account="po_0099887766")
    admin = await factory.user(tenant, role="admin")
    approved_at = datetime(2025, 11, 6, 9, 30, tzinfo=UTC)
    payment = await factory.payment(
        tenant,
        kind="commission",
        status="approved_for_payment",
        partner_id=partner,
        amount=250_000,
        currency="MXN",
        reference=f"COM-{uuid.uuid4().hex[:8]}",
        period_start=date(2025, 10, 1),
        period_end=date(2025, 10, 31),
        cutoff_date=date(2025, 11, 5),
        approved_for_payment_at=approved_at,
    )
    await factory.insert(
        m.PaymentDocument,
        tenant_id=tenant,
        payment_id=payment,
        document_type="invoice",
        status="approved",
        required=True,
        reviewed_by_id=admin,
        reviewed_at=approved_at,
        file_name="invoice.pdf",
        content_type="application/pdf",
        size_bytes=10,
        sha256="0" * 64,
        storage_key=f"{tenant}/00/{'0' * 64}",
    )
    token = mint_token(
        SETTINGS,
        tenant_id=tenant,
        user_id=admin,
        permissions=[PAY_PARTNERS_PAYMENTS, VIEW_PARTNER_PAYMENTS],
    )
    return Payout(tenant, payment, token, admin)


async def pay(
    client: httpx.AsyncClient, server: RunningServer, payout: Payout, key: str
) -> dict[str, Any]:
    response = await client.post(
        server.graphql_url,
        json={"query": PAY, "variables": {"id": str(payout.payment_id), "key": key}},
        headers={"Authorization": f"Bearer {payout.token}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


@dataclass
class Trail:
    status: str
    version: int
    events: int
    pay_events: int
    ledger_lines: int
    postings: int
    paid_messages: int
    outbox_rows: int
    attempts: int
    open_attempts: int


async def trail(engine: AsyncEngine, payment_id: int) -> Trail:
    async def scalar(statement: Any) -> Any:
        async with engine.connect() as connection:
            return (await connection.execute(statement)).scalar_one()

    payment = m.Payment.__table__
    event = m.PaymentEvent.__table__
    ledger = m.AccountingTransaction.__table__
    outbox = m.Outbox.__table__
    attempt = m.PayoutAttempt.__table__
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(payment.c.status, payment.c.version).where(payment.c.id == payment_id)
            )
        ).one()
    count = func.count()
    return Trail(
        status=row.status,
        version=row.version,
        events=await scalar(select(count).where(event.c.payment_id == payment_id)),
        pay_events=await scalar(
            select(count).where(event.c.payment_id == payment_id, event.c.action == "pay")
        ),
        ledger_lines=await scalar(select(count).where(ledger.c.payment_id == payment_id)),
        postings=await scalar(
            select(func.count(ledger.c.posting_id.distinct())).where(
                ledger.c.payment_id == payment_id
            )
        ),
        paid_messages=await scalar(
            select(count).where(
                outbox.c.payment_id == payment_id, outbox.c.topic == "commission.paid"
            )
        ),
        outbox_rows=await scalar(select(count).where(outbox.c.payment_id == payment_id)),
        attempts=await scalar(select(count).where(attempt.c.payment_id == payment_id)),
        open_attempts=await scalar(
            select(count).where(attempt.c.payment_id == payment_id, attempt.c.status == "pending")
        ),
    )


async def ledger_balances(engine: AsyncEngine, tenant_id: int) -> dict[str, int]:
    """Debits minus credits per currency over the tenant's whole ledger."""
    ledger = m.AccountingTransaction.__table__
    signed = func.sum(
        case((ledger.c.direction == "debit", ledger.c.amount), else_=-ledger.c.amount)
    )
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(ledger.c.currency, signed)
                .where(ledger.c.tenant_id == tenant_id)
                .group_by(ledger.c.currency)
            )
        ).all()
    return {currency: int(total) for currency, total in rows}


UNTOUCHED = {
    "status": "approved_for_payment",
    "version": 1,
    "events": 0,
    "pay_events": 0,
    "ledger_lines": 0,
    "postings": 0,
    "paid_messages": 0,
    "outbox_rows": 0,
    "attempts": 0,
    "open_attempts": 0,
}
# Sent to the provider (one event, one open attempt), its answer not recorded: nothing
# posted, nothing announced.
IN_PROGRESS = {
    **UNTOUCHED,
    "status": "payout_in_progress",
    "version": 2,
    "events": 1,
    "pay_events": 1,
    "attempts": 1,
    "open_attempts": 1,
}
# Two events (sent, then paid), one posting, one message, the attempt resolved.
PAID_ONCE = {
    "status": "paid",
    "version": 3,
    "events": 2,
    "pay_events": 1,
    "ledger_lines": 2,
    "postings": 1,
    "paid_messages": 1,
    "outbox_rows": 1,
    "attempts": 1,
    "open_attempts": 0,
}


# The race guarantee is PostgreSQL's (row locks); SQLite serializes every writer anyway.
ON_POSTGRESQL = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


# --- races ------------------------------------------------------------------------------


@ON_POSTGRESQL
async def test_fifty_concurrent_payouts_with_different_keys_pay_once(
    racing_server: RunningServer, engine: AsyncEngine, receiver: PayoutReceiver
) -> None:
    # Given a payment ready to pay
    payout = await approved_payout(engine)

    # When 50 requests with 50 different keys race to pay it
    limits = httpx.Limits(max_connections=CONCURRENT)
    async with httpx.AsyncClient(verify=TLS, timeout=60, limits=limits) as client:
        answers = await asyncio.gather(
            *(pay(client, racing_server, payout, f"race-{n}") for n in range(CONCURRENT))
        )

    # Then one pays and 49 are told the payment is no longer payable
    winners = [a for a in answers if code(a) is None]
    assert len(winners) == 1, [code(a) for a in answers]
    assert winners[0]["data"]["payPartnerPayment"]["payment"]["status"] == "PAID"
    losers = [a["errors"][0] for a in answers if code(a) is not None]
    assert {error["extensions"]["code"] for error in losers} == {"INVALID_STATE"}
    assert {error["extensions"]["status"] for error in losers} == {"paid"}
    # and the provider was called once, with one transition, posting and message
    assert receiver.calls_for(payout.key_prefix) == 1
    assert vars(await trail(engine, payout.payment_id)) == PAID_ONCE


@ON_POSTGRESQL
async def test_fifty_concurrent_payouts_with_one_key_execute_once(
    racing_server: RunningServer, engine: AsyncEngine, receiver: PayoutReceiver
) -> None:
    payout = await approved_payout(engine)

    limits = httpx.Limits(max_connections=CONCURRENT)
    async with httpx.AsyncClient(verify=TLS, timeout=60, limits=limits) as client:
        answers = await asyncio.gather(
            *(pay(client, racing_server, payout, "one-key") for _ in range(CONCURRENT))
        )

    executed = [
        a for a in answers if code(a) is None and not a["data"]["payPartnerPayment"]["replayed"]
    ]
    replayed = [
        a for a in answers if code(a) is None and a["data"]["payPartnerPayment"]["replayed"]
    ]
    in_use = [a for a in answers if code(a) == "IDEMPOTENCY_KEY_IN_USE"]
    assert len(executed) == 1
    assert len(replayed) + len(in_use) == CONCURRENT - 1, [code(a) for a in answers]
    paid_at = executed[0]["data"]["payPartnerPayment"]["payment"]["paidAt"]
    assert {a["data"]["payPartnerPayment"]["payment"]["paidAt"] for a in replayed} <= {paid_at}
    assert receiver.calls_for(payout.key_prefix) == 1
    assert vars(await trail(engine, payout.payment_id)) == PAID_ONCE


# --- faults -----------------------------------------------------------------------------


async def test_a_provider_error_leaves_the_payout_in_progress_and_the_same_key_resolves_it(
    server: RunningServer, engine: AsyncEngine, receiver: PayoutReceiver
) -> None:
    # Given a provider answering 500, which does not say whether it paid
    payout = await approved_payout(engine)
    receiver.mode = "error"
    async with httpx.AsyncClient(verify=TLS, timeout=30) as client:
        failed = await pay(client, server, payout, "retry-after-error")
        assert code(failed) == "PAYOUT_FAILED"
        assert "same idempotency key" in failed["errors"][0]["message"]
        assert failed["data"] is None or failed["data"]["payPartnerPayment"] is None
        assert vars(await trail(engine, payout.payment_id)) == IN_PROGRESS

        receiver.mode = "ok"
        retried = await pay(client, server, payout, "retry-after-error")
    assert code(retried) is None, retried
    assert retried["data"]["payPartnerPayment"]["replayed"] is False
    assert receiver.payouts_for(payout.key_prefix) == 1
    assert vars(await trail(engine, payout.payment_id)) == PAID_ONCE


async def test_a_payout_the_provider_refuses_is_approved_for_payment_again(
    server: RunningServer, engine: AsyncEngine, receiver: PayoutReceiver
) -> None:
    # Given a provider that refuses the payout with a 400: it made no payout
    payout = await approved_payout(engine)
    receiver.mode = "refuse"
    async with httpx.AsyncClient(verify=TLS, timeout=30) as client:
        refused = await pay(client, server, payout, "retry-after-refusal")
        # Then the payment is approved for payment again, nothing posted
        assert code(refused) == "PAYOUT_FAILED"
        assert "approved for payment again" in refused["errors"][0]["message"]
        assert vars(await trail(engine, payout.payment_id)) == {
            **UNTOUCHED,
            "version": 3,
            "events": 2,
            "pay_events": 1,
            "attempts": 1,
        }

        # When it is paid again with the same key, the same payout key goes out
        receiver.mode = "ok"
        retried = await pay(client, server, payout, "retry-after-refusal")
    assert code(retried) is None, retried
    assert {key for key, _ in receiver.calls if key.startswith(payout.key_prefix)} == {
        f"{payout.key_prefix}1"
    }
    assert receiver.payouts_for(payout.key_prefix) == 1
    after = vars(await trail(engine, payout.payment_id))
    assert after == {**PAID_ONCE, "version": 5, "events": 4, "pay_events": 2}


MARK_PAID = """mutation($id: ID!, $paidAt: DateTime!, $key: String!) {
  markPartnerPaymentAsPaid(id: $id, paidAt: $paidAt, idempotencyKey: $key) {
    payment { status }
  }
}"""


async def mark_paid(
    client: httpx.AsyncClient, server: RunningServer, payout: Payout, key: str
) -> dict[str, Any]:
    token = mint_token(
        SETTINGS,
        tenant_id=payout.tenant_id,
        user_id=payout.admin_id,
        permissions=[MARK_PARTNER_PAYMENTS_PAID, VIEW_PARTNER_PAYMENTS],
    )
    paid_at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    response = await client.post(
        server.graphql_url,
        json={
            "query": MARK_PAID,
            "variables": {"id": str(payout.payment_id), "paidAt": paid_at, "key": key},
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def reconcile(server: RunningServer) -> dict[str, int]:
    """`paygraph payouts reconcile` in its own process, with the server's settings: the
    counts it printed (of every tenant's payouts: other tests' may be among them)."""
    done = run(
        [sys.executable, "-m", "gateway.cli", "payouts", "reconcile"],
        cwd=ROOT,
        env=server.env,
        timeout=60,
    )
    assert done.returncode in (0, 1), done.stderr
    line = done.stdout.strip().splitlines()[-1]
    counts = re.fullmatch(
        r"reconciled (\d+) payout attempt\(s\): (\d+) paid, (\d+) declined, (\d+) failed, "
        r"(\d+) still pending",
        line,
    )
    assert counts is not None, line
    names = ("handled", "paid", "declined", "failed", "pending")
    return dict(zip(names, map(int, counts.groups()), strict=True))


@pytest.mark.parametrize("resolved_by", ["retry", "reconcile"])
async def test_a_provider_timeout_leaves_a_payout_in_progress_that_is_never_paid_twice(
    server: RunningServer, engine: AsyncEngine, receiver: PayoutReceiver, resolved_by: str
) -> None:
    # Given a provider that pays but answers after PayGraph stopped waiting (0.5 s)
    payout = await approved_payout(engine)
    receiver.mode = "slow"
    receiver.slow_seconds = 1.5
    async with httpx.AsyncClient(verify=TLS, timeout=30) as client:
        timed_out = await pay(client, server, payout, "retry-after-timeout")
        # Then the caller is told to retry with the key, and the payout is in progress
        assert code(timed_out) == "PAYOUT_TIMEOUT"
        assert "same idempotency key" in timed_out["errors"][0]["message"]
        assert vars(await trail(engine, payout.payment_id)) == IN_PROGRESS
        # and marking it as paid meanwhile is refused, changing nothing
        marked = await mark_paid(client, server, payout, "mark-while-in-progress")
        assert code(marked) == "INVALID_STATE"
        assert marked["errors"][0]["extensions"]["reason"] == "PAYOUT_IN_PROGRESS"
        assert vars(await trail(engine, payout.payment_id)) == IN_PROGRESS

        # When the caller retries with the same key, or the reconcile runs
        receiver.mode = "ok"
        if resolved_by == "retry":
            retried = await pay(client, server, payout, "retry-after-timeout")
            assert code(retried) is None, retried
            assert retried["data"]["payPartnerPayment"]["replayed"] is False
        else:
            assert reconcile(server)["paid"] >= 1
            # and the key's replay returns the paid payment
            replayed = await pay(client, server, payout, "retry-after-timeout")
            assert replayed["data"]["payPartnerPayment"]["replayed"] is True
            assert replayed["data"]["payPartnerPayment"]["payment"]["status"] == "PAID"
    # Then the provider, asked with the same payout key, answered its first payout
    assert receiver.calls_for(payout.key_prefix) == 2
    assert receiver.payouts_for(payout.key_prefix) == 1
    assert vars(await trail(engine, payout.payment_id)) == PAID_ONCE
    assert await ledger_balances(engine, payout.tenant_id) == {"MXN": 0}


def _failing_ledger(dialect: str, tenant_id: int) -> tuple[list[str], list[str]]:
    """DDL making every ledger insert of one tenant fail, and the DDL undoing it."""
    name = f"fail_ledger_{tenant_id}"
    if dialect == "sqlite":
        create = [
            f"CREATE TRIGGER {name} BEFORE INSERT ON accounting_transaction "
            f"WHEN NEW.tenant_id = {tenant_id} "
            "BEGIN SELECT RAISE(ABORT, 'injected ledger failure'); END"
        ]
        return create, [f"DROP TRIGGER {name}"]
    create = [
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'injected ledger failure'; END $$",
        f"CREATE TRIGGER {name} BEFORE INSERT ON accounting_transaction FOR EACH ROW "
        f"WHEN (NEW.tenant_id = {tenant_id}) EXECUTE FUNCTION {name}()",
    ]
    return create, [f"DROP TRIGGER {name} ON accounting_transaction", f"DROP FUNCTION {name}()"]


async def test_a_database_failure_after_the_payout_leaves_nothing_and_retries_safely(
    server: RunningServer, engine: AsyncEngine, receiver: PayoutReceiver
) -> None:
    # Given a database that fails when the payout's ledger lines are written
    payout = await approved_payout(engine)
    create, drop = _failing_ledger(engine.dialect.name, payout.tenant_id)
    async with engine.begin() as connection:
        for statement in create:
            await connection.execute(text(statement))
    try:
        async with httpx.AsyncClient(verify=TLS, timeout=30) as client:
            failed = await pay(client, server, payout, "retry-after-db-failure")
    finally:
        async with engine.begin() as connection:
            for statement in drop:
                await connection.execute(text(statement))

    # Then the provider paid, its answer was not recorded, and the error says so
    assert code(failed) == "TRANSACTION_FAILED", failed
    assert "could not be recorded" in failed["errors"][0]["message"]
    assert "same idempotency key" in failed["errors"][0]["message"]
    assert receiver.calls_for(payout.key_prefix) == 1
    assert vars(await trail(engine, payout.payment_id)) == IN_PROGRESS

    # When the same key is retried, the provider answers the payout it already made
    async with httpx.AsyncClient(verify=TLS, timeout=30) as client:
        retried = await pay(client, server, payout, "retry-after-db-failure")
    assert code(retried) is None, retried
    assert receiver.calls_for(payout.key_prefix) == 2
    assert receiver.payouts_for(payout.key_prefix) == 1
    assert vars(await trail(engine, payout.payment_id)) == PAID_ONCE


async def test_a_declined_payout_moves_the_payment_to_payment_rejected(
    server: RunningServer, engine: AsyncEngine, receiver: PayoutReceiver
) -> None:
    payout = await approved_payout(engine)
    receiver.mode = "decline"
    async with httpx.AsyncClient(verify=TLS, timeout=30) as client:
        declined = await pay(client, server, payout, "declined")
        again = await pay(client, server, payout, "declined")

    assert code(declined) == "PAYOUT_DECLINED"
    assert "destination account is closed" in declined["errors"][0]["message"]
    # the decline is the payment's new state, not a failure to retry blindly
    assert code(again) == "INVALID_STATE"
    assert again["errors"][0]["extensions"]["status"] == "payment_rejected"
    after = await trail(engine, payout.payment_id)
    assert (after.status, after.events, after.ledger_lines, after.outbox_rows) == (
        "payment_rejected",
        2,
        0,
        1,
    )
    assert (after.attempts, after.open_attempts) == (1, 0)


async def _stale_claim(engine: AsyncEngine, payout: Payout, key: str, lease: timedelta) -> None:
    """The key as a request that died in flight left it: same request, lease `lease`."""
    now = datetime.now(UTC)
    arguments = {"id": payout.payment_id, "comments": None}
    async with engine.begin() as connection:
        await connection.execute(
            m.IdempotencyKey.__table__.insert().values(
                tenant_id=payout.tenant_id,
                key=key,
                operation="payPartnerPayment",
                request_hash=request_hash("payPartnerPayment", payout.admin_id, arguments),
                status="in_flight",
                locked_until=now + lease,
                created_at=now,
                expires_at=now + timedelta(hours=24),
            )
        )


async def test_a_key_in_flight_is_in_use_until_its_lease_runs_out(
    server: RunningServer, engine: AsyncEngine, receiver: PayoutReceiver
) -> None:
    # Given the same request in flight (its lease running) under one key, and under
    # another key the same request whose process died (its lease run out)
    payout = await approved_payout(engine)
    await _stale_claim(engine, payout, "running", timedelta(minutes=1))
    await _stale_claim(engine, payout, "died", -timedelta(minutes=1))

    async with httpx.AsyncClient(verify=TLS, timeout=30) as client:
        running = await pay(client, server, payout, "running")
        taken_over = await pay(client, server, payout, "died")

    # Then the running one is in use, and the dead one is taken over and executes
    assert code(running) == "IDEMPOTENCY_KEY_IN_USE"
    assert code(taken_over) is None, taken_over
    assert taken_over["data"]["payPartnerPayment"]["replayed"] is False
    assert receiver.calls_for(payout.key_prefix) == 1
    assert vars(await trail(engine, payout.payment_id)) == PAID_ONCE


# --- nothing held while the provider answers ----------------------------------------------


async def wait_for_call(receiver: PayoutReceiver, key_prefix: str, calls: int = 1) -> None:
    async with asyncio.timeout(30):
        while receiver.calls_for(key_prefix) < calls:
            await asyncio.sleep(0.01)


READ = """query($id: ID!) {
  payment(id: $id) { status availableTransitions { action allowed reason } }
}"""


async def long_transactions(engine: AsyncEngine) -> list[Any]:
    """Other sessions of this database with a transaction open for over half a second,
    and the payment or payout_attempt locks such sessions hold."""
    async with engine.connect() as connection:
        sessions = (
            await connection.execute(
                text(
                    "SELECT pid, state, query FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND xact_start < now() - interval '500 milliseconds'"
                )
            )
        ).all()
        locks = (
            await connection.execute(
                text(
                    "SELECT l.pid, c.relname, l.mode FROM pg_locks l "
                    "JOIN pg_class c ON c.oid = l.relation "
                    "JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE c.relname IN ('payment', 'payout_attempt') "
                    "AND l.pid <> pg_backend_pid() "
                    "AND a.xact_start < now() - interval '500 milliseconds'"
                )
            )
        ).all()
    return [*sessions, *locks]


async def test_while_the_provider_holds_nothing_is_locked_or_held(
    server: RunningServer, engine: AsyncEngine, receiver: PayoutReceiver
) -> None:
    # Given a payout whose provider has received it and holds its answer
    payout, other = await approved_payout(engine), await approved_payout(engine)
    receiver.mode = "hold"
    receiver.release.clear()
    async with httpx.AsyncClient(verify=TLS, timeout=60) as client:
        paying = asyncio.create_task(pay(client, server, payout, "held"))
        try:
            await wait_for_call(receiver, payout.key_prefix)
            receiver.mode = "ok"  # the other payout below is answered at once

            # When the same payment is read, marked as paid, and another one is paid
            read = await client.post(
                server.graphql_url,
                json={"query": READ, "variables": {"id": str(payout.payment_id)}},
                headers={"Authorization": f"Bearer {payout.token}"},
            )
            marked = await mark_paid(client, server, payout, "mark-while-held")
            unrelated = await pay(client, server, other, "unrelated")
            held = [] if engine.dialect.name != "postgresql" else await long_transactions(engine)
            still_waiting = not paying.done()
        finally:
            receiver.release.set()
        answered = await paying

    # Then each is answered while the provider still holds the first payout: the read
    # sees it in progress, marking it as paid is refused at once (its row is not locked),
    # the other payout is paid, and no session keeps a transaction or a lock open
    assert still_waiting
    payment = read.json()["data"]["payment"]
    assert payment["status"] == "PAYOUT_IN_PROGRESS"
    allowed = {t["action"]: t["reason"] for t in payment["availableTransitions"]}
    assert allowed["PAY"] is None  # paying again resumes the open attempt
    assert allowed["REJECT_PAYMENT"] == "PAYOUT_IN_PROGRESS"
    assert marked["errors"][0]["extensions"]["reason"] == "PAYOUT_IN_PROGRESS"
    assert code(unrelated) is None, unrelated
    assert held == []
    # and the first payout is recorded once the provider answers
    assert code(answered) is None, answered
    assert vars(await trail(engine, payout.payment_id)) == PAID_ONCE
    assert vars(await trail(engine, other.payment_id)) == PAID_ONCE


# --- a crash between the attempt and the answer -------------------------------------------


async def test_a_server_killed_while_the_provider_answers_is_reconciled_to_one_payout(
    database_url: str, server: RunningServer, engine: AsyncEngine, receiver: PayoutReceiver
) -> None:
    # Given a server of its own whose payout provider has received a payout and holds
    # its answer
    payout = await approved_payout(engine)
    receiver.mode = "hold"
    receiver.release.clear()
    env = provider_env(receiver, timeout=3)
    with running_server(database_url, env=env) as doomed:
        async with httpx.AsyncClient(verify=TLS, timeout=60) as client:
            paying = asyncio.create_task(pay(client, doomed, payout, "crash-1"))
            await wait_for_call(receiver, payout.key_prefix)

            # When the server process is killed before the answer arrives
            doomed.process.kill()
            doomed.process.wait(timeout=10)
            with pytest.raises(httpx.HTTPError):
                await paying
    receiver.mode = "ok"
    receiver.release.set()

    # Then the payout is in progress, its attempt held until its lease runs out
    assert vars(await trail(engine, payout.payment_id)) == IN_PROGRESS
    attempt = m.PayoutAttempt.__table__
    async with engine.connect() as connection:
        held_until = (
            await connection.execute(
                select(attempt.c.locked_until).where(attempt.c.payment_id == payout.payment_id)
            )
        ).scalar_one()
    assert held_until is not None

    # When `paygraph payouts reconcile` runs once the lease has run out
    await asyncio.sleep(max((held_until - datetime.now(UTC)).total_seconds(), 0) + 0.2)
    counts = reconcile(doomed)

    # Then the provider was asked again under the same key and paid once, the payment is
    # paid with one audit trail and a balanced ledger
    assert counts["paid"] >= 1
    assert receiver.calls_for(payout.key_prefix) == 2
    assert receiver.payouts_for(payout.key_prefix) == 1
    assert vars(await trail(engine, payout.payment_id)) == PAID_ONCE
    assert await ledger_balances(engine, payout.tenant_id) == {"MXN": 0}
    # and the key of the request that died replays the paid payment (another server)
    async with httpx.AsyncClient(verify=TLS, timeout=30) as client:
        replayed = await pay(client, server, payout, "crash-1")
    assert replayed["data"]["payPartnerPayment"]["replayed"] is True
    assert replayed["data"]["payPartnerPayment"]["payment"]["status"] == "PAID"
    assert receiver.calls_for(payout.key_prefix) == 2
