"""Document 003's invoice payments end to end over real HTTP: one `paygraph serve` per
backend, driven with the gql client. Each rule and each error of the document as
PayGraph implements it (README "Invoice payments and the ledger"): creating a payment
(flat and nested under its invoice), the 422 as VALIDATION_FAILED, conversion at the FX
rate of the payment date, the balanced ledger, the invoice's paid amount and status,
changes, soft deletion, authorization, the ledger's list and idempotency. Every refusal
is checked to leave the tenant's rows exactly as they were.

Rows a test starts from (tenant, users, addresses, invoices, FX rates) are inserted
directly; every change is made over HTTP."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.relay import to_base64

from db import models as m
from domain.permissions import (
    ALL_PERMISSIONS,
    AUTHORIZE_PAYMENTS,
    MANAGE_PAYMENTS,
    VIEW_PAYMENTS,
)
from gateway.auth import mint_token
from gateway.settings import Settings
from tests.e2e.server import TEST_JWT_SECRET, TLS, RunningServer, running_server
from tests.factories import Factory, unique

SETTINGS = Settings(jwt_secret=TEST_JWT_SECRET)
ISSUED = date(2024, 1, 1)
PAID_ON = "2024-01-15"
TOTAL = 200_000  # 2,000.00 USD


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[RunningServer]:
    with running_server(database_url) as running:
        yield running


# --- givens ---------------------------------------------------------------------------


@dataclass
class Books:
    """A tenant's receivables: an admin (who records), a clerk (who authorizes), a
    partner and its user, three addresses, a payment method, one open USD invoice of
    2,000.00 billed by the seller to the buyer, and FX rates:

    - EUR -> USD 1.0834 from 2024-01-01 and 1.1 from 2024-02-01;
    - USD -> JPY 150.25 from 2024-01-01 (so JPY -> USD uses it the other way round);
    - CHF -> USD 1.13 from 2024-06-01 only; no rate at all for GBP."""

    tenant_id: int
    admin_id: int
    admin_name: str
    clerk_id: int
    clerk_name: str
    partner_id: int
    partner_user_id: int
    buyer_id: int
    seller_id: int
    courier_id: int
    method_id: int
    invoice_id: int
    invoice_number: str
    rates: dict[str, int]

    def token(self, *permissions: str, user_id: int | None = None) -> str:
        return mint_token(
            SETTINGS,
            tenant_id=self.tenant_id,
            user_id=user_id or self.admin_id,
            permissions=permissions,
        )

    @property
    def manager(self) -> str:
        """Records payments but may not authorize them."""
        return self.token(MANAGE_PAYMENTS, VIEW_PAYMENTS)

    @property
    def full(self) -> str:
        return self.token(MANAGE_PAYMENTS, AUTHORIZE_PAYMENTS, VIEW_PAYMENTS)

    @property
    def clerk(self) -> str:
        return self.token(AUTHORIZE_PAYMENTS, VIEW_PAYMENTS, user_id=self.clerk_id)

    @property
    def partner_user(self) -> str:
        return mint_token(
            SETTINGS,
            tenant_id=self.tenant_id,
            user_id=self.partner_user_id,
            permissions=ALL_PERMISSIONS,
            partner_id=self.partner_id,
        )


async def new_books(factory: Factory) -> Books:
    f = factory
    tenant = await f.tenant()
    admin_name, clerk_name = unique("Admin "), unique("Clerk ")
    admin = await f.user(tenant, role="admin", name=admin_name)
    clerk = await f.user(tenant, role="admin", name=clerk_name)
    partner = await f.partner(tenant, kind="isv")
    partner_user = await f.user(tenant, role="partner", partner_id=partner)
    company = await f.insert(m.Company, tenant_id=tenant, name="Buyer Inc")

    async def address(name: str, country: str) -> int:
        return await f.insert(
            m.Address,
            tenant_id=tenant,
            name=name,
            line1="1 Main St",
            city="Austin",
            country_code=country,
        )

    buyer = await address("Buyer", "US")
    seller = await address("Seller", "MX")
    courier = await address("Courier", "US")
    method = await f.insert(m.PaymentMethod, tenant_id=tenant, name="Wire", method_type="check")
    number = unique("INV-")
    invoice = await f.insert(
        m.Invoice,
        tenant_id=tenant,
        number=number,
        company_id=company,
        sender_id=seller,
        receiver_id=buyer,
        total_amount=TOTAL,
        paid_amount=0,
        currency="USD",
        status="open",
        issued_on=ISSUED,
    )
    rates = {}
    for name, base, quote, value, on in [
        ("eur_jan", "EUR", "USD", 1_083_400, date(2024, 1, 1)),
        ("eur_feb", "EUR", "USD", 1_100_000, date(2024, 2, 1)),
        ("usd_jpy", "USD", "JPY", 150_250_000, date(2024, 1, 1)),
        ("chf_jun", "CHF", "USD", 1_130_000, date(2024, 6, 1)),
    ]:
        rates[name] = await f.fx_rate(tenant, base, quote, value, on)
    return Books(
        tenant,
        admin,
        admin_name,
        clerk,
        clerk_name,
        partner,
        partner_user,
        buyer,
        seller,
        courier,
        method,
        invoice,
        number,
        rates,
    )


async def add_invoice(
    factory: Factory, books: Books, *, total: int = TOTAL, status: str = "open"
) -> tuple[int, str]:
    number = unique("INV-")
    invoice = await factory.insert(
        m.Invoice,
        tenant_id=books.tenant_id,
        number=number,
        sender_id=books.seller_id,
        receiver_id=books.buyer_id,
        total_amount=total,
        paid_amount=0,
        currency="USD",
        status=status,
        issued_on=ISSUED,
    )
    return invoice, number


def today() -> date:
    return datetime.now(UTC).date()


# --- the client side ------------------------------------------------------------------


async def execute(server: RunningServer, token: str, operation: str, /, **variables: Any) -> Any:
    transport = HTTPXAsyncTransport(
        verify=TLS, url=server.graphql_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    async with Client(transport=transport) as session:
        return await session.execute(GraphQLRequest(operation, variable_values=variables or None))


async def refused(server: RunningServer, token: str, operation: str, /, **variables: Any) -> Any:
    """The one error an operation fails with; no data comes with it."""
    with pytest.raises(TransportQueryError) as failure:
        await execute(server, token, operation, **variables)
    errors = failure.value.errors or []
    assert len(errors) == 1, errors
    assert not any((failure.value.data or {}).values()), failure.value.data
    return errors[0]


# --- the database side ----------------------------------------------------------------

TENANT_TABLES = (
    m.Invoice,
    m.Payment,
    m.AccountingTransaction,
    m.PaymentEvent,
    m.IdempotencyKey,
    m.Outbox,
)


async def snapshot(engine: AsyncEngine, tenant_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tenant that a payment mutation could write."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with engine.connect() as connection:
        for model in TENANT_TABLES:
            table = model.__table__
            statement = (
                select(table)
                .where(table.c.tenant_id == tenant_id)  # type: ignore[attr-defined]
                .order_by(table.c.id)  # type: ignore[attr-defined]
            )
            rows[model.__tablename__] = [tuple(r) for r in (await connection.execute(statement))]
    return rows


async def refused_unchanged(
    server: RunningServer,
    engine: AsyncEngine,
    books: Books,
    token: str,
    operation: str,
    /,
    **variables: Any,
) -> Any:
    """The error, having checked that the refusal changed none of the tenant's rows:
    the invoice, its payments, the ledger, events, idempotency keys and outbox."""
    before = await snapshot(engine, books.tenant_id)
    error = await refused(server, token, operation, **variables)
    after = await snapshot(engine, books.tenant_id)
    assert after == before, (error, variables)
    return error


# --- the operations -------------------------------------------------------------------

PAYMENT = """fragment P on Payment {
  databaseId kind status currency authorized authorizedAt deletedAt paymentDate
  reference description sentAt receivedAt
  amount { amount currency }
  originalAmount { amount currency }
  fxRate { databaseId baseCurrency quoteCurrency rate effectiveOn }
  invoice { databaseId number }
  sender { databaseId }
  receiver { databaseId }
  paymentMethod { databaseId name }
  authorizedBy { databaseId name }
}"""
CREATE = (
    """mutation($input: CreatePaymentInput!, $key: String!) {
  createPayment(input: $input, idempotencyKey: $key) { success replayed payment { ...P } }
}"""
    + PAYMENT
)
CREATE_NESTED = (
    """mutation($invoice: ID!, $input: InvoicePaymentInput!, $key: String!) {
  createInvoicePayment(invoiceId: $invoice, input: $input, idempotencyKey: $key) {
    success replayed payment { ...P }
  }
}"""
    + PAYMENT
)
UPDATE = (
    """mutation($id: ID!, $input: UpdatePaymentInput!) {
  updatePayment(id: $id, input: $input) { success payment { ...P } }
}"""
    + PAYMENT
)
DELETE = """mutation($id: ID!) { deletePayment(id: $id) { success payment { ...P } } }""" + PAYMENT
AUTHORIZE = (
    """mutation($id: ID!) { authorizePayment(id: $id) { success payment { ...P } } }""" + PAYMENT
)
INVOICE = """query($id: ID!) {
  invoice(id: $id) {
    status total { amount } paid { amount currency } outstanding { amount }
    payments(first: 100) { totalCount nodes { databaseId status } }
    accountingTransactions(first: 100) {
      totalCount
      nodes { postingId accountCode direction amount { amount currency } payment { databaseId } }
    }
  }
}"""
LEDGER = """query($id: ID!) {
  payment(id: $id) {
    status deletedAt
    events(first: 20) { nodes { action actorLabel fromStatus toStatus actor { databaseId } } }
    accountingTransactions(first: 100) {
      nodes { postingId accountCode direction amount { amount currency } }
    }
  }
}"""
TRANSACTIONS = """query($filter: AccountingTransactionFilter) {
  accountingTransactions(filter: $filter, first: 200) {
    totalCount
    nodes {
      accountCode direction amount { amount currency } payment { databaseId }
    }
  }
}"""


async def create(
    server: RunningServer, token: str, key: str | None = None, **fields: Any
) -> dict[str, Any]:
    answer = await execute(server, token, CREATE, input=fields, key=key or unique("key-"))
    assert answer["createPayment"]["success"] is True
    assert answer["createPayment"]["replayed"] is False
    payment: dict[str, Any] = answer["createPayment"]["payment"]
    return payment


async def invoice_state(server: RunningServer, books: Books, invoice_id: int) -> dict[str, Any]:
    answer = await execute(server, books.manager, INVOICE, id=str(invoice_id))
    invoice: dict[str, Any] = answer["invoice"]
    return invoice


async def payment_state(server: RunningServer, books: Books, payment_id: int) -> dict[str, Any]:
    answer = await execute(server, books.manager, LEDGER, id=str(payment_id))
    payment: dict[str, Any] = answer["payment"]
    return payment


Line = tuple[str, str, str, str]  # account, direction, amount, currency


def lines_of(nodes: list[dict[str, Any]]) -> list[Line]:
    return [
        (n["accountCode"], n["direction"], n["amount"]["amount"], n["amount"]["currency"])
        for n in nodes
    ]


def postings(nodes: list[dict[str, Any]]) -> list[list[Line]]:
    """The lines grouped by posting, postings in order of their first line."""
    grouped: dict[str, list[Line]] = {}
    for node, line in zip(nodes, lines_of(nodes), strict=True):
        grouped.setdefault(node["postingId"], []).append(line)
    return [sorted(lines) for lines in grouped.values()]


def assert_balanced(nodes: list[dict[str, Any]]) -> None:
    """Debits equal credits in every currency, overall and within each posting."""
    for lines in [lines_of(nodes), *postings(nodes)]:
        net: Counter[str] = Counter()
        for _account, direction, amount, currency in lines:
            net[currency] += int(amount) if direction == "DEBIT" else -int(amount)
        assert all(value == 0 for value in net.values()), lines


def cash_in(amount: int, currency: str = "USD") -> list[Line]:
    return sorted(
        [("cash", "DEBIT", str(amount), currency), ("receivables", "CREDIT", str(amount), currency)]
    )


def converted(original: int, source: str, amount: int, target: str = "USD") -> list[Line]:
    return sorted(
        [
            ("cash", "DEBIT", str(original), source),
            ("fx_conversion", "CREDIT", str(original), source),
            ("fx_conversion", "DEBIT", str(amount), target),
            ("receivables", "CREDIT", str(amount), target),
        ]
    )


def reversed_lines(lines: list[Line]) -> list[Line]:
    flip = {"DEBIT": "CREDIT", "CREDIT": "DEBIT"}
    return sorted((a, flip[d], amount, c) for a, d, amount, c in lines)


def invalid_state(status: str, reason: str) -> dict[str, Any]:
    return {"code": "INVALID_STATE", "status": status, "reason": reason}


def validation_failed(errors: dict[str, list[str]]) -> dict[str, Any]:
    return {"code": "VALIDATION_FAILED", "field": next(iter(errors)), "errors": errors}


# --- creating -------------------------------------------------------------------------


async def test_create_payment_with_the_documents_example_fields(
    server: RunningServer, engine: AsyncEngine
) -> None:
    # given an open invoice of 2,000.00 USD
    books = await new_books(Factory(engine))

    # when an admin with manage- and authorize-payments posts document 003's example
    answer = await execute(
        server,
        books.full,
        CREATE,
        key="doc-003-example",
        input={
            "invoiceId": str(books.invoice_id),
            "senderId": str(books.buyer_id),
            "receiverId": str(books.seller_id),
            "amount": "100000",
            "currency": "USD",
            "paymentMethodId": str(books.method_id),
            "paymentDate": PAID_ON,
            "authorized": True,
        },
    )

    # then the payment is recorded as sent, authorized by the caller
    created = answer["createPayment"]
    assert created["success"] is True
    assert created["replayed"] is False
    payment = created["payment"]
    authorized_at = payment.pop("authorizedAt")
    assert authorized_at is not None
    assert datetime.fromisoformat(authorized_at).date() == today()
    assert payment == {
        "databaseId": payment["databaseId"],
        "kind": "INVOICE",
        "status": "RECORDED",
        "currency": "USD",
        "authorized": True,
        "deletedAt": None,
        "paymentDate": PAID_ON,
        "reference": None,
        "description": None,
        "sentAt": None,
        "receivedAt": None,
        "amount": {"amount": "100000", "currency": "USD"},
        "originalAmount": None,
        "fxRate": None,
        "invoice": {"databaseId": books.invoice_id, "number": books.invoice_number},
        "sender": {"databaseId": books.buyer_id},
        "receiver": {"databaseId": books.seller_id},
        "paymentMethod": {"databaseId": books.method_id, "name": "Wire"},
        "authorizedBy": {"databaseId": books.admin_id, "name": books.admin_name},
    }

    # and the invoice is half paid
    invoice = await invoice_state(server, books, books.invoice_id)
    assert invoice["status"] == "PARTIALLY_PAID"
    assert invoice["paid"] == {"amount": "100000", "currency": "USD"}
    assert invoice["outstanding"] == {"amount": "100000"}
    assert invoice["payments"]["nodes"] == [
        {"databaseId": payment["databaseId"], "status": "RECORDED"}
    ]

    # and one balanced posting moved it from receivables to cash, with its audit event
    state = await payment_state(server, books, payment["databaseId"])
    assert postings(state["accountingTransactions"]["nodes"]) == [cash_in(100_000)]
    assert state["events"]["nodes"] == [
        {
            "action": "create",
            "actorLabel": books.admin_name,
            "fromStatus": None,
            "toStatus": "RECORDED",
            "actor": {"databaseId": books.admin_id},
        }
    ]


async def test_create_invoice_payment_takes_its_defaults_from_the_invoice(
    server: RunningServer, engine: AsyncEngine
) -> None:
    books = await new_books(Factory(engine))
    invoice_gid = to_base64("Invoice", books.invoice_id)

    # when the nested create gets only document 003's amount, method and date
    answer = await execute(
        server,
        books.manager,
        CREATE_NESTED,
        invoice=invoice_gid,
        key="nested-1",
        input={"amount": 100_000, "paymentMethodId": str(books.method_id), "paymentDate": PAID_ON},
    )

    # then the payer is the invoice's billed address, the payee its issuer, the currency
    # the invoice's, and it is not authorized
    first = answer["createInvoicePayment"]
    assert (first["success"], first["replayed"]) == (True, False)
    payment = first["payment"]
    assert payment["invoice"] == {"databaseId": books.invoice_id, "number": books.invoice_number}
    assert payment["sender"] == {"databaseId": books.buyer_id}
    assert payment["receiver"] == {"databaseId": books.seller_id}
    assert payment["amount"] == {"amount": "100000", "currency": "USD"}
    assert payment["paymentMethod"] == {"databaseId": books.method_id, "name": "Wire"}
    assert payment["paymentDate"] == PAID_ON
    assert (payment["authorized"], payment["authorizedBy"], payment["authorizedAt"]) == (
        False,
        None,
        None,
    )

    # when another nested payment names its own payer and no date
    before = today()
    answer = await execute(
        server,
        books.manager,
        CREATE_NESTED,
        invoice=str(books.invoice_id),
        key="nested-2",
        input={"amount": "100000", "senderId": str(books.courier_id)},
    )
    second = answer["createInvoicePayment"]["payment"]

    # then the given payer wins, the date is today (UTC), and the invoice is paid
    assert second["sender"] == {"databaseId": books.courier_id}
    assert second["receiver"] == {"databaseId": books.seller_id}
    assert second["paymentDate"] in {before.isoformat(), today().isoformat()}
    invoice = await invoice_state(server, books, books.invoice_id)
    assert invoice["status"] == "PAID"
    assert invoice["paid"]["amount"] == str(TOTAL)
    assert invoice["outstanding"] == {"amount": "0"}
    assert invoice["payments"]["totalCount"] == 2
    assert_balanced(invoice["accountingTransactions"]["nodes"])


# --- document 003's 422 ---------------------------------------------------------------


async def test_the_documents_422_reports_every_field_at_once(
    server: RunningServer, engine: AsyncEngine
) -> None:
    books = await new_books(Factory(engine))
    for amount in ("0", "-100"):
        error = await refused_unchanged(
            server, engine, books, books.manager, CREATE, key="k-422", input={"amount": amount}
        )
        assert error["extensions"] == {
            "code": "VALIDATION_FAILED",
            "field": "input.invoiceId",
            "errors": {
                "input.invoiceId": ["can't be blank"],
                "input.amount": ["must be greater than 0"],
            },
        }
        assert error["path"] == ["createPayment"]


async def test_each_rule_of_a_new_payment_refuses_with_its_field_and_changes_nothing(
    server: RunningServer, engine: AsyncEngine
) -> None:
    factory = Factory(engine)
    books = await new_books(factory)
    other = await new_books(factory)
    void, _ = await add_invoice(factory, books, status="void")
    draft, _ = await add_invoice(factory, books, status="draft")
    # 500.00 USD paid already: 1,500.00 USD outstanding
    await create(server, books.manager, invoiceId=str(books.invoice_id), amount=50_000)
    tomorrow = (today() + timedelta(days=1)).isoformat()
    invoice = str(books.invoice_id)
    usd_due = "exceeds the invoice's outstanding amount (1,500.00 USD)"
    cases: list[tuple[dict[str, Any], dict[str, list[str]]]] = [
        ({"invoiceId": "999999999", "amount": 100}, {"input.invoiceId": ["does not exist"]}),
        (
            {"invoiceId": str(other.invoice_id), "amount": 100},
            {"input.invoiceId": ["does not exist"]},
        ),
        (
            {"invoiceId": to_base64("Payment", books.invoice_id), "amount": 100},
            {"input.invoiceId": ["does not exist"]},
        ),
        (
            {"invoiceId": str(void), "amount": 100},
            {"input.invoiceId": ["is void and takes no payments"]},
        ),
        (
            {"invoiceId": str(draft), "amount": 100},
            {"input.invoiceId": ["is draft and takes no payments"]},
        ),
        (
            {
                "invoiceId": invoice,
                "amount": 100,
                "paymentMethodId": "999999999",
                "senderId": str(other.buyer_id),
                "receiverId": to_base64("Address", 999_999_999),
            },
            {
                "input.paymentMethodId": ["does not exist"],
                "input.senderId": ["does not exist"],
                "input.receiverId": ["does not exist"],
            },
        ),
        (
            {"invoiceId": invoice, "amount": 100, "paymentDate": tomorrow},
            {"input.paymentDate": ["must not be in the future"]},
        ),
        (
            {"invoiceId": invoice, "amount": 100, "currency": "ZZZ"},
            {"input.currency": ["'ZZZ' is not an ISO 4217 currency"]},
        ),
        (
            {"invoiceId": invoice, "amount": 100, "currency": "GBP", "paymentDate": PAID_ON},
            {"input.currency": ["has no FX rate to USD effective on or before 2024-01-15"]},
        ),
        (  # CHF has a rate, but only from June
            {"invoiceId": invoice, "amount": 100, "currency": "CHF", "paymentDate": PAID_ON},
            {"input.currency": ["has no FX rate to USD effective on or before 2024-01-15"]},
        ),
        (  # before the first EUR rate
            {"invoiceId": invoice, "amount": 100, "currency": "EUR", "paymentDate": "2023-12-31"},
            {"input.currency": ["has no FX rate to USD effective on or before 2023-12-31"]},
        ),
        ({"invoiceId": invoice, "amount": 150_001}, {"input.amount": [usd_due]}),
        (  # at 1.0834, 1,384.53 EUR is 1,500.00 USD and 1,384.54 EUR is 1,500.01 USD
            {"invoiceId": invoice, "amount": 138_454, "currency": "EUR", "paymentDate": PAID_ON},
            {"input.amount": [usd_due]},
        ),
        (
            {
                "invoiceId": invoice,
                "amount": 100,
                "sentAt": "2024-01-15T12:00:00Z",
                "receivedAt": "2024-01-15T11:59:59Z",
            },
            {"input.receivedAt": ["must not be before sentAt"]},
        ),
        (
            {"invoiceId": invoice, "amount": 100, "description": "x" * 2001},
            {"input.description": ["is too long (at most 2000 characters)"]},
        ),
    ]
    for number, (fields, errors) in enumerate(cases):
        error = await refused_unchanged(
            server, engine, books, books.full, CREATE, key=f"rule-{number}", input=fields
        )
        assert error["extensions"] == validation_failed(errors), fields

    # the nested create names the invoice argument itself
    nested_cases: list[tuple[str, dict[str, Any], dict[str, list[str]]]] = [
        ("999999999", {"amount": 100}, {"invoiceId": ["does not exist"]}),
        (str(void), {"amount": 100}, {"invoiceId": ["is void and takes no payments"]}),
        (invoice, {"amount": 0}, {"input.amount": ["must be greater than 0"]}),
        (invoice, {"amount": 150_001}, {"input.amount": [usd_due]}),
    ]
    for number, (invoice_id, fields, errors) in enumerate(nested_cases):
        error = await refused_unchanged(
            server,
            engine,
            books,
            books.manager,
            CREATE_NESTED,
            invoice=invoice_id,
            key=f"nested-rule-{number}",
            input=fields,
        )
        assert error["extensions"] == validation_failed(errors), (invoice_id, fields)

    # and exactly the outstanding amount is accepted (converted: 1,384.53 EUR)
    payment = await create(
        server,
        books.manager,
        invoiceId=invoice,
        amount=138_453,
        currency="EUR",
        paymentDate=PAID_ON,
    )
    assert payment["amount"] == {"amount": "150000", "currency": "USD"}
    state = await invoice_state(server, books, books.invoice_id)
    assert (state["status"], state["outstanding"]) == ("PAID", {"amount": "0"})


async def test_every_broken_rule_is_reported_at_once(
    server: RunningServer, engine: AsyncEngine
) -> None:
    """README: "every broken rule is reported at once, as one VALIDATION_FAILED error".

    PRODUCTION BUG (fails today): domain/invoice_workflow.py `_create` (and `update`)
    only looks at the currency when no other problem was found (`if invoice is not None
    and not problems.errors:` before `_booking`), so an unknown currency sent together
    with a bad amount or a future date is not reported."""
    books = await new_books(Factory(engine))
    tomorrow = (today() + timedelta(days=1)).isoformat()
    error = await refused_unchanged(
        server,
        engine,
        books,
        books.manager,
        CREATE,
        key="all-at-once",
        input={
            "invoiceId": str(books.invoice_id),
            "amount": 0,
            "currency": "ZZZ",
            "paymentDate": tomorrow,
        },
    )
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert error["extensions"]["errors"] == {
        "input.amount": ["must be greater than 0"],
        "input.currency": ["'ZZZ' is not an ISO 4217 currency"],
        "input.paymentDate": ["must not be in the future"],
    }


async def test_a_reference_the_rules_accept_is_stored_or_refused_by_field(
    server: RunningServer, engine: AsyncEngine
) -> None:
    """The rules accept a reference of up to 2,000 characters (MAX_TEXT).

    PRODUCTION BUG (fails on PostgreSQL): `payment.reference` is VARCHAR(128)
    (db/models/payments.py, migration 0001) while domain/invoice_payments.py checks
    `reference` against MAX_TEXT = 2000, so a 129..2000 character reference passes
    validation and the INSERT fails: INTERNAL_SERVER_ERROR instead of a stored payment
    or a VALIDATION_FAILED on `input.reference`. (SQLite does not enforce the length.)"""
    books = await new_books(Factory(engine))
    reference = "R" * 200
    fields = {"invoiceId": str(books.invoice_id), "amount": 100, "reference": reference}
    before = await snapshot(engine, books.tenant_id)
    try:
        answer = await execute(server, books.manager, CREATE, key="long-ref", input=fields)
    except TransportQueryError as failure:
        error = (failure.errors or [{}])[0]
        assert error.get("extensions", {}).get("code") == "VALIDATION_FAILED", error
        assert "input.reference" in error["extensions"]["errors"], error
        assert await snapshot(engine, books.tenant_id) == before
    else:
        assert answer["createPayment"]["payment"]["reference"] == reference


# --- currencies -----------------------------------------------------------------------


async def test_another_currency_is_converted_at_the_rate_of_the_payment_date(
    server: RunningServer, engine: AsyncEngine
) -> None:
    factory = Factory(engine)
    books = await new_books(factory)
    invoice, _ = await add_invoice(factory, books, total=1_000_000)  # 10,000.00 USD

    # when 1,000.00 EUR arrive on 2024-01-15: the January rate (1.0834) applies
    january = await create(
        server,
        books.manager,
        invoiceId=str(invoice),
        amount=100_000,
        currency="eur",
        paymentDate=PAID_ON,
    )
    # then the payment is in the invoice's currency and keeps what was entered
    assert january["currency"] == "USD"
    assert january["amount"] == {"amount": "108340", "currency": "USD"}
    assert january["originalAmount"] == {"amount": "100000", "currency": "EUR"}
    assert january["fxRate"] == {
        "databaseId": books.rates["eur_jan"],
        "baseCurrency": "EUR",
        "quoteCurrency": "USD",
        "rate": "1.083400",
        "effectiveOn": "2024-01-01",
    }

    # when 1,000.00 EUR arrive on the day the February rate starts: it applies
    february = await create(
        server,
        books.manager,
        invoiceId=str(invoice),
        amount=100_000,
        currency="EUR",
        paymentDate="2024-02-01",
    )
    assert february["amount"] == {"amount": "110000", "currency": "USD"}
    assert february["fxRate"]["databaseId"] == books.rates["eur_feb"]

    # when 10,000 JPY arrive: the USD -> JPY rate is used the other way round,
    # 10,000 / 150.25 = 66.5557... USD, rounded half to even once: 66.56 USD
    yen = await create(
        server,
        books.manager,
        invoiceId=str(invoice),
        amount=10_000,
        currency="JPY",
        paymentDate="2024-03-01",
    )
    assert yen["amount"] == {"amount": "6656", "currency": "USD"}
    assert yen["originalAmount"] == {"amount": "10000", "currency": "JPY"}
    assert yen["fxRate"] == {
        "databaseId": books.rates["usd_jpy"],
        "baseCurrency": "USD",
        "quoteCurrency": "JPY",
        "rate": "150.250000",
        "effectiveOn": "2024-01-01",
    }

    # and each payment is one posting of four lines through fx_conversion, so that
    # every currency balances on its own
    for payment, original, currency, amount in [
        (january, 100_000, "EUR", 108_340),
        (february, 100_000, "EUR", 110_000),
        (yen, 10_000, "JPY", 6_656),
    ]:
        state = await payment_state(server, books, payment["databaseId"])
        nodes = state["accountingTransactions"]["nodes"]
        assert postings(nodes) == [converted(original, currency, amount)]
        assert_balanced(nodes)

    # and the invoice counts the converted amounts
    state = await invoice_state(server, books, invoice)
    assert state["paid"] == {"amount": str(108_340 + 110_000 + 6_656), "currency": "USD"}
    assert state["status"] == "PARTIALLY_PAID"
    assert state["accountingTransactions"]["totalCount"] == 12
    assert_balanced(state["accountingTransactions"]["nodes"])


# --- the invoice ----------------------------------------------------------------------


async def test_the_invoices_paid_amount_and_status_follow_its_live_payments(
    server: RunningServer, engine: AsyncEngine
) -> None:
    books = await new_books(Factory(engine))
    invoice = str(books.invoice_id)

    async def status() -> tuple[str, str, str, int]:
        state = await invoice_state(server, books, books.invoice_id)
        return (
            state["status"],
            state["paid"]["amount"],
            state["outstanding"]["amount"],
            state["payments"]["totalCount"],
        )

    assert await status() == ("OPEN", "0", str(TOTAL), 0)
    first = await create(server, books.manager, invoiceId=invoice, amount=50_000)
    assert await status() == ("PARTIALLY_PAID", "50000", "150000", 1)
    second = await create(server, books.manager, invoiceId=invoice, amount=150_000)
    assert await status() == ("PAID", "200000", "0", 2)

    # a paid invoice takes no more
    error = await refused_unchanged(
        server,
        engine,
        books,
        books.manager,
        CREATE,
        key="one-more",
        input={"invoiceId": invoice, "amount": 1},
    )
    assert error["extensions"] == validation_failed(
        {"input.amount": ["exceeds the invoice's outstanding amount (0.00 USD)"]}
    )

    await execute(server, books.manager, DELETE, id=str(second["databaseId"]))
    assert await status() == ("PARTIALLY_PAID", "50000", "150000", 1)
    await execute(server, books.manager, DELETE, id=str(first["databaseId"]))
    assert await status() == ("OPEN", "0", str(TOTAL), 0)

    # what a deleted payment paid is free again
    await create(server, books.manager, invoiceId=invoice, amount=TOTAL)
    assert await status() == ("PAID", str(TOTAL), "0", 1)


# --- changes --------------------------------------------------------------------------


async def test_a_new_amount_reverses_the_posting_books_the_new_one_and_clears_authorization(
    server: RunningServer, engine: AsyncEngine
) -> None:
    books = await new_books(Factory(engine))
    payment = await create(
        server,
        books.full,
        invoiceId=str(books.invoice_id),
        amount=50_000,
        paymentDate=PAID_ON,
        authorized=True,
    )
    pid = str(payment["databaseId"])
    assert payment["authorized"] is True

    # when the amount changes
    answer = await execute(server, books.manager, UPDATE, id=pid, input={"amount": "70000"})

    # then the payment has the new amount and must be authorized again
    changed = answer["updatePayment"]["payment"]
    assert answer["updatePayment"]["success"] is True
    assert changed["amount"] == {"amount": "70000", "currency": "USD"}
    assert (changed["authorized"], changed["authorizedBy"], changed["authorizedAt"]) == (
        False,
        None,
        None,
    )
    # and the ledger has the first posting, its reversal and the new posting
    state = await payment_state(server, books, payment["databaseId"])
    nodes = state["accountingTransactions"]["nodes"]
    assert postings(nodes) == [cash_in(50_000), reversed_lines(cash_in(50_000)), cash_in(70_000)]
    assert_balanced(nodes)
    assert [e["action"] for e in state["events"]["nodes"]] == ["create", "update"]
    invoice = await invoice_state(server, books, books.invoice_id)
    assert (invoice["status"], invoice["paid"]["amount"]) == ("PARTIALLY_PAID", "70000")

    # when the currency changes: 100.00 EUR on the payment's date (1.0834)
    answer = await execute(
        server, books.manager, UPDATE, id=pid, input={"amount": 10_000, "currency": "EUR"}
    )
    changed = answer["updatePayment"]["payment"]
    assert changed["amount"] == {"amount": "10834", "currency": "USD"}
    assert changed["originalAmount"] == {"amount": "10000", "currency": "EUR"}
    assert changed["fxRate"]["databaseId"] == books.rates["eur_jan"]

    # when the date moves into the next rate's time: rebooked at 1.1
    answer = await execute(
        server, books.manager, UPDATE, id=pid, input={"paymentDate": "2024-02-15"}
    )
    changed = answer["updatePayment"]["payment"]
    assert changed["paymentDate"] == "2024-02-15"
    assert changed["amount"] == {"amount": "11000", "currency": "USD"}
    assert changed["fxRate"]["databaseId"] == books.rates["eur_feb"]

    state = await payment_state(server, books, payment["databaseId"])
    nodes = state["accountingTransactions"]["nodes"]
    assert postings(nodes) == [
        cash_in(50_000),
        reversed_lines(cash_in(50_000)),
        cash_in(70_000),
        reversed_lines(cash_in(70_000)),
        converted(10_000, "EUR", 10_834),
        reversed_lines(converted(10_000, "EUR", 10_834)),
        converted(10_000, "EUR", 11_000),
    ]
    assert_balanced(nodes)
    invoice = await invoice_state(server, books, books.invoice_id)
    assert invoice["paid"]["amount"] == "11000"

    # a change above what the invoice still owes (its own amount counts as free) is refused
    error = await refused_unchanged(
        server,
        engine,
        books,
        books.manager,
        UPDATE,
        id=pid,
        input={"amount": 200_001, "currency": "USD"},
    )
    assert error["extensions"] == validation_failed(
        {"input.amount": ["exceeds the invoice's outstanding amount (2,000.00 USD)"]}
    )
    answer = await execute(
        server, books.manager, UPDATE, id=pid, input={"amount": TOTAL, "currency": "USD"}
    )
    assert answer["updatePayment"]["payment"]["amount"]["amount"] == str(TOTAL)
    assert (await invoice_state(server, books, books.invoice_id))["status"] == "PAID"


async def test_a_change_of_other_fields_posts_nothing_and_a_change_to_nothing_writes_nothing(
    server: RunningServer, engine: AsyncEngine
) -> None:
    books = await new_books(Factory(engine))
    payment = await create(
        server,
        books.full,
        invoiceId=str(books.invoice_id),
        amount=50_000,
        paymentDate=PAID_ON,
        authorized=True,
        reference="REF-1",
    )
    pid = str(payment["databaseId"])
    invoice_before = (await snapshot(engine, books.tenant_id))["invoice"]

    # when every field but amount, currency and date changes
    other_method = await Factory(engine).insert(
        m.PaymentMethod, tenant_id=books.tenant_id, name="Card", method_type="card"
    )
    answer = await execute(
        server,
        books.manager,
        UPDATE,
        id=pid,
        input={
            "paymentMethodId": str(other_method),
            "senderId": str(books.courier_id),
            "receiverId": str(books.buyer_id),
            "sentAt": "2024-01-15T09:00:00Z",
            "receivedAt": "2024-01-15T10:00:00+00:00",
            "reference": "REF-2",
            "description": "second instalment",
        },
    )
    changed = answer["updatePayment"]["payment"]

    # then they change, the authorization stays, and nothing is posted
    assert changed["paymentMethod"] == {"databaseId": other_method, "name": "Card"}
    assert changed["sender"] == {"databaseId": books.courier_id}
    assert changed["receiver"] == {"databaseId": books.buyer_id}
    assert datetime.fromisoformat(changed["sentAt"]) == datetime(2024, 1, 15, 9, tzinfo=UTC)
    assert datetime.fromisoformat(changed["receivedAt"]) == datetime(2024, 1, 15, 10, tzinfo=UTC)
    assert (changed["reference"], changed["description"]) == ("REF-2", "second instalment")
    assert changed["authorized"] is True
    assert changed["authorizedBy"] == {"databaseId": books.admin_id, "name": books.admin_name}
    assert changed["amount"] == payment["amount"]
    state = await payment_state(server, books, payment["databaseId"])
    assert postings(state["accountingTransactions"]["nodes"]) == [cash_in(50_000)]
    assert [e["action"] for e in state["events"]["nodes"]] == ["create", "update"]
    assert (await snapshot(engine, books.tenant_id))["invoice"] == invoice_before

    # when the change repeats what the payment already is, nothing is written at all
    before = await snapshot(engine, books.tenant_id)
    answer = await execute(
        server,
        books.manager,
        UPDATE,
        id=pid,
        input={
            "amount": 50_000,
            "currency": "USD",
            "paymentDate": PAID_ON,
            "reference": "REF-2",
            "paymentMethodId": str(other_method),
        },
    )
    assert answer["updatePayment"]["payment"] == changed
    assert await snapshot(engine, books.tenant_id) == before

    # and a change that breaks a rule is refused whole
    tomorrow = (today() + timedelta(days=1)).isoformat()
    for fields, errors in [
        ({"paymentMethodId": "999999999"}, {"input.paymentMethodId": ["does not exist"]}),
        ({"amount": 0}, {"input.amount": ["must be greater than 0"]}),
        ({"paymentDate": tomorrow}, {"input.paymentDate": ["must not be in the future"]}),
        (
            {"currency": "GBP"},
            {"input.currency": ["has no FX rate to USD effective on or before 2024-01-15"]},
        ),
        ({"currency": "ZZZ"}, {"input.currency": ["'ZZZ' is not an ISO 4217 currency"]}),
        (
            {"reference": "REF-3", "receiverId": "999999999"},
            {"input.receiverId": ["does not exist"]},
        ),
    ]:
        error = await refused_unchanged(
            server, engine, books, books.manager, UPDATE, id=pid, input=fields
        )
        assert error["extensions"] == validation_failed(errors), fields

    # and an unknown payment is not found
    error = await refused_unchanged(
        server, engine, books, books.manager, UPDATE, id="999999999", input={"amount": 1}
    )
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_a_new_date_that_books_the_same_amount_keeps_the_ledger_and_authorization(
    server: RunningServer, engine: AsyncEngine
) -> None:
    """README: a change rebooks (and clears the authorization) only when what it books
    changes: its amount, its currency, or the rate a new date converts at. A new value
    date for a payment in the invoice's own currency books the same amount."""
    books = await new_books(Factory(engine))
    payment = await create(
        server,
        books.full,
        invoiceId=str(books.invoice_id),
        amount=50_000,
        paymentDate=PAID_ON,
        authorized=True,
    )
    answer = await execute(
        server,
        books.manager,
        UPDATE,
        id=str(payment["databaseId"]),
        input={"paymentDate": "2024-01-20"},
    )
    changed = answer["updatePayment"]["payment"]
    assert changed["paymentDate"] == "2024-01-20"
    state = await payment_state(server, books, payment["databaseId"])
    nodes = state["accountingTransactions"]["nodes"]
    assert changed["authorized"] is True and changed["authorizedBy"] is not None
    assert postings(nodes) == [cash_in(50_000)]


