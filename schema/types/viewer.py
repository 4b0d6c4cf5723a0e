"""`viewer`: who the caller is, as PayGraph sees it, and what it may see."""

from __future__ import annotations

import strawberry

from domain import entities as e
from domain import read_catalog as catalog
from domain.access import visible_payment_kinds
from domain.principal import Principal
from resolvers.relations import load_one
from schema.connection import Connection
from schema.enums import AccessScope, Credential, PaymentKind
from schema.field_decorators import field
from schema.fields import After, First, Info, request_of, root_paged
from schema.types.parties import Partner, Tenant, User


@strawberry.type(description="Who is calling: credential, tenant, permissions and scope.")
class Viewer:
    principal: strawberry.Private[Principal]

    @field(description="How the caller authenticated.")
    def credential(self) -> Credential:
        return self.principal.credential

    @field(description="Which rows the caller sees.")
    def scope(self) -> AccessScope:
        return self.principal.access_scope

    @field(description="Permissions granted to the caller, sorted.")
    def permissions(self) -> list[str]:
        return sorted(self.principal.permissions)

    @field(description="Payment kinds the caller's permissions let it read; null means all.")
    def payment_kinds(self) -> list[PaymentKind] | None:
        kinds = visible_payment_kinds(self.principal.permissions)
        return None if kinds is None else sorted(kinds)

    @field(description="The tenant every answer is scoped to.", graphql_type=Tenant | None)
    async def tenant(self, info: Info) -> e.Tenant | None:
        tenants = info.context.loaders.of(catalog.TENANT_BY_ID)
        return await tenants.load(self.principal.tenant_id)

    @field(
        description="The calling user: an admin, a partner user or a manager.",
        graphql_type=User | None,
    )
    async def user(self, info: Info) -> e.User | None:
        users = info.context.loaders.of(catalog.USER_BY_ID)
        return await load_one(users, self.principal.user_id)

    @field(description="The partner a partner user is restricted to.", graphql_type=Partner | None)
    async def partner(self, info: Info) -> e.Partner | None:
        partners = info.context.loaders.of(catalog.PARTNER_BY_ID)
        return await load_one(partners, self.principal.partner_id)

    @field(description="The reseller a manager's token belongs to.", graphql_type=Partner | None)
    async def reseller(self, info: Info) -> e.Partner | None:
        partners = info.context.loaders.of(catalog.PARTNER_BY_ID)
        return await load_one(partners, self.principal.reseller_id)

    @field(
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
