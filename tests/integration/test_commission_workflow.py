"""The commission workflow on a real database (SQLite and PostgreSQL), at the schema
level: a whole payout's lifecycle and what each transition writes in its transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from db.engine import write_engine
from domain.permissions import ALL_PERMISSIONS
from domain.principal import Credential, Principal
from tests.factories import Factory
from tests.graphql import count_statements, execute
from tests.workflow import workflow

PDF = b"%PDF-1.4 commission invoice\n%%EOF\n"


@dataclass
class Payout:
    tenant_id: int
    partner_id: int
    admin: Principal
    partner_user: Principal
    payment_id: int


@pytest.fixture
async def writes(engine: AsyncEngine) -> Any:
    writer = write_engine(engine)
    yield writer
    if writer is not engine:
        await writer.dispose()


async def new_payout(factory: Factory, *, cutoff: date | None = None) -> Payout:
    tenant = await factory.tenant()
    partner = await factory.partner(tenant, kind="isv", payout_account="po_1234567890")
    admin_id = await factory.user(tenant, role="admin")
    user_id = await factory.user(tenant, role="partner", partner_id=partner, locale="es-MX")
    payment = await factory.payment(
        tenant,
        kind="commission",
        status="generated",
        partner_id=partner,
        user_id=user_id,
        amount=123_456,
        currency="MXN",
        reference="COM-202510-TEST",
        period_start=date(2025, 10, 1),
        period_end=date(2025, 10, 31),
        cutoff_date=cutoff or date(2025, 11, 5),
    )
    admin = Principal(tenant, admin_id, Credential.JWT, ALL_PERMISSIONS)
    partner_user = Principal(tenant, user_id, Credential.JWT, ALL_PERMISSIONS, partner_id=partner)
    return Payout(tenant, partner, admin, partner_user, payment)


async def count(engine: AsyncEngine, model: type[m.Base], **where: Any) -> int:
    table = model.__table__
    conditions = [table.c[k] == v for k, v in where.items()]  # type: ignore[attr-defined]
    async with engine.connect() as connection:
        return int(
            (
                await connection.execute(select(func.count()).select_from(table).where(*conditions))
            ).scalar_one()
        )


APPROVE = """mutation($p: ID!, $d: ID!) {
  approvePaymentDocument(paymentId: $p, documentId: $d) { payment { status approvedForPaymentAt } }
}"""
PAY = """mutation($id: ID!, $key: String!) {
  payPartnerPayment(id: $id, idempotencyKey: $key) { replayed payment { status paidAt } }
}"""
REQUEST = "mutation($id: ID!) { requestPartnerPayment(id: $id) { payment { status } } }"


async def test_a_payout_from_generated_to_paid(
    engine: AsyncEngine, writes: AsyncEngine, tmp_path: Path
) -> None:
    payout = await new_payout(Factory(engine))
    commission = workflow(writes, tmp_path)
    for kind in ("invoice", "tax_certificate"):
        await commission.add_document(
            payout.partner_user,
            payout.payment_id,
            kind,
            PDF,
            file_name=f"{kind}.pdf",
            content_type="application/pdf",
        )
    requested = await execute(
        engine, REQUEST, payout.partner_user, commission=commission, id=str(payout.payment_id)
    )
    assert requested.errors is None, requested.errors
    assert requested.data["requestPartnerPayment"]["payment"]["status"] == "PAYMENT_REQUESTED"

    async with engine.connect() as connection:
        documents = (
            (
                await connection.execute(
                    select(m.PaymentDocument.id).where(
                        m.PaymentDocument.payment_id == payout.payment_id
                    )
                )
            )
            .scalars()
            .all()
        )
    first = await execute(
        engine,
        APPROVE,
        payout.admin,
        commission=commission,
        p=str(payout.payment_id),
        d=str(documents[0]),
    )
    assert first.errors is None, first.errors
    assert first.data["approvePaymentDocument"]["payment"]["status"] == "PAYMENT_REQUESTED"
    second = await execute(
        engine,
        APPROVE,
        payout.admin,
        commission=commission,
        p=str(payout.payment_id),
        d=str(documents[1]),
    )
    assert second.data["approvePaymentDocument"]["payment"]["status"] == "APPROVED_FOR_PAYMENT"

    paid = await execute(
        engine, PAY, payout.admin, commission=commission, id=str(payout.payment_id), key="k-1"
    )
    assert paid.errors is None, paid.errors
    assert paid.data["payPartnerPayment"]["payment"]["status"] == "PAID"
    again = await execute(
        engine, PAY, payout.admin, commission=commission, id=str(payout.payment_id), key="k-1"
    )
    assert again.data["payPartnerPayment"]["replayed"] is True

    # two events for the payout: sent to the provider, then paid
    assert await count(engine, m.PaymentEvent, payment_id=payout.payment_id) == 7
    assert await count(engine, m.PayoutAttempt, payment_id=payout.payment_id, status="paid") == 1
    assert await count(engine, m.AccountingTransaction, payment_id=payout.payment_id) == 2
    assert await count(engine, m.Outbox, payment_id=payout.payment_id) == 2


REJECT_PAYOUT = """mutation($id: ID!) {
  rejectPartnerPayment(id: $id, comments: "bank details do not match") { payment { status } }
}"""


async def approved_with_documents(factory: Factory, documents: int) -> Payout:
    payout = await new_payout(factory)
    approved_at = datetime(2025, 11, 6, tzinfo=UTC)
    async with factory.engine.begin() as connection:
        await connection.execute(
            m.Payment.__table__.update()
            .where(m.Payment.id == payout.payment_id)
            .values(status="approved_for_payment", approved_for_payment_at=approved_at)
        )
    for n in range(documents):
        await factory.insert(
            m.PaymentDocument,
            tenant_id=payout.tenant_id,
            payment_id=payout.payment_id,
            document_type="invoice",
            status="approved",
            required=True,
            storage_key=f"{payout.tenant_id}/00/{n:064d}",
        )
    return payout


@pytest.mark.parametrize("documents", [1, 6])
async def test_a_transition_costs_the_same_statements_however_many_documents_it_resets(
    engine: AsyncEngine, writes: AsyncEngine, tmp_path: Path, documents: int
) -> None:
    payout = await approved_with_documents(Factory(engine), documents)
    commission = workflow(writes, tmp_path)
    with count_statements(writes) as counted:
        result = await execute(
            engine, REJECT_PAYOUT, payout.admin, commission=commission, id=str(payout.payment_id)
        )
    assert result.errors is None, result.errors
    # payment FOR UPDATE, documents, partner, payee, actor, declined payouts; UPDATE
    # payment, one UPDATE resetting every reviewed document, the event, the outbox row.
    statements = [
        s for s in counted.statements if not s.lstrip().upper().startswith(("BEGIN", "PRAGMA"))
    ]
    assert len(statements) == 10, statements


AVAILABLE = (
    """{ payments(first: 100) { nodes { availableTransitions { action allowed reason } } } }"""
)


@pytest.mark.parametrize("payments", [3, 30])
async def test_available_transitions_on_a_list_cost_a_fixed_number_of_statements(
    engine: AsyncEngine, writes: AsyncEngine, tmp_path: Path, payments: int
) -> None:
    factory = Factory(engine)
    payout = await new_payout(factory)
    for _ in range(payments - 1):
        await factory.payment(
            payout.tenant_id, kind="commission", status="generated", partner_id=payout.partner_id
        )
    commission = workflow(writes, tmp_path)
    with count_statements(engine) as counted:
        result = await execute(engine, AVAILABLE, payout.admin, commission=commission)
    assert result.errors is None, result.errors
    nodes = result.data["payments"]["nodes"]
    assert len(nodes) == payments
    assert {len(node["availableTransitions"]) for node in nodes} == {8}
    # the page, its documents, its partners
    assert len(counted) == 3, counted.statements