# --- deleting and authorizing ---------------------------------------------------------


async def test_a_deleted_payment_is_reversed_stays_readable_and_can_no_longer_change(
    server: RunningServer, engine: AsyncEngine
) -> None:
    books = await new_books(Factory(engine))
    kept = await create(server, books.manager, invoiceId=str(books.invoice_id), amount=30_000)
    euros = await create(
        server,
        books.manager,
        invoiceId=str(books.invoice_id),
        amount=10_000,
        currency="EUR",
        paymentDate=PAID_ON,
    )
    pid = str(euros["databaseId"])
    assert (await invoice_state(server, books, books.invoice_id))["paid"]["amount"] == "40834"

    # when the converted payment is deleted
    answer = await execute(server, books.manager, DELETE, id=pid)

    # then it is DELETED with its time, and its posting is reversed line by line
    deleted = answer["deletePayment"]["payment"]
    assert answer["deletePayment"]["success"] is True
    assert deleted["status"] == "DELETED"
    assert deleted["deletedAt"] is not None
    assert deleted["amount"] == {"amount": "10834", "currency": "USD"}
    state = await payment_state(server, books, euros["databaseId"])
    assert state["status"] == "DELETED"
    assert state["deletedAt"] == deleted["deletedAt"]
    nodes = state["accountingTransactions"]["nodes"]
    booked = converted(10_000, "EUR", 10_834)
    assert postings(nodes) == [booked, reversed_lines(booked)]
    assert_balanced(nodes)
    assert [(e["action"], e["fromStatus"], e["toStatus"]) for e in state["events"]["nodes"]] == [
        ("create", None, "RECORDED"),
        ("delete", "RECORDED", "DELETED"),
    ]

    # and the invoice lists the live payment only, counts it only, and shows every line
    invoice = await invoice_state(server, books, books.invoice_id)
    assert invoice["payments"]["nodes"] == [
        {"databaseId": kept["databaseId"], "status": "RECORDED"}
    ]
    assert invoice["payments"]["totalCount"] == 1
    assert (invoice["status"], invoice["paid"]["amount"]) == ("PARTIALLY_PAID", "30000")
    assert invoice["outstanding"]["amount"] == "170000"
    assert invoice["accountingTransactions"]["totalCount"] == 2 + 8
    assert_balanced(invoice["accountingTransactions"]["nodes"])

    # and a deleted payment can be neither deleted, changed nor authorized again
    gone = invalid_state("deleted", "WRONG_STATUS")
    for operation, variables in [
        (DELETE, {"id": pid}),
        (UPDATE, {"id": pid, "input": {"amount": 1}}),
        (UPDATE, {"id": pid, "input": {"reference": "late"}}),
        (AUTHORIZE, {"id": pid}),
    ]:
        error = await refused_unchanged(server, engine, books, books.full, operation, **variables)
        assert error["extensions"] == gone, operation


