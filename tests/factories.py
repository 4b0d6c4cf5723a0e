"""Factories: insert rows through the real tables, each test in a tenant of its own."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from db.engine import create_engine

_serial = itertools.count(1)
BASE_TIME = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_serial):06d}"


def payment_row(tenant_id: int, **values: Any) -> dict[str, Any]:
    """The columns of a valid invoice payment, overridden by `values`."""
    defaults = {
        "tenant_id": tenant_id,
        "kind": "invoice",
        "status": "recorded",
        "amount": 10_000,
        "currency": "USD",
        "created_at": BASE_TIME,
        "updated_at": BASE_TIME,
    }
    return {**defaults, **values}


class Factory:
    """Inserts one row at a time and returns its id; defaults make every row valid."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def insert(self, model: type[m.Base], **values: Any) -> int:
        table = model.__table__
        async with self.engine.begin() as connection:
            result = await connection.execute(insert(table).returning(table.c.id), values)
            return int(result.scalar_one())

    async def tenant(self) -> int:
        slug = unique("tenant-")
        return await self.insert(m.Tenant, slug=slug, name=slug.title())

    async def partner(self, tenant_id: int, *, parent_id: int | None = None, **values: Any) -> int:
        defaults = {"name": unique("Partner "), "kind": "reseller", "external_ref": unique("prt_")}
        return await self.insert(
            m.Partner, tenant_id=tenant_id, parent_id=parent_id, **{**defaults, **values}
        )

    async def user(self, tenant_id: int, **values: Any) -> int:
        name = unique("user")
        defaults = {"name": name.title(), "email": f"{name}@example.test", "role": "admin"}
        return await self.insert(m.User, tenant_id=tenant_id, **{**defaults, **values})

    async def payment(self, tenant_id: int, **values: Any) -> int:
        return await self.insert(m.Payment, **payment_row(tenant_id, **values))

    async def invoice(self, tenant_id: int, **values: Any) -> int:
        """An open USD invoice of 100,000.00 issued on 2025-03-01, unless `values` say
        otherwise."""
        defaults = {
            "number": unique("INV-"),
            "total_amount": 10_000_000,
            "paid_amount": 0,
            "currency": "USD",
            "status": "open",
            "issued_on": date(2025, 3, 1),
        }
        return await self.insert(m.Invoice, tenant_id=tenant_id, **{**defaults, **values})

    async def fx_rate(
        self, tenant_id: int, base: str, quote: str, millionths: int, effective_on: date
    ) -> int:
        """`base` in `quote` from `effective_on`: `millionths` millionths of a `quote`."""
        return await self.insert(
            m.FxRate,
            tenant_id=tenant_id,
            base_currency=base,
            quote_currency=quote,
            rate_value=millionths,
            rate_scale=6,
            effective_on=effective_on,
        )


async def tenant_and_user(database_url: str) -> tuple[int, int]:
    """A new tenant and an admin user of it, in the database at `database_url` (one a
    test's own server migrated): the gateway refuses tokens naming users it lacks."""
    engine = create_engine(database_url)
    try:
        factory = Factory(engine)
        tenant_id = await factory.tenant()
        return tenant_id, await factory.user(tenant_id)
    finally:
        await engine.dispose()


@dataclass
class DashboardGraph:
    """A tenant whose payments have every relation the dashboard reads."""

    tenant_id: int
    admin_id: int
    partner_id: int
    invoice_id: int
    sender_id: int
    receiver_id: int
    payment_ids: list[int] = field(default_factory=list)


