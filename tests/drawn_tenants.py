"""Tenants drawn for differential tests: test_list_oracle's tenant (three partners with
a user and a merchant each, admins, companies, payment methods, addresses, invoices and
up to 28 payments with tie-heavy values and many NULLs), grown into a reseller tree
(reseller A, reseller B below it, the third partner beside or below B), with terminals
and, under each payment, details, documents, events and ledger lines; every nullable
column of a payment sometimes set; amounts up to BigInt's limit; USD, EUR, JPY (no
decimals) and KWD (three); moments with and without microseconds; texts JSON must
escape, and texts beyond ASCII. What an example inserted is kept with its ids, as the
pools its operations draw arguments from (tests.drawn_operations).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from domain.statuses import DocumentStatus, LedgerDirection, PaymentStatus
from tests.drawn_operations import Pools
from tests.factories import Factory, payment_row
from tests.integration.test_list_oracle import (
    ADMINS,
    AMOUNTS,
    DAYS,
    MOMENTS,
    Drawn,
    Ref,
    admin_ref,
    maybe,
    tenants,
    values_of,
)

Row = dict[str, Any]

# test_list_oracle draws USD, EUR, MXN and JPY; MXN becomes KWD, a three-decimal currency.
CURRENCY_OF = {"MXN": "KWD"}
CURRENCIES = st.sampled_from(["USD", "EUR", "JPY", "KWD"])
# Texts that JSON must escape or that are not ASCII.
TEXTS = st.sampled_from(
    ["", "plain", 'say "hi"', "back\\slash", "line\nbreak\ttab", "\x01\x1f\x7f", "é ß 中", "😀"]
)
TABLES = (  # parents first
    "partner",
    "user_account",
    "merchant",
    "terminal",
    "company",
    "payment_method",
    "address",
    "invoice",
    "payment",
    "payment_detail",
    "payment_document",
    "payment_event",
    "accounting_transaction",
)
TYPE_OF_TABLE = {
    "partner": "Partner",
    "user_account": "User",
    "merchant": "Merchant",
    "terminal": "Terminal",
    "company": "Company",
    "payment_method": "PaymentMethod",
    "address": "Address",
    "invoice": "Invoice",
    "payment": "Payment",
    "payment_detail": "PaymentDetail",
    "payment_document": "PaymentDocument",
    "payment_event": "PaymentEvent",
    "accounting_transaction": "AccountingTransaction",
}
STATUSES = [status.value for status in PaymentStatus]


class TenantRows:
    """One tenant's drawn rows, by table, parents first. Not a dataclass: hypothesis
    prints a failing example's arguments, and tens of kilobytes of rows would bury the
    failure (hypothesis warns of so large a repr, and warnings are errors here)."""

    def __init__(self, tables: Drawn) -> None:
        self.tables = tables

    def __repr__(self) -> str:
        counts = ", ".join(f"{len(rows)} {table}" for table, rows in self.tables.items())
        return f"TenantRows({counts})"

    def digest(self) -> bytes:
        """The rows' fingerprint: the same for the same rows, on every run."""
        return hashlib.sha256(repr(self.tables).encode()).digest()


@st.composite
def graphs(draw: st.DrawFn) -> TenantRows:
    """test_list_oracle's tenant as a reseller tree, with terminals and what hangs off
    each payment, and every nullable column of a payment sometimes set."""
    drawn = draw(tenants())
    drawn["partner"][0]["kind"] = "reseller"
    drawn["partner"][1].update(kind="reseller", parent_id=Ref("partner", 0))
    drawn["partner"][2]["parent_id"] = draw(st.sampled_from([None, Ref("partner", 1)]))
    for partner in drawn["partner"]:
        partner["payout_account"] = draw(maybe(TEXTS))
    drawn["terminal"] = [
        {"merchant_id": Ref("merchant", i), "serial": f"T{i}{j}", "label": draw(maybe(TEXTS))}
        for i in range(len(drawn["merchant"]))
        for j in range(draw(st.integers(0, 2)))
    ]
    for address in drawn["address"]:
        address["postal_code"] = draw(maybe(TEXTS))
    for invoice in drawn["invoice"]:
        invoice["due_on"] = draw(maybe(DAYS))
    for name in ("payment_detail", "payment_document", "payment_event", "accounting_transaction"):
        drawn[name] = []
    for index, payment in enumerate(drawn["payment"]):
        payment["currency"] = CURRENCY_OF.get(payment["currency"], payment["currency"])
        payment.update(draw(payment_extras(len(drawn["terminal"]))))
        drawn["payment_detail"] += draw(st.lists(detail(index), max_size=2))
        drawn["payment_document"] += draw(st.lists(document(index), max_size=2))
        drawn["payment_event"] += draw(st.lists(payment_event(index), max_size=2))
        drawn["accounting_transaction"] += draw(st.lists(ledger_line(index), max_size=2))
    return TenantRows({table: drawn[table] for table in TABLES})