async def test_authorizing_records_who_and_when_once(
    server: RunningServer, engine: AsyncEngine
) -> None:
    books = await new_books(Factory(engine))
    payment = await create(server, books.manager, invoiceId=str(books.invoice_id), amount=10_000)
    pid = str(payment["databaseId"])

    # recording it authorized needs authorize-payments as well
    error = await refused_unchanged(
        server,
        engine,
        books,
        books.manager,
        CREATE,
        key="auth-without-permission",
        input={"invoiceId": str(books.invoice_id), "amount": 1, "authorized": True},
    )
    assert error["extensions"] == {"code": "FORBIDDEN", "reason": "MISSING_PERMISSION"}
    # and authorizing needs it too
    error = await refused_unchanged(server, engine, books, books.manager, AUTHORIZE, id=pid)
    assert error["extensions"] == {"code": "FORBIDDEN"}

    # when the clerk authorizes it
    answer = await execute(server, books.clerk, AUTHORIZE, id=pid)

    # then the clerk and the time are recorded, with an audit event
    authorized = answer["authorizePayment"]["payment"]
    assert authorized["authorized"] is True
    assert authorized["authorizedBy"] == {"databaseId": books.clerk_id, "name": books.clerk_name}
    assert datetime.fromisoformat(authorized["authorizedAt"]).date() == today()
    state = await payment_state(server, books, payment["databaseId"])
    assert [(e["action"], e["actorLabel"]) for e in state["events"]["nodes"]] == [
        ("create", books.admin_name),
        ("authorize", books.clerk_name),
    ]
    assert postings(state["accountingTransactions"]["nodes"]) == [cash_in(10_000)]

    # and a second authorization is refused
    error = await refused_unchanged(server, engine, books, books.full, AUTHORIZE, id=pid)
    assert error["extensions"] == invalid_state("recorded", "ALREADY_AUTHORIZED")

    # and an unknown payment is not found
    error = await refused_unchanged(server, engine, books, books.clerk, AUTHORIZE, id="999999999")
    assert error["extensions"]["code"] == "NOT_FOUND"


