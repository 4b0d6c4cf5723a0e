"""The root Query."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from resolvers import nodes
from resolvers.relations import load_one
from schema.connection import Connection
from schema.fields import After, First, Info, root_paged
from schema.types.invoices import Address, Invoice
from schema.types.parties import Partner, Tenant, User
from schema.types.payment import Payment

IdArg = Annotated[
    strawberry.ID,
    strawberry.argument(description="The global ID, or the numeric database id."),
]


@strawberry.type(description="Who is calling, as PayGraph sees it.")
class Viewer:
    credential: str = strawberry.field(description="`jwt` or `api_token`.")
    permissions: list[str] = strawberry.field(description="Permissions granted to the caller.")
    tenant_id: strawberry.Private[int]
    user_id: strawberry.Private[int | None]
    partner_id: strawberry.Private[int | None]

    @strawberry.field(description="The tenant every answer is scoped to.")
    async def tenant(self, info: Info) -> Tenant | None:
        return await info.context.loaders.tenant_by_id.load(self.tenant_id)  # type: ignore[return-value]

    @strawberry.field(description="The calling user, when the credential names one.")
    async def user(self, info: Info) -> User | None:
        return await load_one(info.context.loaders.user_by_id, self.user_id)  # type: ignore[return-value]

    @strawberry.field(description="The partner a partner user is restricted to.")
    async def partner(self, info: Info) -> Partner | None:
        return await load_one(info.context.loaders.partner_by_id, self.partner_id)  # type: ignore[return-value]


@strawberry.type(description="Read the payment graph.")
class Query:
    @strawberry.field(description="Who is calling: credential, tenant, permissions, scope.")
    def viewer(self, info: Info) -> Viewer:
        principal = info.context.principal
        return Viewer(
            credential=principal.credential,
            permissions=sorted(principal.permissions),
            tenant_id=principal.tenant_id,
            user_id=principal.user_id,
            partner_id=principal.partner_id,
        )

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
