"""The demo loader on a fresh, migrated SQLite file: counts, lifecycles, ledger, invoice
totals, tenant isolation and determinism."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Row, Table, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Executable

from db.demo import is_empty, load_demo
from db.engine import create_engine
from db.migrate import upgrade
from db.models import Base
from domain.statuses import STATUSES_BY_KIND, PaymentStatus

PAYMENTS = 300
T = Base.metadata.tables
PAYMENT, INVOICE, LEDGER = T["payment"], T["invoice"], T["accounting_transaction"]


async def _migrated(path: Path) -> AsyncEngine:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    return engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await _migrated(tmp_path / "demo.db")
    yield engine
    await engine.dispose()


@pytest.fixture
async def loaded(engine: AsyncEngine) -> AsyncEngine:
    await load_demo(engine, payments=PAYMENTS)
    return engine


async def _rows(engine: AsyncEngine, query: Executable) -> list[Row[Any]]:
    async with engine.connect() as conn:
        return list((await conn.execute(query)).all())


async def test_loads_into_an_empty_database_and_counts_what_it_inserted(engine):
    assert await is_empty(engine)
    summary = await load_demo(engine, payments=PAYMENTS)
    assert not await is_empty(engine)

    assert summary.tenants == {"acme": 1, "globex": 2}
    assert summary.counts["payment"] == PAYMENTS
    for name, count in summary.counts.items():
        assert await _rows(engine, select(func.count()).select_from(T[name])) == [(count,)]
    per_tenant = dict(
        await _rows(engine, select(PAYMENT.c.tenant_id, func.count()).group_by(PAYMENT.c.tenant_id))
    )
    assert per_tenant == {1: 200, 2: 100}
    # Tables the demo leaves empty: written by requests (a payout attempt is transient,
    # and one left in the demo would be paid by the server's reconcile job at start-up).
    operational = {"currency", "outbox", "idempotency_key", "api_token", "payout_attempt"}
    assert {name for name in T if name not in operational} == set(summary.counts)
    assert all(summary.counts.values())

    users = T["user_account"]
    for slug, tenant_id in summary.tenants.items():
        admin = await _rows(engine, select(users).where(users.c.id == summary.admins[slug]))
        assert admin[0].tenant_id == tenant_id
        assert (admin[0].role, admin[0].email) == ("admin", f"admin@{slug}.example")
        roles = await _rows(
            engine, select(users.c.role).where(users.c.tenant_id == tenant_id).distinct()
        )
        assert {r for (r,) in roles} == {"admin", "partner", "manager"}


async def test_partners_form_a_three_level_tree_per_tenant(loaded):
    partner, parent, grand = T["partner"], T["partner"].alias("p"), T["partner"].alias("g")
    deep = (
        select(partner.c.tenant_id, func.count())
        .join(parent, partner.c.parent_id == parent.c.id)
        .join(grand, parent.c.parent_id == grand.c.id)
        .group_by(partner.c.tenant_id)
    )
    assert {tenant for tenant, _ in await _rows(loaded, deep)} == {1, 2}
    partners = await _rows(loaded, select(partner))
    assert all(p.external_ref.startswith("prt_") for p in partners)
    assert {p.kind for p in partners} == {"isv", "var", "payfac", "reseller"}
    assert any(p.payout_account for p in partners)
    methods = await _rows(loaded, select(T["payment_method"].c.name).distinct())
    assert {"Check", "Credit Card", "Bank Transfer", "Cash", "Wallet"} == {m for (m,) in methods}


async def test_refuses_a_database_that_has_tenants(loaded):
    with pytest.raises(RuntimeError, match="empty database"):
        await load_demo(loaded, payments=20)
    assert await _rows(loaded, select(func.count()).select_from(PAYMENT)) == [(PAYMENTS,)]


async def test_small_loads_keep_the_exact_payment_count(engine):
    summary = await load_demo(engine, payments=20)
    assert summary.counts["payment"] == 20
    assert await _rows(engine, select(func.count()).select_from(PAYMENT)) == [(20,)]


async def test_every_kind_is_present_with_statuses_of_its_lifecycle(loaded):
    pairs = await _rows(loaded, select(PAYMENT.c.kind, PAYMENT.c.status).distinct())
    by_kind = defaultdict(set)
    for kind, status in pairs:
        by_kind[kind].add(status)
    assert set(by_kind) == {kind.value for kind in STATUSES_BY_KIND}
    for kind, statuses in STATUSES_BY_KIND.items():
        assert by_kind[kind.value] <= {s.value for s in statuses}
    # Every commission status but the transient one: a demo payout in progress would be
    # asked about (and paid) by the server's reconcile job as soon as it starts.
    transient = {PaymentStatus.PAYOUT_IN_PROGRESS.value}
    commission = {s.value for s in STATUSES_BY_KIND["commission"]}
    assert by_kind["commission"] == commission - transient
    assert {"invalid", "underpaid", "completed"} <= by_kind["acquiring"]
    assert by_kind["reseller"] == {"waiting_for_payment", "expired", "completed", "cancelled"}
    currencies = await _rows(loaded, select(PAYMENT.c.currency).distinct())
    assert {c for (c,) in currencies} == {"USD", "EUR", "MXN", "JPY", "KWD"}


async def test_payment_rows_are_consistent_with_their_kind(loaded):
    payments = await _rows(loaded, select(PAYMENT))
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    for p in payments:
        assert start <= p.created_at < end and p.updated_at >= p.created_at
        assert isinstance(p.amount, int) and p.amount > 0
        if p.kind == "acquiring":
            assert p.merchant_id and p.terminal_id and p.tracking_id.startswith("trk_")
            assert p.reference.startswith("ORDER-")
            assert 0 <= p.settleable_amount <= p.paid_amount
        elif p.kind == "reseller":
            assert p.account_id and p.document_number.isdigit()
            # still waiting: open-ended, so the expiry job leaves the demo as generated
            assert (p.expiration_date is None) == (p.status == "waiting_for_payment")
            if p.status == "completed":
                assert p.manager_id and p.payment_method_id and p.closed_at
        elif p.kind == "commission":
            assert p.user_id and p.company_id and p.period_start <= p.period_end
        else:
            assert p.invoice_id and p.sender_id and p.receiver_id and p.payment_method_id
            assert p.authorized == (p.authorized_by_id is not None)
    numbers = [(p.tenant_id, p.document_number) for p in payments if p.kind == "reseller"]
    assert len(numbers) == len(set(numbers))

    details = T["payment_detail"]
    totals = (
        select(PAYMENT.c.amount, func.sum(details.c.amount), func.count())
        .join(details, details.c.payment_id == PAYMENT.c.id)
        .where(details.c.currency == PAYMENT.c.currency)
        .group_by(PAYMENT.c.id)
    )
    rows = await _rows(loaded, totals)
    commissions = [p for p in payments if p.kind == "commission"]
    assert len(rows) == len(commissions)
    assert all(amount == total and 1 <= n <= 4 for amount, total, n in rows)


async def test_ledger_postings_balance(loaded):
    lines = await _rows(loaded, select(LEDGER))
    postings = defaultdict(list)
    balance: dict[tuple[int, str], int] = defaultdict(int)
    for line in lines:
        assert line.amount > 0 and len(line.posting_id) == 36
        postings[line.posting_id].append(line)
        balance[line.tenant_id, line.currency] += line.amount * (
            1 if line.direction == "debit" else -1
        )
    assert set(balance.values()) == {0}
    for pair in postings.values():
        assert sorted(line.direction for line in pair) == ["credit", "debit"]
        assert len({(line.amount, line.currency, line.payment_id) for line in pair}) == 1

    booked = {line.payment_id for line in lines}
    expected = await _rows(
        loaded,
        select(PAYMENT.c.id).where(
            or_(
                PAYMENT.c.kind == "invoice",
                and_(
                    PAYMENT.c.kind == "commission", PAYMENT.c.status.in_(("paid", "manually_paid"))
                ),
            )
        ),
    )
    assert booked == {pid for (pid,) in expected}


async def test_invoice_paid_amount_is_the_sum_of_its_payments(loaded):
    paid = (
        select(
            INVOICE.c.paid_amount,
            INVOICE.c.total_amount,
            INVOICE.c.status,
            func.coalesce(func.sum(PAYMENT.c.amount), 0),
            func.count(PAYMENT.c.id),
            func.count(PAYMENT.c.id).filter(PAYMENT.c.currency != INVOICE.c.currency),
        )
        .outerjoin(PAYMENT, PAYMENT.c.invoice_id == INVOICE.c.id)
        .group_by(INVOICE.c.id)
    )
    rows = await _rows(loaded, paid)
    assert {status for *_, status, _, _, _ in rows} == {"open", "partially_paid", "paid"}
    for paid_amount, total, status, payments_sum, n, other_currency in rows:
        assert paid_amount == payments_sum and other_currency == 0
        expected = "open" if n == 0 else "paid" if paid_amount == total else "partially_paid"
        assert status == expected and paid_amount <= total


def _tenant_references() -> list[tuple[Table, str, Table]]:
    """Every foreign key between two tenant-scoped tables, from the models."""
    return [
        (table, fk.parent.name, fk.column.table)
        for table in Base.metadata.sorted_tables
        for fk in table.foreign_keys
        if "tenant_id" in table.c
        and "tenant_id" in fk.column.table.c
        and fk.parent.name != "tenant_id"
    ]


async def test_no_row_references_another_tenant(loaded):
    references = _tenant_references()
    names = {(child.name, column) for child, column, _ in references}
    assert {("payment", "partner_id"), ("payment", "invoice_id")} <= names
    assert {("payment_detail", "payment_id"), ("partner", "parent_id")} <= names
    for child, column, parent_table in references:
        parent = parent_table.alias("parent")
        crossing = (
            select(func.count())
            .select_from(child.join(parent, child.c[column] == parent.c.id))
            .where(child.c.tenant_id != parent.c.tenant_id)
        )
        assert await _rows(loaded, crossing) == [(0,)], (child.name, column)


async def test_same_seed_gives_identical_payments(tmp_path):
    results = []
    for name in ("one.db", "two.db"):
        engine = await _migrated(tmp_path / name)
        try:
            await load_demo(engine, payments=PAYMENTS, seed=11)
            results.append(await _rows(engine, select(PAYMENT).order_by(PAYMENT.c.id)))
        finally:
            await engine.dispose()
    assert len(results[0]) == PAYMENTS
    assert results[0] == results[1]
