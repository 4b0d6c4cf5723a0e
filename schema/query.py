"""The root Query."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry import relay

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


CommissionFilterArg = filter_arg("Payment")


def lookup(type_name: str) -> dict[str, Any]:
    """A root lookup's catalog entry: the row id its `id` argument names."""
    return {LOOKUP: lambda id: nodes.row_id(type_name, id)}


@strawberry.type(description="Read the payment graph.")
class Query:
    @strawberry.field(description="Who is calling: credential, tenant, permissions, scope.")
    def viewer(self, info: Info) -> Viewer:
        return Viewer(principal=info.context.principal)

    @strawberry.field(description="Any object by its global ID.")
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global ID.")],
    ) -> relay.Node | None:
        return await nodes.node(info.context, id)  # type: ignore[no-any-return]

    @strawberry.field(description="One payment.", metadata=lookup("Payment"))
    async def payment(self, info: Info, id: IdArg) -> Payment | None:
        return await nodes.by_id(info.context, "Payment", id)  # type: ignore[no-any-return]

    payments = root_connection(
        catalog.PAYMENTS,
        Payment,
        "Payments: by cursor, or by `page`/`perPage` (document 003).",
    )

    @strawberry.field(description="One invoice.", metadata=lookup("Invoice"))
    async def invoice(self, info: Info, id: IdArg) -> Invoice | None:
        return await nodes.by_id(info.context, "Invoice", id)  # type: ignore[no-any-return]

    invoices = root_connection(
        catalog.INVOICES,
        Invoice,
        "Invoices: by cursor, or by `page`/`perPage` (document 003).",
    )

    @strawberry.field(description="One address.", metadata=lookup("Address"))
    async def address(self, info: Info, id: IdArg) -> Address | None:
        return await nodes.by_id(info.context, "Address", id)  # type: ignore[no-any-return]

    addresses = root_connection(
        catalog.ADDRESSES,
        Address,
        "Addresses: by cursor, or by `page`/`perPage` (document 003).",
    )

    @strawberry.field(description="One partner.", metadata=lookup("Partner"))
    async def partner(self, info: Info, id: IdArg) -> Partner | None:
        return await nodes.by_id(info.context, "Partner", id)  # type: ignore[no-any-return]

    partners = root_connection(
        catalog.PARTNERS, Partner, "Partners: by cursor, or by `page`/`perPage`."
    )

    @strawberry.field(
        description=(
            "One reseller (document 002): a partner of kind RESELLER; NOT_FOUND for any "
            "other partner or one outside the caller's scope."
        )
    )
    async def reseller(self, info: Info, id: IdArg) -> Reseller | None:
        return await nodes.reseller(info.context, id)  # type: ignore[no-any-return]

    accounting_transactions = root_connection(
        catalog.ACCOUNTING_TRANSACTIONS,
        AccountingTransaction,
        "Ledger lines (document 003's accounting transactions): by cursor, or by "
        "`page`/`perPage`; filter by payment, invoice, account, direction or currency.",
    )

    @strawberry.field(
        description=(
            "Document 000: commission payments with offset paging (`start`, `length`), "
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