# --- the ledger's list ----------------------------------------------------------------


async def test_accounting_transactions_filter_by_payment_invoice_account_currency_direction(
    server: RunningServer, engine: AsyncEngine
) -> None:
    factory = Factory(engine)
    books = await new_books(factory)
    second, second_number = await add_invoice(factory, books)
    dollars = await create(server, books.manager, invoiceId=str(books.invoice_id), amount=50_000)
    euros = await create(
        server,
        books.manager,
        invoiceId=str(books.invoice_id),
        amount=10_000,
        currency="EUR",
        paymentDate=PAID_ON,
    )
    gone = await create(server, books.manager, invoiceId=str(second), amount=20_000)
    await execute(server, books.manager, DELETE, id=str(gone["databaseId"]))
    d, e, g = dollars["databaseId"], euros["databaseId"], gone["databaseId"]

    async def listed(filter: dict[str, Any] | None) -> list[tuple[int, str, str, str, str]]:
        answer = await execute(server, books.manager, TRANSACTIONS, filter=filter)
        nodes = answer["accountingTransactions"]["nodes"]
        assert answer["accountingTransactions"]["totalCount"] == len(nodes)
        return sorted(
            (n["payment"]["databaseId"], *line)
            for n, line in zip(nodes, lines_of(nodes), strict=True)
        )

    every = await listed(None)
    assert len(every) == 2 + 4 + 4

    def where(**conditions: Any) -> list[tuple[int, str, str, str, str]]:
        keys = {"payment": 0, "account": 1, "direction": 2, "currency": 4}
        return [
            row
            for row in every
            if all(
                row[keys[k]] in (v if isinstance(v, set) else {v}) for k, v in conditions.items()
            )
        ]

    euro_lines = [(e, *line) for line in converted(10_000, "EUR", 10_834)]
    assert await listed({"paymentId": {"eq": str(e)}}) == sorted(euro_lines)
    assert await listed({"payment": {"id": {"eq": to_base64("Payment", e)}}}) == sorted(euro_lines)
    assert await listed({"payment": {"status": {"eq": "DELETED"}}}) == where(payment=g)
    assert len(where(payment=g)) == 4
    assert await listed({"invoiceId": {"eq": str(books.invoice_id)}}) == where(payment={d, e})
    assert await listed({"invoice": {"number": {"eq": second_number}}}) == where(payment=g)
    assert await listed({"accountCode": {"eq": "fx_conversion"}}) == where(account="fx_conversion")
    assert len(where(account="fx_conversion")) == 2
    assert await listed({"currency": {"eq": "eur"}}) == where(currency="EUR")
    assert len(where(currency="EUR")) == 2
    assert await listed(
        {"direction": {"eq": "CREDIT"}, "invoiceId": {"eq": str(books.invoice_id)}}
    ) == where(direction="CREDIT", payment={d, e})
    assert len(where(direction="CREDIT", payment={d, e})) == 3
    assert await listed(
        {"and": [{"accountCode": {"eq": "cash"}}, {"direction": {"eq": "DEBIT"}}]}
    ) == where(account="cash", direction="DEBIT")
    assert len(where(account="cash", direction="DEBIT")) == 3

    # the invoice's own ledger view includes the reversal
    state = await invoice_state(server, books, second)
    assert state["accountingTransactions"]["totalCount"] == 4
    assert postings(state["accountingTransactions"]["nodes"]) == [
        cash_in(20_000),
        reversed_lines(cash_in(20_000)),
    ]
    assert state["payments"]["totalCount"] == 0


