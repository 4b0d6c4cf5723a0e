"""`viewer`: who the caller is, as PayGraph sees it, and what it may see."""

from __future__ import annotations

import strawberry

from domain import read_catalog as catalog
from domain.access import visible_payment_kinds
from domain.principal import Principal
from resolvers.relations import load_one
from schema.connection import Connection
from schema.enums import AccessScope, Credential, PaymentKind
from schema.fields import After, First, Info, request_of, root_paged
from schema.types.parties import Partner, Tenant, User


@strawberry.type(description="Who is calling: credential, tenant, permissions and scope.")
class Viewer:
    principal: strawberry.Private[Principal]

    @strawberry.field(description="How the caller authenticated.")
    def credential(self) -> Credential:
        return self.principal.credential  # type: ignore[return-value]

    @strawberry.field(description="Which rows the caller sees.")
    def scope(self) -> AccessScope:
        return self.principal.access_scope  # type: ignore[return-value]

    @strawberry.field(description="Permissions granted to the caller, sorted.")
    def permissions(self) -> list[str]:
        return sorted(self.principal.permissions)

    @strawberry.field(
        description="Payment kinds the caller's permissions let it read; null means all."
    )
    def payment_kinds(self) -> list[PaymentKind] | None:
        kinds = visible_payment_kinds(self.principal.permissions)
        return None if kinds is None else sorted(kinds)  # type: ignore[return-value]

    @strawberry.field(description="The tenant every answer is scoped to.")
    async def tenant(self, info: Info) -> Tenant | None:
        tenants = info.context.loaders.of(catalog.TENANT_BY_ID)
        return await tenants.load(self.principal.tenant_id)  # type: ignore[return-value]

    @strawberry.field(description="The calling user: an admin, a partner user or a manager.")
    async def user(self, info: Info) -> User | None:
        users = info.context.loaders.of(catalog.USER_BY_ID)
        return await load_one(users, self.principal.user_id)  # type: ignore[return-value]

    @strawberry.field(description="The partner a partner user is restricted to.")
    async def partner(self, info: Info) -> Partner | None:
        partners = info.context.loaders.of(catalog.PARTNER_BY_ID)
        return await load_one(partners, self.principal.partner_id)  # type: ignore[return-value]

    @strawberry.field(description="The reseller a manager's token belongs to.")
    async def reseller(self, info: Info) -> Partner | None:
        partners = info.context.loaders.of(catalog.PARTNER_BY_ID)
        return await load_one(partners, self.principal.reseller_id)  # type: ignore[return-value]

    @strawberry.field(
        description=(
            "The partners the caller is restricted to (a partner user's own partner, or a "
            "manager's reseller tree), oldest first; null for a tenant-wide caller."
        )
    )
    async def scope_partners(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Partner] | None:
        if self.principal.partner_scope is None:
            return None
        request = request_of("Partner", None, None, first=first, after=after)
        return await root_paged(info, catalog.PARTNERS, request)
