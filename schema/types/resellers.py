"""Document 002's side of the graph: resellers (partners of kind RESELLER, seen through
their customers' payments), their customers' accounts, and the FX rates that convert
document 003's payments."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from domain import entities as e
from domain import read_catalog as catalog
from domain.filtering import Condition, Op
from domain.statuses import PaymentKind
from resolvers.cursors import encode
from resolvers.nodes import as_reseller
from resolvers.relations import load_related
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
PaymentFilterArg = filter_arg("Payment")
PaymentSortArg = sort_arg("Payment")
RESELLER_KIND = Condition("kind", Op.EQ, PaymentKind.RESELLER.value)


@strawberry.type(description="A reseller's customer account (document 002's account).")
class Account(relay.Node):
    is_type_of = entity_type_check(e.Account)
    id: relay.NodeID[int]
    database_id: int = database_id_field()
    name: str = strawberry.field(description="Display name.")
    created_at: datetime = strawberry.field(description="When it was opened (UTC).")

    @strawberry.field(description="The reseller the account belongs to.")
    async def reseller(self, info: Info) -> ResellerRef | None:
        partner = await load_related(info.context, catalog.RESELLER_OF_ACCOUNT, self)
        return as_reseller(partner)  # type: ignore[return-value]


@strawberry.type(
    description=(
        "A reseller (document 002): a partner of kind RESELLER, with its customers' "
        "accounts and payments. A manager sees its own reseller and every one below it."
    )
)
class Reseller:
    name: str = strawberry.field(description="Display name.")
    external_ref: str = strawberry.field(description="Identifier in the source system.")

    @strawberry.field(description="The global ID of the reseller's Partner.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode("Partner", self.id))  # type: ignore[attr-defined]

    @strawberry.field(description="Numeric id, as document 002's reseller_id.")
    def database_id(self) -> int:
        return int(self.id)  # type: ignore[attr-defined]

    @strawberry.field(description="The same row as a Partner (merchants, portfolio).")
    def partner(self) -> Partner:
        return self  # type: ignore[return-value]

    @strawberry.field(
        description="The reseller above this one, if any (a partner of another kind is not)."
    )
    async def parent(self, info: Info) -> ResellerRef | None:
        partner = await load_related(info.context, catalog.PARENT_OF_PARTNER, self)
        return as_reseller(partner)  # type: ignore[return-value]

    accounts = child_connection(
        catalog.ACCOUNTS_OF_RESELLER, AccountRef, "The reseller's customer accounts."
    )

    @strawberry.field(
        description="The reseller's customers' payments (kind RESELLER), oldest first."
    )
    async def payments(
        self,
        info: Info,
        filter: PaymentFilterArg = None,
        sort: PaymentSortArg = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> PaymentConnectionRef:
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
        return await paged(info, catalog.PAYMENTS_OF_PARTNER, self.id, request)  # type: ignore[attr-defined]


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

    @strawberry.field(description="Numeric id of the stored rate.")
    def database_id(self) -> int:
        return int(self.id)  # type: ignore[attr-defined]

    @strawberry.field(description="Quote units per base unit, e.g. `1.083400`; exact.")
    def rate(self) -> str:
        value, scale = self.rate_value, self.rate_scale  # type: ignore[attr-defined]
        if scale == 0:
            return str(value)
        whole, fraction = divmod(value, 10**scale)
        return f"{whole}.{fraction:0{scale}d}"