# --- idempotency ----------------------------------------------------------------------


async def test_creating_is_idempotent_per_key(server: RunningServer, engine: AsyncEngine) -> None:
    books = await new_books(Factory(engine))
    fields = {"invoiceId": str(books.invoice_id), "amount": 25_000, "paymentDate": PAID_ON}
    first = await execute(server, books.manager, CREATE, key="pay-once", input=fields)
    payment = first["createPayment"]["payment"]

    # when the same request is sent again, the payment is replayed and nothing is written
    before = await snapshot(engine, books.tenant_id)
    again = await execute(server, books.manager, CREATE, key="pay-once", input=fields)
    assert again["createPayment"]["replayed"] is True
    assert again["createPayment"]["payment"] == payment
    assert await snapshot(engine, books.tenant_id) == before

    # when the key comes with other input, for the nested create, or from another user
    clerk = books.token(MANAGE_PAYMENTS, VIEW_PAYMENTS, user_id=books.clerk_id)
    for token, operation, variables in [
        (books.manager, CREATE, {"input": {**fields, "amount": 25_001}}),
        (books.manager, CREATE, {"input": {**fields, "reference": "other"}}),
        (
            books.manager,
            CREATE_NESTED,
            {"invoice": str(books.invoice_id), "input": {"amount": 25_000, "paymentDate": PAID_ON}},
        ),
        (clerk, CREATE, {"input": fields}),
    ]:
        error = await refused_unchanged(
            server, engine, books, token, operation, key="pay-once", **variables
        )
        assert error["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED", variables

    # the nested create replays the same way
    nested = {"amount": 5_000, "paymentDate": PAID_ON}
    answer = await execute(
        server,
        books.manager,
        CREATE_NESTED,
        invoice=str(books.invoice_id),
        key="nest-once",
        input=nested,
    )
    made = answer["createInvoicePayment"]["payment"]
    before = await snapshot(engine, books.tenant_id)
    answer = await execute(
        server,
        books.manager,
        CREATE_NESTED,
        invoice=str(books.invoice_id),
        key="nest-once",
        input=nested,
    )
    assert answer["createInvoicePayment"]["replayed"] is True
    assert answer["createInvoicePayment"]["payment"] == made
    assert await snapshot(engine, books.tenant_id) == before
    error = await refused_unchanged(
        server,
        engine,
        books,
        books.manager,
        CREATE_NESTED,
        invoice=str(books.invoice_id),
        key="nest-once",
        input={**nested, "amount": 5_001},
    )
    assert error["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"

    # a refused request leaves its key free: the corrected retry runs
    error = await refused_unchanged(
        server, engine, books, books.manager, CREATE, key="retry-me", input={**fields, "amount": 0}
    )
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    retried = await execute(server, books.manager, CREATE, key="retry-me", input=fields)
    assert retried["createPayment"]["replayed"] is False
    assert retried["createPayment"]["payment"]["databaseId"] != payment["databaseId"]

    invoice = await invoice_state(server, books, books.invoice_id)
    assert invoice["paid"]["amount"] == str(25_000 + 5_000 + 25_000)
    assert invoice["payments"]["totalCount"] == 3


# --- who ------------------------------------------------------------------------------


async def test_a_partner_user_may_not_record_invoice_payments_whatever_its_permissions(
    server: RunningServer, engine: AsyncEngine
) -> None:
    books = await new_books(Factory(engine))
    payment = await create(server, books.manager, invoiceId=str(books.invoice_id), amount=10_000)
    pid = str(payment["databaseId"])
    for operation, variables in [
        (CREATE, {"key": "p-1", "input": {"invoiceId": str(books.invoice_id), "amount": 100}}),
        (CREATE_NESTED, {"invoice": str(books.invoice_id), "key": "p-2", "input": {"amount": 100}}),
        (UPDATE, {"id": pid, "input": {"amount": 100}}),
        (DELETE, {"id": pid}),
        (AUTHORIZE, {"id": pid}),
    ]:
        error = await refused_unchanged(
            server, engine, books, books.partner_user, operation, **variables
        )
        assert error["extensions"] == {"code": "FORBIDDEN", "reason": "WRONG_CALLER"}, operation
