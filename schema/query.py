"""The root Query."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from resolvers import nodes
from schema.connection import Connection
from schema.fields import After, First, Info, root_paged
from schema.types.invoices import Address, Invoice
from schema.types.parties import Partner
from schema.types.payment import Payment
from schema.types.viewer import Viewer

IdArg = Annotated[
    strawberry.ID,
    strawberry.argument(description="The global ID, or the numeric database id."),
]


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

    @strawberry.field(description="One payment.")
    async def payment(self, info: Info, id: IdArg) -> Payment | None:
        return await nodes.by_id(info.context, "Payment", id)  # type: ignore[no-any-return]

    @strawberry.field(description="Payments, oldest first.")
    async def payments(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Payment]:
        return await root_paged(info, "payments", first, after)

    @strawberry.field(description="One invoice.")
    async def invoice(self, info: Info, id: IdArg) -> Invoice | None:
        return await nodes.by_id(info.context, "Invoice", id)  # type: ignore[no-any-return]

    @strawberry.field(description="Invoices, oldest first.")
    async def invoices(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Invoice]:
        return await root_paged(info, "invoices", first, after)

    @strawberry.field(description="One address.")
    async def address(self, info: Info, id: IdArg) -> Address | None:
        return await nodes.by_id(info.context, "Address", id)  # type: ignore[no-any-return]

    @strawberry.field(description="Addresses, oldest first.")
    async def addresses(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Address]:
        return await root_paged(info, "addresses", first, after)

    @strawberry.field(description="One partner.")
    async def partner(self, info: Info, id: IdArg) -> Partner | None:
        return await nodes.by_id(info.context, "Partner", id)  # type: ignore[no-any-return]

    @strawberry.field(description="Partners, oldest first.")
    async def partners(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Partner]:
        return await root_paged(info, "partners", first, after)
