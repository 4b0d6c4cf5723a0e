"""The root Query."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import strawberry
from strawberry import relay

from domain import entities as e
from domain import read_catalog as catalog
from resolvers import nodes
from schema.compiled_plan import LOOKUP
from schema.document_lists import (
    Length,
    PartnerPaymentList,
    SortBy,
    SortType,
    Start,
    partner_payments,
)
from schema.field_decorators import field
from schema.fields import Info, filter_arg, root_connection
from schema.types.invoices import Address, Invoice
from schema.types.parties import Partner
from schema.types.payment import Payment
from schema.types.payment_parts import AccountingTransaction
from schema.types.resellers import Reseller
from schema.types.viewer import Viewer

IdArg = Annotated[
    strawberry.ID,
    strawberry.argument(description="The global ID, or the numeric database id."),
]


# Inputs built from the listings when the schema is: any value to mypy (filter_arg).
if TYPE_CHECKING:
    CommissionFilterArg: TypeAlias = Any
else:
    CommissionFilterArg = filter_arg("Payment")


def lookup(type_name: str) -> dict[str, Any]:
    """A root lookup's catalog entry: the row id its `id` argument names."""
    return {LOOKUP: lambda id: nodes.row_id(type_name, id)}


@strawberry.type(description="Read the payment graph.")
class Query:
    @field(description="Who is calling: credential, tenant, permissions, scope.")
    def viewer(self, info: Info) -> Viewer:
        return Viewer(principal=info.context.principal)

    @field(description="Any object by its global ID.", graphql_type=relay.Node | None)
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global ID.")],
    ) -> object:
        return await nodes.node(info.context, id)

    @field(description="One payment.", metadata=lookup("Payment"), graphql_type=Payment | None)
    async def payment(self, info: Info, id: IdArg) -> e.Payment:
        return await nodes.by_id(info.context, catalog.PAYMENT_BY_ID, id)

    payments = root_connection(
        catalog.PAYMENTS,
        Payment,
        "Payments: by cursor, or by `page`/`perPage` (invoice payments).",
    )

    @field(description="One invoice.", metadata=lookup("Invoice"), graphql_type=Invoice | None)
    async def invoice(self, info: Info, id: IdArg) -> e.Invoice:
        return await nodes.by_id(info.context, catalog.INVOICE_BY_ID, id)

    invoices = root_connection(
        catalog.INVOICES,
        Invoice,
        "Invoices: by cursor, or by `page`/`perPage` (invoice payments).",
    )

    @field(description="One address.", metadata=lookup("Address"), graphql_type=Address | None)
    async def address(self, info: Info, id: IdArg) -> e.Address:
        return await nodes.by_id(info.context, catalog.ADDRESS_BY_ID, id)

    addresses = root_connection(
        catalog.ADDRESSES,
        Address,
        "Addresses: by cursor, or by `page`/`perPage` (invoice payments).",
    )

    @field(description="One partner.", metadata=lookup("Partner"), graphql_type=Partner | None)
    async def partner(self, info: Info, id: IdArg) -> e.Partner:
        return await nodes.by_id(info.context, catalog.PARTNER_BY_ID, id)

    partners = root_connection(
        catalog.PARTNERS, Partner, "Partners: by cursor, or by `page`/`perPage`."
    )

    @field(
        description=(
            "One reseller (reseller completion): a partner of kind RESELLER; NOT_FOUND for any "
            "other partner or one outside the caller's scope."
        ),
        graphql_type=Reseller | None,
    )
    async def reseller(self, info: Info, id: IdArg) -> e.Partner:
        return await nodes.reseller(info.context, id)

    accounting_transactions = root_connection(
        catalog.ACCOUNTING_TRANSACTIONS,
        AccountingTransaction,
        "Ledger lines (the invoice payments API's accounting transactions): by cursor, or by "
        "`page`/`perPage`; filter by payment, invoice, account, direction or currency.",
    )

    @field(
        description=(
            "Commission payouts: commission payments with offset paging (`start`, `length`), "
            "newest first unless `sortBy` / `sortType` say otherwise."
        )
    )
    async def partner_payments(
        self,
        info: Info,
        filter: CommissionFilterArg = None,
        start: Start = 0,
        length: Length = 100,
        sort_by: SortBy = None,
        sort_type: SortType = None,
    ) -> PartnerPaymentList:
        return await partner_payments(
            info,
            filter,
            0 if start is None else start,
            100 if length is None else length,
            sort_by,
            sort_type,
        )