async def dashboard_graph(factory: Factory, payments: int) -> DashboardGraph:
    """`payments` payments, each with two details, documents, ledger lines and events,
    linked to a partner tree, merchant, terminal, invoice, addresses and a method."""
    f = factory
    tenant = await f.tenant()
    admin = await f.user(tenant)
    root = await f.partner(tenant)
    partner = await f.partner(tenant, parent_id=root, kind="isv")
    await f.partner(tenant, parent_id=partner)
    merchant = await f.insert(
        m.Merchant, tenant_id=tenant, partner_id=partner, name="Shop", external_ref=unique("mrc_")
    )
    terminal = await f.insert(
        m.Terminal, tenant_id=tenant, merchant_id=merchant, serial=unique("T")
    )
    company = await f.insert(m.Company, tenant_id=tenant, name="Buyer Inc")
    sender = await f.insert(
        m.Address,
        tenant_id=tenant,
        company_id=company,
        name="Buyer",
        line1="1 Main St",
        city="Austin",
        country_code="US",
    )
    receiver = await f.insert(
        m.Address,
        tenant_id=tenant,
        name="Seller",
        line1="2 Side St",
        city="Monterrey",
        country_code="MX",
    )
    method = await f.insert(m.PaymentMethod, tenant_id=tenant, name="Check", method_type="check")
    invoice = await f.insert(
        m.Invoice,
        tenant_id=tenant,
        number=unique("INV-"),
        company_id=company,
        sender_id=receiver,
        receiver_id=sender,
        total_amount=10_000 * payments,
        paid_amount=10_000 * payments,
        currency="USD",
        status="paid",
        issued_on=date(2025, 3, 1),
    )
    graph = DashboardGraph(tenant, admin, partner, invoice, sender, receiver)
    rows = _dashboard_rows(graph, payments, merchant, terminal, company, method)
    async with f.engine.begin() as connection:
        await connection.execute(insert(m.Payment.__table__), rows["payment"])
        for name in (
            "payment_detail",
            "payment_document",
            "accounting_transaction",
            "payment_event",
        ):
            await connection.execute(insert(m.Base.metadata.tables[name]), rows[name])
    graph.payment_ids = [row["id"] for row in rows["payment"]]
    return graph


def _dashboard_rows(
    graph: DashboardGraph, payments: int, merchant: int, terminal: int, company: int, method: int
) -> dict[str, list[dict[str, Any]]]:
    start = next(_serial) * 10_000  # ids of our own, far from other tests' rows
    rows: dict[str, list[dict[str, Any]]] = {
        name: []
        for name in (
            "payment",
            "payment_detail",
            "payment_document",
            "accounting_transaction",
            "payment_event",
        )
    }
    tenant = graph.tenant_id
    for index in range(payments):
        pid = start + index
        at = BASE_TIME + timedelta(minutes=index)
        rows["payment"].append(
            {
                "id": pid,
                "tenant_id": tenant,
                "kind": "invoice",
                "status": "recorded",
                "amount": 10_000,
                "currency": "USD",
                "partner_id": graph.partner_id,
                "merchant_id": merchant,
                "terminal_id": terminal,
                "company_id": company,
                "user_id": graph.admin_id,
                "invoice_id": graph.invoice_id,
                "sender_id": graph.sender_id,
                "receiver_id": graph.receiver_id,
                "payment_method_id": method,
                "authorized": True,
                "authorized_by_id": graph.admin_id,
                "authorized_at": at,
                "created_at": at,
                "updated_at": at,
            }
        )
        for part in range(2):
            child = pid * 10 + part
            rows["payment_detail"].append(
                {
                    "id": child,
                    "tenant_id": tenant,
                    "payment_id": pid,
                    "carrier": "DHL",
                    "amount": 5_000,
                    "currency": "USD",
                    "created_at": at,
                }
            )
            rows["payment_document"].append(
                {
                    "id": child,
                    "tenant_id": tenant,
                    "payment_id": pid,
                    "document_type": "invoice",
                    "status": "pending",
                    "required": True,
                    "created_at": at,
                    "updated_at": at,
                }
            )
            rows["accounting_transaction"].append(
                {
                    "id": child,
                    "tenant_id": tenant,
                    "payment_id": pid,
                    "invoice_id": graph.invoice_id,
                    "posting_id": f"posting-{pid}",
                    "account_code": ("cash", "receivables")[part],
                    "direction": ("debit", "credit")[part],
                    "amount": 10_000,
                    "currency": "USD",
                    "created_at": at,
                }
            )
            rows["payment_event"].append(
                {
                    "id": child,
                    "tenant_id": tenant,
                    "payment_id": pid,
                    "actor_id": graph.admin_id,
                    "actor_label": "Admin",
                    "action": ("create", "authorize")[part],
                    "to_status": "recorded",
                    "created_at": at,
                }
            )
    return rows
