"""The reseller completion side of the graph: resellers (partners of kind RESELLER, seen through
their customers' payments), their customers' accounts, and the FX rates that convert
invoice payments."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import strawberry
from strawberry import relay

from domain import entities as e
from domain import read_catalog as catalog
from domain.filtering import Condition, Op
from domain.statuses import PaymentKind
from resolvers.cursors import encode
from resolvers.nodes import as_reseller
from resolvers.relations import load_related
from schema.connection import Connection
from schema.field_decorators import field
from schema.fields import (
    After,
    Before,
    First,
    Info,
    Last,
    child_connection,
    database_id_field,
    entity_type_check,
    filter_arg,
    paged,
    request_of,
    sort_arg,
)
from schema.types.parties import Partner

if TYPE_CHECKING:
    from schema.types.payment import Payment
    from schema.types.payment_connection import PaymentConnection

PaymentRef = Annotated["Payment", strawberry.lazy("schema.types.payment")]
PaymentConnectionRef = Annotated[
    "PaymentConnection", strawberry.lazy("schema.types.payment_connection")
]
ResellerRef = Annotated["Reseller", strawberry.lazy("schema.types.resellers")]
AccountRef = Annotated["Account", strawberry.lazy("schema.types.resellers")]
# Inputs built from the listings when the schema is: any value to mypy (filter_arg).
if TYPE_CHECKING:
    PaymentFilterArg: TypeAlias = Any
    PaymentSortArg: TypeAlias = Any
else:
    PaymentFilterArg = filter_arg("Payment")
    PaymentSortArg = sort_arg("Payment")
RESELLER_KIND = Condition("kind", Op.EQ, PaymentKind.RESELLER.value)


@strawberry.type(
    description="A reseller's customer account (the reseller completion API's account)."
)
class Account(relay.Node):
    is_type_of = entity_type_check(e.Account)
    id: relay.NodeID[int]
    database_id: int = database_id_field()
    name: str = strawberry.field(description="Display name.")
    created_at: datetime = strawberry.field(description="When it was opened (UTC).")

    @field(description="The reseller the account belongs to.", graphql_type=ResellerRef | None)
    @staticmethod
    async def reseller(account: strawberry.Parent[e.Account], info: Info) -> e.Partner | None:
        partner = await load_related(info.context, catalog.RESELLER_OF_ACCOUNT, account)
        return as_reseller(partner)


@strawberry.type(
    description=(
        "A reseller (reseller completion): a partner of kind RESELLER, with its customers' "
        "accounts and payments. A manager sees its own reseller and every one below it."
    )
)
class Reseller:
    name: str = strawberry.field(description="Display name.")
    external_ref: str = strawberry.field(description="Identifier in the source system.")

    @field(description="The global ID of the reseller's Partner.")
    @staticmethod
    def id(reseller: strawberry.Parent[e.Partner]) -> strawberry.ID:
        return strawberry.ID(encode("Partner", reseller.id))

    @field(description="Numeric id, as the reseller completion API's reseller_id.")
    @staticmethod
    def database_id(reseller: strawberry.Parent[e.Partner]) -> int:
        return int(reseller.id)

    @field(description="The same row as a Partner (merchants, portfolio).", graphql_type=Partner)
    @staticmethod
    def partner(reseller: strawberry.Parent[e.Partner]) -> e.Partner:
        return reseller

    @field(
        description="The reseller above this one, if any (a partner of another kind is not).",
        graphql_type=ResellerRef | None,
    )
    @staticmethod
    async def parent(reseller: strawberry.Parent[e.Partner], info: Info) -> e.Partner | None:
        partner = await load_related(info.context, catalog.PARENT_OF_PARTNER, reseller)
        return as_reseller(partner)

    accounts = child_connection(
        catalog.ACCOUNTS_OF_RESELLER, AccountRef, "The reseller's customer accounts."
    )

    @field(
        description="The reseller's customers' payments (kind RESELLER), oldest first.",
        graphql_type=PaymentConnectionRef,
    )
    @staticmethod
    async def payments(
        reseller: strawberry.Parent[e.Partner],
        info: Info,
        filter: PaymentFilterArg = None,
        sort: PaymentSortArg = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Any]:
        request = request_of(
            "Payment",
            filter,
            sort,
            first=first,
            after=after,
            last=last,
            before=before,
            extra=RESELLER_KIND,
        )
        return await paged(info, catalog.PAYMENTS_OF_PARTNER, reseller.id, request)


@strawberry.type(
    description=(
        "An exchange rate: `rate` units of `quoteCurrency` per unit of `baseCurrency` from "
        "`effectiveOn`, exact as a decimal string."
    )
)
class FxRate:
    base_currency: str = strawberry.field(description="ISO 4217 code converted from.")
    quote_currency: str = strawberry.field(description="ISO 4217 code converted to.")
    effective_on: date = strawberry.field(description="First day the rate applies.")

    @field(description="Numeric id of the stored rate.")
    @staticmethod
    def database_id(rate: strawberry.Parent[e.FxRate]) -> int:
        return int(rate.id)

    @field(description="Quote units per base unit, e.g. `1.083400`; exact.")
    @staticmethod
    def rate(rate: strawberry.Parent[e.FxRate]) -> str:
        value, scale = rate.rate_value, rate.rate_scale
        if scale == 0:
            return str(value)
        whole, fraction = divmod(value, 10**scale)
        return f"{whole}.{fraction:0{scale}d}"
