"""A MXN payment on a EUR invoice, with no MXN/EUR rate, through GraphQL on a real
database (SQLite and PostgreSQL): it converts through the tenant's base currency (USD)
at the rates effective on the payment date, rounds once, records both legs, and leaves
the ledger balanced per currency. A missing leg is refused and writes nothing.

The worked example: 10,002.00 MXN on 2024-02-15, at MXN -> USD 0.058500 (from
2024-02-01) and EUR -> USD 1.083400 (from 2024-01-01, divided by for USD -> EUR), is
540.07 EUR. Later rates (0.061000 and 1.100000 from 2024-03-01), an older MXN rate and
another tenant's rates are in the database too, and must not be taken.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from db.engine import write_engine
from domain.principal import Principal
from tests.factories import Factory, unique
from tests.graphql import admin, execute
from tests.workflow import invoice_payments


@pytest.fixture
async def writes(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    writer = write_engine(engine)
    yield writer
    if writer is not engine:
        await writer.dispose()


def clock() -> datetime:
    return datetime(2024, 6, 30, 12, tzinfo=UTC)


@dataclass
class Books:
    tenant_id: int
    principal: Principal
    invoice_id: int
    rates: dict[str, int]


async def books(factory: Factory, currency: str = "EUR") -> Books:
    """A tenant (base currency USD by default) with an open 1,000.00 invoice (EUR) and USD
    rates for MXN and EUR before, on and after the payment date; none between MXN and
    EUR. Another tenant holds a direct MXN -> EUR rate, which is not this one's."""
    f = factory
    tenant = await f.tenant()
    user = await f.user(tenant)
    invoice = await f.insert(
        m.Invoice,
        tenant_id=tenant,
        number=unique("INV-"),
        total_amount=100_000,
        paid_amount=0,
        currency=currency,
        status="open",
        issued_on=date(2024, 1, 1),
    )
    rates = {}
    for name, base, quote, value, on in [
        ("mxn_jan", "MXN", "USD", 50_000, date(2024, 1, 1)),
        ("mxn_feb", "MXN", "USD", 58_500, date(2024, 2, 1)),
        ("mxn_mar", "MXN", "USD", 61_000, date(2024, 3, 1)),
        ("eur_jan", "EUR", "USD", 1_083_400, date(2024, 1, 1)),
        ("eur_mar", "EUR", "USD", 1_100_000, date(2024, 3, 1)),
    ]:
        rates[name] = await f.fx_rate(tenant, base, quote, value, on)
    other = await f.tenant()
    await f.fx_rate(other, "MXN", "EUR", 50_000, date(2024, 1, 1))
    return Books(tenant, admin(tenant, user), invoice, rates)


CREATE = """mutation($invoice: ID!, $key: String!, $amount: BigInt!, $on: Date!) {
  createInvoicePayment(
    invoiceId: $invoice
    input: {amount: $amount, currency: "MXN", paymentDate: $on}
    idempotencyKey: $key
  ) {
    payment {
      databaseId
      amount { amount currency }
      originalAmount { amount currency }
      fxRate { databaseId baseCurrency quoteCurrency rate effectiveOn }
      fxRateFromBase { databaseId baseCurrency quoteCurrency rate effectiveOn }
      events(first: 10) { nodes { action comments } }
      accountingTransactions(first: 10) {
        nodes { accountCode direction amount { amount currency } description }
      }
    }
  }
}"""


async def pay_mxn(engine: AsyncEngine, writes: AsyncEngine, given: Books, on: str) -> Any:
    """10,002.00 MXN paid on the books' invoice, dated `on`."""
    uc = invoice_payments(writes, clock=clock)
    return await execute(
        engine,
        CREATE,
        given.principal,
        invoices=uc,
        invoice=str(given.invoice_id),
        key=unique("k-"),
        amount="1000200",
        on=on,
    )


INVOICE = """query($id: ID!) {
  viewer { tenant { baseCurrency } }
  invoice(id: $id) {
    status paid { amount currency }
    accountingTransactions(first: 50) { nodes { direction amount { amount currency } } }
  }
}"""


def net_by_currency(lines: list[dict[str, Any]]) -> dict[str, int]:
    net: dict[str, int] = defaultdict(int)
    for line in lines:
        sign = 1 if line["direction"] == "DEBIT" else -1
        net[line["amount"]["currency"]] += sign * int(line["amount"]["amount"])
    return dict(net)


