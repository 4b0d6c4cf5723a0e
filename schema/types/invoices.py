"""Invoices and the addresses that send and receive payments (invoice payments)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from domain import entities as e
from domain import read_catalog as catalog
from schema.enums import InvoiceStatus
from schema.field_decorators import field
from schema.fields import child_connection, database_id_field, entity_type_check, to_one
from schema.money import Money
from schema.types.parties import Company

if TYPE_CHECKING:
    from schema.types.payment import Payment
    from schema.types.payment_parts import AccountingTransaction

PaymentRef = Annotated["Payment", strawberry.lazy("schema.types.payment")]
AccountingTransactionRef = Annotated[
    "AccountingTransaction", strawberry.lazy("schema.types.payment_parts")
]


@strawberry.type(description="A postal address acting as sender (payer) or receiver (payee).")
class Address(relay.Node):
    is_type_of = entity_type_check(e.Address)
    id: relay.NodeID[int]
    database_id: int = database_id_field()
    name: str = strawberry.field(description="Addressee.")
    line1: str = strawberry.field(description="Street and number.")
    city: str = strawberry.field(description="City.")
    postal_code: str | None = strawberry.field(description="Postal code.")
    country_code: str = strawberry.field(description="ISO 3166-1 alpha-2 country code.")

    company = to_one(catalog.COMPANY_OF_ADDRESS, Company, "The company at this address.")

    payments_sent = child_connection(
        catalog.PAYMENTS_OF_SENDER, PaymentRef, "Payments this address sent (as payer)."
    )
    payments_received = child_connection(
        catalog.PAYMENTS_OF_RECEIVER,
        PaymentRef,
        "Payments this address received (as payee).",
    )


@strawberry.type(description="An invoice that payments settle.")
class Invoice(relay.Node):
    is_type_of = entity_type_check(e.Invoice)
    id: relay.NodeID[int]
    database_id: int = database_id_field()
    number: str = strawberry.field(description="Invoice number, unique per tenant.")
    status: InvoiceStatus = strawberry.field(description="Settlement state.")
    issued_on: date = strawberry.field(description="Issue date.")
    due_on: date | None = strawberry.field(description="Due date.")
    created_at: datetime = strawberry.field(description="Creation time (UTC).")
    updated_at: datetime = strawberry.field(description="Last change (UTC).")

    @field(description="Invoice total.")
    @staticmethod
    def total(invoice: strawberry.Parent[e.Invoice]) -> Money:
        return Money.of(invoice.total)

    @field(description="Sum of the invoice's live payments, in its currency.")
    @staticmethod
    def paid(invoice: strawberry.Parent[e.Invoice]) -> Money:
        return Money.of(invoice.paid)

    @field(description="What is still owed: total minus paid.")
    @staticmethod
    def outstanding(invoice: strawberry.Parent[e.Invoice]) -> Money:
        return Money.of(invoice.outstanding)

    sender = to_one(catalog.SENDER_OF_INVOICE, Address, "The issuing address.")
    receiver = to_one(catalog.RECEIVER_OF_INVOICE, Address, "The billed address.")
    company = to_one(catalog.COMPANY_OF_INVOICE, Company, "The billed company.")

    payments = child_connection(
        catalog.PAYMENTS_OF_INVOICE,
        PaymentRef,
        "Payments recorded against this invoice and not deleted: they sum to `paid`.",
    )
    accounting_transactions = child_connection(
        catalog.LEDGER_OF_INVOICE,
        AccountingTransactionRef,
        "The invoice's ledger: every line its payments posted, reversals included.",
    )