def payment_extras(terminals: int) -> st.SearchStrategy[Row]:
    moment = maybe(MOMENTS)
    terminal = st.integers(0, terminals - 1).map(lambda i: Ref("terminal", i))
    return st.fixed_dictionaries(
        {
            "settleable_amount": maybe(AMOUNTS),
            "discount_amount": maybe(st.sampled_from([0, 1, 999])),
            "original_amount": maybe(AMOUNTS),
            "original_currency": maybe(CURRENCIES),
            "document_number": maybe(TEXTS),
            "tracking_id": maybe(TEXTS),
            "description": maybe(TEXTS),
            "comments": maybe(TEXTS),
            "requester_ip": maybe(st.sampled_from(["10.0.0.1", "::1"])),
            "cutoff_date": maybe(DAYS),
            "authorized_at": moment,
            "approved_for_payment_at": moment,
            "sent_at": moment,
            "received_at": moment,
            "closed_at": moment,
            "expiration_date": moment,
            "deleted_at": moment,
            "terminal_id": maybe(terminal) if terminals else st.none(),
            "manager_id": maybe(st.integers(0, ADMINS - 1).map(admin_ref)),
        }
    )


def detail(payment: int) -> st.SearchStrategy[Row]:
    return st.fixed_dictionaries(
        {
            "payment_id": st.just(Ref("payment", payment)),
            "partner_id": maybe(st.integers(0, 2).map(lambda i: Ref("partner", i))),
            "carrier": st.sampled_from(["DHL", "UPS"]) | TEXTS,
            "tracking_number": maybe(TEXTS),
            "shipment_reference": maybe(TEXTS),
            "amount": AMOUNTS,
            "currency": CURRENCIES,
            "created_at": MOMENTS,
        }
    )


def document(payment: int) -> st.SearchStrategy[Row]:
    return st.fixed_dictionaries(
        {
            "payment_id": st.just(Ref("payment", payment)),
            "document_type": st.sampled_from(["invoice", "receipt"]),
            "status": values_of(DocumentStatus),
            "required": st.booleans(),
            "rejection_reason": maybe(TEXTS),
            "reviewed_by_id": maybe(st.integers(0, ADMINS - 1).map(admin_ref)),
            "reviewed_at": maybe(MOMENTS),
            "file_name": maybe(TEXTS),
            "content_type": maybe(st.just("application/pdf")),
            "size_bytes": maybe(st.sampled_from([0, 1, 2**40])),
            "sha256": maybe(st.just("ab" * 32)),
            "created_at": MOMENTS,
            "updated_at": MOMENTS,
        }
    )


def payment_event(payment: int) -> st.SearchStrategy[Row]:
    return st.fixed_dictionaries(
        {
            "payment_id": st.just(Ref("payment", payment)),
            "actor_id": maybe(st.integers(0, ADMINS - 1).map(admin_ref)),
            "actor_label": TEXTS,
            "action": st.sampled_from(["create", "authorize", "pay"]),
            "from_status": maybe(st.sampled_from(STATUSES)),
            "to_status": maybe(st.sampled_from(STATUSES)),
            "comments": maybe(TEXTS),
            "created_at": MOMENTS,
        }
    )


def ledger_line(payment: int) -> st.SearchStrategy[Row]:
    return st.fixed_dictionaries(
        {
            "payment_id": st.just(Ref("payment", payment)),
            "invoice_id": maybe(st.integers(0, 2).map(lambda i: Ref("invoice", i))),
            "posting_id": st.sampled_from(["p-1", "p-2"]),
            "account_code": st.sampled_from(["cash", "receivables"]),
            "direction": values_of(LedgerDirection),
            "amount": AMOUNTS.map(lambda amount: amount or 1),  # positive
            "currency": CURRENCIES,
            "description": maybe(TEXTS),
            "created_at": MOMENTS,
        }
    )


@dataclass(frozen=True)
class Tenant:
    tenant_id: int
    ids: dict[str, list[int]]  # by table, in the order drawn
    rows: TenantRows

    def pools(self, foreign: dict[str, list[int]]) -> Pools:
        tables = self.rows.tables
        values = [v for rows in tables.values() for row in rows for v in row.values()]
        payments = tables["payment"]
        return Pools(
            ids={TYPE_OF_TABLE[table]: ids for table, ids in self.ids.items()},
            foreign=foreign,
            texts=sorted({v for v in values if isinstance(v, str) and v}),
            amounts=sorted({p["amount"] for p in payments}),
            days=sorted({p[c] for p in payments for c in ("payment_date", "period_end")} - {None}),
            moments=sorted({p["created_at"] for p in payments}),
        )


async def insert_tenant(engine: AsyncEngine, drawn: TenantRows) -> Tenant:
    """A fresh tenant holding `drawn`, parents first: a table at a time, or a row at a
    time where rows point at rows of their own table (the reseller tree)."""
    tenant_id = await Factory(engine).tenant()
    ids: dict[str, list[int]] = {}

    def resolved(table_name: str, row: Row) -> Row:
        values = {k: ids[v.table][v.index] if isinstance(v, Ref) else v for k, v in row.items()}
        if table_name == "payment":
            return payment_row(tenant_id, **values)
        return {"tenant_id": tenant_id, **values}

    async with engine.begin() as connection:
        for table_name, rows in drawn.tables.items():
            table = m.Base.metadata.tables[table_name]
            statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            ids[table_name] = []
            self_referencing = any(
                isinstance(v, Ref) and v.table == table_name for r in rows for v in r.values()
            )
            batches = [[row] for row in rows] if self_referencing else [rows] if rows else []
            for batch in batches:
                values = [resolved(table_name, row) for row in batch]
                ids[table_name] += list((await connection.execute(statement, values)).scalars())
    return Tenant(tenant_id, ids, drawn)