async def test_a_mxn_payment_on_a_eur_invoice_converts_through_usd_and_records_both_legs(
    engine: AsyncEngine, writes: AsyncEngine
) -> None:
    # given a EUR invoice and no MXN/EUR rate, only MXN -> USD and EUR -> USD ones
    given = await books(Factory(engine))
    # when 10,002.00 MXN is paid on it, dated 2024-02-15
    result = await pay_mxn(engine, writes, given, "2024-02-15")
    assert result.errors is None, result.errors
    payment = result.data["createInvoicePayment"]["payment"]
    # then it pays 540.07 EUR (585.117 USD, never rounded, then / 1.0834)
    assert payment["amount"] == {"amount": "54007", "currency": "EUR"}
    assert payment["originalAmount"] == {"amount": "1000200", "currency": "MXN"}
    # and both legs are recorded: February's MXN rate, then January's EUR rate (its
    # inverse), not March's, nor the older MXN rate, nor the other tenant's direct rate
    assert payment["fxRate"] == {
        "databaseId": given.rates["mxn_feb"],
        "baseCurrency": "MXN",
        "quoteCurrency": "USD",
        "rate": "0.058500",
        "effectiveOn": "2024-02-01",
    }
    assert payment["fxRateFromBase"] == {
        "databaseId": given.rates["eur_jan"],
        "baseCurrency": "EUR",
        "quoteCurrency": "USD",
        "rate": "1.083400",
        "effectiveOn": "2024-01-01",
    }
    legs = (
        f"through USD: MXN->USD 117/2000 (FX rate {given.rates['mxn_feb']}) "
        f"then USD->EUR 5000/5417 (FX rate {given.rates['eur_jan']})"
    )
    (event,) = payment["events"]["nodes"]
    assert event["action"] == "create"
    assert event["comments"].endswith(legs), event
    # and the posting is MXN in, EUR out, through the conversion account, each balanced
    lines = payment["accountingTransactions"]["nodes"]
    assert [(n["accountCode"], n["direction"], n["amount"]) for n in lines] == [
        ("cash", "DEBIT", {"amount": "1000200", "currency": "MXN"}),
        ("fx_conversion", "CREDIT", {"amount": "1000200", "currency": "MXN"}),
        ("fx_conversion", "DEBIT", {"amount": "54007", "currency": "EUR"}),
        ("receivables", "CREDIT", {"amount": "54007", "currency": "EUR"}),
    ]
    assert {n["description"] for n in lines} == {lines[0]["description"]}
    assert lines[0]["description"].endswith(legs)
    # and the invoice is paid 540.07 EUR, its ledger balanced in MXN and in EUR
    read = await execute(engine, INVOICE, given.principal, id=str(given.invoice_id))
    assert read.errors is None, read.errors
    assert read.data["viewer"]["tenant"] == {"baseCurrency": "USD"}
    invoice = read.data["invoice"]
    assert invoice["status"] == "PARTIALLY_PAID"
    assert invoice["paid"] == {"amount": "54007", "currency": "EUR"}
    assert net_by_currency(invoice["accountingTransactions"]["nodes"]) == {"MXN": 0, "EUR": 0}


@pytest.mark.parametrize(
    ("currency", "on", "missing"),
    [
        ("EUR", "2023-12-31", "from MXN to USD nor from USD to EUR"),  # before every rate
        ("GBP", "2024-02-15", "from USD to GBP"),  # no GBP rate at all
    ],
    ids=["both-legs", "base-to-invoice"],
)
async def test_a_payment_missing_a_leg_is_refused_and_writes_nothing(
    engine: AsyncEngine, writes: AsyncEngine, currency: str, on: str, missing: str
) -> None:
    # given the same books, and a leg without a rate effective on the payment date
    given = await books(Factory(engine), currency)
    before = await _rows(engine, given.tenant_id)
    # when it is created
    result = await pay_mxn(engine, writes, given, on)
    # then it is the usual field error, and nothing is written
    (error,) = result.errors
    assert error.extensions["code"] == "VALIDATION_FAILED"
    assert error.extensions["errors"] == {
        "input.currency": [
            f"has no FX rate to {currency} effective on or before {on}, "
            f"directly or through USD (none {missing})"
        ]
    }
    assert await _rows(engine, given.tenant_id) == before


async def _rows(engine: AsyncEngine, tenant_id: int) -> tuple[int, ...]:
    """The tenant's payments, ledger lines, events and idempotency keys."""
    counts = []
    async with engine.connect() as connection:
        for model in (m.Payment, m.AccountingTransaction, m.PaymentEvent, m.IdempotencyKey):
            table: Any = model.__table__
            statement = select(func.count()).where(table.c.tenant_id == tenant_id)
            counts.append(int((await connection.execute(statement)).scalar_one()))
    return tuple(counts)
