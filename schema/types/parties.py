"""Partners (and their reseller tree), merchants, terminals, companies, users, tenants
and payment methods."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import strawberry
from strawberry import relay

from domain import entities as e
from domain import read_catalog as catalog
from domain.portfolio import DEFAULT_PORTFOLIO_PAGE_SIZE
from schema.compiled_plan import PARTNER_PAGE
from schema.document_lists import (
    FromDate,
    PortfolioPage,
    PortfolioSortField,
    ToDate,
    portfolio_page,
    portfolio_request,
)
from schema.enums import PartnerKind, PaymentMethodType, PaymentStatus, UserRole
from schema.field_decorators import field
from schema.fields import (
    Info,
    child_connection,
    database_id_field,
    entity_type_check,
    filter_arg,
    to_one,
)
from schema.filters import SortDirection
from schema.types.portfolio import Portfolio, portfolio_of

if TYPE_CHECKING:
    from schema.types.payment import Payment

PaymentRef = Annotated["Payment", strawberry.lazy("schema.types.payment")]
PartnerRef = Annotated["Partner", strawberry.lazy("schema.types.parties")]
MerchantRef = Annotated["Merchant", strawberry.lazy("schema.types.parties")]
TerminalRef = Annotated["Terminal", strawberry.lazy("schema.types.parties")]
# Inputs built from the listings when the schema is: any value to mypy (filter_arg).
if TYPE_CHECKING:
    PortfolioFilterArg: TypeAlias = Any
else:
    PortfolioFilterArg = filter_arg("Payment")


@strawberry.type(description="A tenant domain; every business row belongs to exactly one.")
class Tenant:
    id: strawberry.ID = strawberry.field(description="The tenant's numeric id.")
    slug: str = strawberry.field(description="Short stable name of the tenant.")
    name: str = strawberry.field(description="Display name.")
    base_currency: str = strawberry.field(
        description=(
            "ISO 4217 code an invoice payment's conversion goes through when no direct "
            "FX rate joins the paid currency and the invoice's."
        )
    )


@strawberry.type(description="An ISV, VAR, payment facilitator or reseller.")
class Partner(relay.Node):
    is_type_of = entity_type_check(e.Partner)
    id: relay.NodeID[int]
    database_id: int = database_id_field()
    name: str = strawberry.field(description="Display name.")
    kind: PartnerKind = strawberry.field(description="ISV, VAR, PAYFAC or RESELLER.")
    external_ref: str = strawberry.field(description="Identifier in the source system.")
    created_at: datetime = strawberry.field(description="When the partner was created (UTC).")

    parent = to_one(
        catalog.PARENT_OF_PARTNER,
        PartnerRef,
        "The reseller above this partner in the tree, if any.",
    )

    children = child_connection(
        catalog.CHILDREN_OF_PARTNER,
        PartnerRef,
        "Partners directly below this one in the reseller tree.",
    )
    merchants = child_connection(
        catalog.MERCHANTS_OF_PARTNER, MerchantRef, "Merchants that belong to this partner."
    )

    @field(
        description=(
            "Partner portfolio: the partner's acquiring payments across all its merchants and "
            "terminals, by 0-based page, newest first unless sorted otherwise."
        ),
        metadata={PARTNER_PAGE: (catalog.PAYMENTS_OF_PARTNER.name, portfolio_request)},
    )
    @staticmethod
    async def payments(
        partner: strawberry.Parent[e.Partner],
        info: Info,
        page: Annotated[int, strawberry.argument(description="0-based page number.")] = 0,
        page_size: Annotated[
            int, strawberry.argument(description="Rows per page, at most 200.")
        ] = DEFAULT_PORTFOLIO_PAGE_SIZE,
        sort_by: Annotated[
            PortfolioSortField, strawberry.argument(description="What to sort by.")
        ] = PortfolioSortField.CREATED,
        sort_direction: Annotated[
            SortDirection, strawberry.argument(description="ASC or DESC.")
        ] = SortDirection.DESC,
        from_date: FromDate = None,
        to_date: ToDate = None,
        status: Annotated[
            PaymentStatus | None, strawberry.argument(description="Only this status.")
        ] = None,
        filter: PortfolioFilterArg = None,
    ) -> PortfolioPage:
        return await portfolio_page(
            info,
            partner.id,
            page,
            page_size,
            sort_by,
            sort_direction,
            from_date,
            to_date,
            status,
            filter,
        )

    @field(
        description=(
            "Portfolio KPIs (partner portfolio) over the partner's acquiring payments created "
            "between `fromDate` and `toDate` (inclusive; INVALID_DATE_RANGE when reversed)."
        )
    )
    @staticmethod
    def portfolio(
        partner: strawberry.Parent[e.Partner],
        from_date: FromDate = None,
        to_date: ToDate = None,
    ) -> Portfolio:
        return portfolio_of(partner.id, from_date, to_date)


@strawberry.type(description="A merchant processing payments under a partner.")
class Merchant(relay.Node):
    is_type_of = entity_type_check(e.Merchant)
    id: relay.NodeID[int]
    database_id: int = database_id_field()
    name: str = strawberry.field(description="Display name.")
    external_ref: str = strawberry.field(description="Identifier in the source system.")
    created_at: datetime = strawberry.field(description="When the merchant was created (UTC).")

    partner = to_one(catalog.PARTNER_OF_MERCHANT, Partner, "The partner this merchant belongs to.")

    terminals = child_connection(
        catalog.TERMINALS_OF_MERCHANT, TerminalRef, "The merchant's terminals."
    )
    payments = child_connection(
        catalog.PAYMENTS_OF_MERCHANT, PaymentRef, "Payments taken by this merchant."
    )


@strawberry.type(description="A device or channel that processed payments for a merchant.")
class Terminal(relay.Node):
    is_type_of = entity_type_check(e.Terminal)
    id: relay.NodeID[int]
    database_id: int = database_id_field()
    serial: str = strawberry.field(description="Serial number or terminal identifier.")
    label: str | None = strawberry.field(description="Human label.")

    merchant = to_one(catalog.MERCHANT_OF_TERMINAL, Merchant, "The merchant owning this terminal.")


@strawberry.type(description="A company: payer, payee or a partner user's employer.")
class Company(relay.Node):
    is_type_of = entity_type_check(e.Company)
    id: relay.NodeID[int]
    database_id: int = database_id_field()
    name: str = strawberry.field(description="Legal or display name.")
    tax_id: str | None = strawberry.field(description="Tax identifier.")


@strawberry.type(description="A person using PayGraph: admin, partner user or manager.")
class User(relay.Node):
    is_type_of = entity_type_check(e.User)
    id: relay.NodeID[int]
    database_id: int = database_id_field()
    name: str = strawberry.field(description="Full name.")
    email: str = strawberry.field(description="E-mail address.")
    role: UserRole = strawberry.field(description="ADMIN, PARTNER or MANAGER.")
    locale: str = strawberry.field(description="Preferred language for notifications.")

    partner = to_one(catalog.PARTNER_OF_USER, Partner, "The partner a partner user belongs to.")
    company = to_one(catalog.COMPANY_OF_USER, Company, "The user's company.")


@strawberry.type(description="A way of paying: card, bank transfer, check, cash, wallet.")
class PaymentMethod(relay.Node):
    is_type_of = entity_type_check(e.PaymentMethod)
    id: relay.NodeID[int]
    database_id: int = database_id_field()
    name: str = strawberry.field(description="Display name, e.g. `Check`.")
    method_type: PaymentMethodType = strawberry.field(description="Family of the method.")
