"""Document 003's invoice payments (and document 002's completion) at the schema level on
a real database (SQLite and PostgreSQL): each mutation issues a fixed, small number of
SQL statements however many payments its invoice already has, and the invoice and
ledger reads cost the same number of statements for 3 rows as for 30.

The counts are exact, and the same on both backends: PostgreSQL's row locks are a
`FOR UPDATE` on a statement that runs anyway, and SQLite's `BEGIN IMMEDIATE` (and the
connection's PRAGMAs) are left out of the count."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from db.engine import write_engine
from domain.principal import Principal
from tests.factories import BASE_TIME, Factory, payment_row, unique
from tests.graphql import admin, compiling, count_statements, execute
from tests.workflow import invoice_payments, reseller_payments


@pytest.fixture
async def writes(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    writer = write_engine(engine)
    yield writer
    if writer is not engine:
        await writer.dispose()


@contextlib.contextmanager
def statements(engine: AsyncEngine, writes: AsyncEngine) -> Iterator[list[str]]:
    """Every statement either engine runs in the block, but transaction control and
    SQLite's PRAGMAs (BEGIN IMMEDIATE on SQLite has no counterpart statement on
    PostgreSQL)."""
    found: list[str] = []
    with contextlib.ExitStack() as stack:
        counters = [stack.enter_context(count_statements(engine))]
        if writes is not engine:
            counters.append(stack.enter_context(count_statements(writes)))
        yield found
    for counter in counters:
        found.extend(
            s
            for s in counter.statements
            if not s.lstrip().upper().startswith(("BEGIN", "PRAGMA", "COMMIT", "ROLLBACK"))
        )


# --- givens ---------------------------------------------------------------------------


@dataclass
class Invoiced:
    tenant_id: int
    principal: Principal
    invoice_id: int
    method_id: int
    buyer_id: int
    payment_id: int  # a live, unauthorized payment of 100.00 USD on 2024-01-15


async def invoiced(factory: Factory, prior: int) -> Invoiced:
    """An open invoice with `prior` earlier payments (each 100.00 USD, with its posting
    and event) besides the one the mutations act on."""
    f = factory
    tenant = await f.tenant()
    user = await f.user(tenant)
    buyer = await f.insert(
        m.Address, tenant_id=tenant, name="Buyer", line1="1", city="A", country_code="US"
    )
    seller = await f.insert(
        m.Address, tenant_id=tenant, name="Seller", line1="2", city="B", country_code="US"
    )
    method = await f.insert(m.PaymentMethod, tenant_id=tenant, name="Wire", method_type="check")
    invoice = await f.insert(
        m.Invoice,
        tenant_id=tenant,
        number=unique("INV-"),
        sender_id=seller,
        receiver_id=buyer,
        total_amount=100_000_000,
        paid_amount=10_000 * (prior + 1),
        currency="USD",
        status="partially_paid",
        issued_on=date(2024, 1, 1),
    )
    await f.fx_rate(tenant, "EUR", "USD", 1_083_400, date(2024, 1, 1))
    ids = await insert_payments(
        f.engine, tenant, invoice, prior + 1, sender_id=buyer, receiver_id=seller
    )
    return Invoiced(tenant, admin(tenant, user), invoice, method, buyer, ids[-1])


async def insert_payments(
    engine: AsyncEngine, tenant: int, invoice: int, count: int, **values: Any
) -> list[int]:
    """`count` live invoice payments of 100.00 USD, each with a balanced posting and its
    `create` event, in one transaction."""
    table: Any = m.Payment.__table__
    ids = []
    async with engine.begin() as connection:
        for n in range(count):
            row = payment_row(
                tenant,
                invoice_id=invoice,
                payment_date=date(2024, 1, 15),
                created_at=BASE_TIME + timedelta(minutes=n),
                updated_at=BASE_TIME + timedelta(minutes=n),
                **values,
            )
            result = await connection.execute(insert(table).returning(table.c.id), row)
            ids.append(int(result.scalar_one()))
        lines = [
            {
                "tenant_id": tenant,
                "payment_id": pid,
                "invoice_id": invoice,
                "posting_id": f"posting-{pid}",
                "account_code": account,
                "direction": direction,
                "amount": 10_000,
                "currency": "USD",
                "created_at": BASE_TIME,
            }
            for pid in ids
            for account, direction in (("cash", "debit"), ("receivables", "credit"))
        ]
        await connection.execute(insert(m.AccountingTransaction.__table__), lines)
        events = [
            {
                "tenant_id": tenant,
                "payment_id": pid,
                "actor_label": "Admin",
                "action": "create",
                "to_status": "recorded",
                "created_at": BASE_TIME,
            }
            for pid in ids
        ]
        await connection.execute(insert(m.PaymentEvent.__table__), events)
    return ids


def clock() -> datetime:
    return datetime(2024, 6, 30, 12, tzinfo=UTC)


# --- mutations ------------------------------------------------------------------------

CREATE = """mutation($invoice: ID!, $key: String!) {
  createPayment(
    input: {invoiceId: $invoice, amount: 5000, currency: "EUR", paymentDate: "2024-02-01"}
    idempotencyKey: $key
  ) { replayed payment { databaseId amount { amount } } }
}"""
UPDATE = """mutation($id: ID!) {
  updatePayment(id: $id, input: {amount: 12000}) { payment { databaseId amount { amount } } }
}"""
UPDATE_TEXT = """mutation($id: ID!) {
  updatePayment(id: $id, input: {reference: "REF-2"}) { payment { databaseId reference } }
}"""
DELETE = """mutation($id: ID!) { deletePayment(id: $id) { payment { databaseId status } } }"""
AUTHORIZE = (
    """mutation($id: ID!) { authorizePayment(id: $id) { payment { databaseId authorized } } }"""
)

# What each mutation issues, however many payments the invoice has:
# - createPayment: the idempotency key claimed (INSERT .. ON CONFLICT, its own
#   transaction); the invoice locked, its live total (one SUM), the FX rate, the actor;
#   INSERT payment, its event, its ledger lines (one INSERT for the posting), UPDATE
#   invoice, the key completed;
# - updatePayment with a new amount: the payment and the invoice locked, the live total,
#   the actor; the conditional UPDATE payment, its event, the reversal and the new
#   posting (one INSERT), UPDATE invoice;
# - updatePayment of its reference: the same without the ledger and the invoice;
# - deletePayment: as a new amount (the reversal only);
# - authorizePayment: the payment locked, the actor, UPDATE payment, its event.
COUNTS = {
    "createPayment": 10,
    "updatePayment (amount)": 8,
    "updatePayment (reference)": 6,
    "deletePayment": 8,
    "authorizePayment": 4,
}
EXPECTED = {  # what the payload says, as a check that the mutation did its work
    "createPayment": {"replayed": False, "payment": {"amount": {"amount": "5417"}}},
    "updatePayment (amount)": {"payment": {"amount": {"amount": "12000"}}},
    "updatePayment (reference)": {"payment": {"reference": "REF-2"}},
    "deletePayment": {"payment": {"status": "DELETED"}},
    "authorizePayment": {"payment": {"authorized": True}},
}


async def run(
    engine: AsyncEngine, writes: AsyncEngine, books: Invoiced, name: str
) -> tuple[Any, list[str]]:
    uc = invoice_payments(writes, clock=clock)
    operation, variables = {
        "createPayment": (CREATE, {"invoice": str(books.invoice_id), "key": unique("k-")}),
        "updatePayment (amount)": (UPDATE, {"id": str(books.payment_id)}),
        "updatePayment (reference)": (UPDATE_TEXT, {"id": str(books.payment_id)}),
        "deletePayment": (DELETE, {"id": str(books.payment_id)}),
        "authorizePayment": (AUTHORIZE, {"id": str(books.payment_id)}),
    }[name]
    with statements(engine, writes) as found:
        result = await execute(engine, operation, books.principal, invoices=uc, **variables)
    assert result.errors is None, result.errors
    return result, found


@pytest.mark.parametrize("name", list(COUNTS))
async def test_a_mutation_costs_the_same_statements_with_1_or_20_payments_on_the_invoice(
    engine: AsyncEngine, writes: AsyncEngine, name: str
) -> None:
    issued = {}
    for prior in (0, 19):  # 1 and 20 payments on the invoice
        books = await invoiced(Factory(engine), prior)
        result, found = await run(engine, writes, books, name)
        (payload,) = result.data.values()
        payment = payload["payment"]
        assert payment["databaseId"] > 0
        for key, value in EXPECTED[name].items():
            if isinstance(value, dict):
                assert {k: payment[k] for k in value} == value, payload
            else:
                assert payload[key] == value, payload
        issued[prior + 1] = found
    assert {n: len(found) for n, found in issued.items()} == {1: COUNTS[name], 20: COUNTS[name]}
    assert issued[1] == issued[20]  # the very same statements


async def test_a_replayed_create_costs_the_key_and_the_payment(
    engine: AsyncEngine, writes: AsyncEngine
) -> None:
    books = await invoiced(Factory(engine), 3)
    uc = invoice_payments(writes, clock=clock)
    variables = {"invoice": str(books.invoice_id), "key": "replayed"}
    first = await execute(engine, CREATE, books.principal, invoices=uc, **variables)
    assert first.errors is None, first.errors
    with statements(engine, writes) as found:
        again = await execute(engine, CREATE, books.principal, invoices=uc, **variables)
    assert again.errors is None, again.errors
    assert again.data["createPayment"]["replayed"] is True
    assert again.data["createPayment"]["payment"] == first.data["createPayment"]["payment"]
    # the key's INSERT finds it taken, the stored key is read, the payment read back;
    # nothing is written
    assert len(found) == 3, found
    assert not any(s.lstrip().upper().startswith(("UPDATE", "DELETE")) for s in found), found
    assert sum(s.lstrip().upper().startswith("INSERT") for s in found) == 1, found


COMPLETE = """mutation($reseller: ID!, $document: String!, $method: ID!, $key: String!) {
  completePayment(
    resellerId: $reseller, documentId: $document, paymentMethodId: $method, idempotencyKey: $key
  ) { payment { databaseId status } }
}"""


@pytest.mark.parametrize("prior", [1, 20])
async def test_completing_a_reseller_payment_costs_the_same_statements_with_1_or_20_on_its_invoice(
    engine: AsyncEngine, writes: AsyncEngine, prior: int
) -> None:
    factory = Factory(engine)
    books = await invoiced(factory, prior - 1)
    reseller = await factory.partner(books.tenant_id, kind="reseller")
    number = unique("DOC-")
    await factory.payment(
        books.tenant_id,
        kind="reseller",
        status="waiting_for_payment",
        partner_id=reseller,
        invoice_id=books.invoice_id,
        document_number=number,
        amount=10_000,
        currency="USD",
    )
    uc = reseller_payments(writes, clock=clock)
    with statements(engine, writes) as found:
        result = await execute(
            engine,
            COMPLETE,
            books.principal,
            resellers=uc,
            reseller=str(reseller),
            document=number,
            method=str(books.method_id),
            key=unique("k-"),
        )
    assert result.errors is None, result.errors
    assert result.data["completePayment"]["payment"]["status"] == "COMPLETED"
    # the key claimed; payment locked, method, actor, the conditional UPDATE, its event,
    # its posting, the key completed
    assert len(found) == 8, found


# --- reads ----------------------------------------------------------------------------

INVOICES = """{
  invoices(first: 100) {
    nodes {
      number status paid { amount }
      payments(first: 50) {
        totalCount nodes { databaseId amount { amount } authorizedBy { name } }
      }
      accountingTransactions(first: 50) {
        totalCount
        nodes { accountCode direction amount { amount currency } payment { databaseId } }
      }
    }
  }
}"""
LEDGER = """{
  accountingTransactions(first: 100) {
    totalCount
    nodes { accountCode amount { amount } payment { databaseId status invoice { number } } }
  }
}"""


@pytest.mark.parametrize("rows", [3, 30])
async def test_invoices_with_their_payments_and_ledger_cost_a_fixed_number_of_statements(
    engine: AsyncEngine, rows: int
) -> None:
    factory = Factory(engine)
    tenant = await factory.tenant()
    user = await factory.user(tenant)
    for n in range(rows):
        invoice = await factory.insert(
            m.Invoice,
            tenant_id=tenant,
            number=unique("INV-"),
            total_amount=100_000,
            paid_amount=10_000,
            currency="USD",
            status="partially_paid",
            issued_on=date(2024, 1, 1),
        )
        # one live payment authorized by the user, one deleted (not listed, but its
        # lines are)
        await insert_payments(engine, tenant, invoice, 1, authorized=True, authorized_by_id=user)
        await insert_payments(
            engine, tenant, invoice, 1, status="deleted", deleted_at=BASE_TIME + timedelta(n)
        )
    with count_statements(engine) as counted:
        result = await execute(engine, INVOICES, admin(tenant, user))
    assert result.errors is None, result.errors
    nodes = result.data["invoices"]["nodes"]
    assert len(nodes) == rows
    assert {node["payments"]["totalCount"] for node in nodes} == {1}
    assert {node["accountingTransactions"]["totalCount"] for node in nodes} == {4}
    # invoices; their payments and the payments' count; the authorizing users; their
    # ledger lines and the lines' count; the lines' payments
    assert len(counted) == 7, counted.statements


@pytest.mark.parametrize("rows", [3, 30])
async def test_ledger_lines_with_their_payment_and_invoice_cost_a_fixed_number_of_statements(
    engine: AsyncEngine, rows: int
) -> None:
    factory = Factory(engine)
    tenant = await factory.tenant()
    user = await factory.user(tenant)
    # `rows` lines, each of another payment against another invoice
    for _ in range(rows):
        invoice = await factory.insert(
            m.Invoice,
            tenant_id=tenant,
            number=unique("INV-"),
            total_amount=100_000,
            paid_amount=10_000,
            currency="USD",
            status="partially_paid",
            issued_on=date(2024, 1, 1),
        )
        payment = await factory.payment(tenant, invoice_id=invoice)
        await factory.insert(
            m.AccountingTransaction,
            tenant_id=tenant,
            payment_id=payment,
            invoice_id=invoice,
            posting_id=f"posting-{payment}",
            account_code="receivables",
            direction="credit",
            amount=10_000,
            currency="USD",
            created_at=BASE_TIME,
        )
    with count_statements(engine) as counted:
        result = await execute(engine, LEDGER, admin(tenant, user))
    assert result.errors is None, result.errors
    assert result.data["accountingTransactions"]["totalCount"] == rows
    # the lines, their count, their payments, the payments' invoices; compiled, one
    assert len(counted) == (1 if compiling(engine) else 4), counted.statements
