"""The Payment type: one type for every kind, with all its relations."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

import strawberry
from strawberry import relay

from domain import entities as e
from domain import read_catalog as catalog
from domain.paging import ListRequest
from resolvers import commission as commission_resolvers
from resolvers.nodes import as_reseller
from resolvers.relations import load_related
from schema.compiled_plan import AMOUNTS, MONEY
from schema.connection import Connection
from schema.document_lists import (
    DEFAULT_DETAIL_LENGTH,
    Length,
    SortBy,
    SortType,
    Start,
    document_sort,
    offset_window,
)
from schema.enums import CommissionAction, PaymentKind, PaymentStatus, TransitionBlock
from schema.field_decorators import field
from schema.field_kinds import CHILDREN, ChildList, PageOrPending, lean
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
    request_of,
    sort_arg,
    to_one,
)
from schema.money import Money, PaymentAmount, PaymentAmounts
from schema.types.invoices import Address, Invoice
from schema.types.parties import Company, Merchant, Partner, PaymentMethod, Terminal, User
from schema.types.payment_parts import (
    AccountingTransaction,
    PaymentDetail,
    PaymentDocument,
    PaymentEvent,
)
from schema.types.resellers import Account, FxRate, Reseller

# Inputs built from the listings when the schema is: any value to mypy (filter_arg).
if TYPE_CHECKING:
    DetailFilterArg: TypeAlias = Any
    DetailSortArg: TypeAlias = Any
else:
    DetailFilterArg = filter_arg("PaymentDetail")
    DetailSortArg = sort_arg("PaymentDetail")


def _details_request(
    filter: Any,
    sort: Any,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    start: int | None,
    length: int | None,
    sort_by: str | None,
    sort_type: str | None,
) -> ListRequest:
    offset = None
    if start is not None or length is not None:
        offset = offset_window(start or 0, DEFAULT_DETAIL_LENGTH if length is None else length)
    return request_of(
        "PaymentDetail",
        filter,
        sort,
        first=first,
        after=after,
        last=last,
        before=before,
        offset=offset,
        sort_pairs=document_sort("PaymentDetail", sort, sort_by, sort_type, "id"),
    )


DETAILS = ChildList(catalog.DETAILS_OF_PAYMENT.name, _details_request)


@strawberry.type(
    description=(
        "A workflow action and whether the viewer may take it now, so a dashboard can "
        "enable its buttons without repeating the rules."
    )
)
class AvailableTransition:
    action: CommissionAction = strawberry.field(description="The action.")
    mutation: str = strawberry.field(description="The mutation that takes it.")
    allowed: bool = strawberry.field(description="Whether the viewer may take it now.")
    reason: TransitionBlock | None = strawberry.field(
        description="Why not, when it is not allowed."
    )


@strawberry.type(
    description=(
        "A payment of any kind: a partner commission payout, an acquiring payment, a "
        "reseller customer's payment or an ERP payment against an invoice."
    )
)
class Payment(relay.Node):
    is_type_of = entity_type_check(e.Payment)
    id: relay.NodeID[int]
    database_id: int = database_id_field()
    kind: PaymentKind = strawberry.field(description="Which lifecycle this payment follows.")
    status: PaymentStatus = strawberry.field(description="Current status in its lifecycle.")
    currency: str = strawberry.field(description="ISO 4217 code of the payment.")
    authorized: bool = strawberry.field(description="Whether the payment was authorized.")
    authorized_at: datetime | None = strawberry.field(description="When it was authorized.")
    document_number: str | None = strawberry.field(
        description="Payment number (the reseller completion API's document_id)."
    )
    reference: str | None = strawberry.field(description="Partner-supplied reference.")
    tracking_id: str | None = strawberry.field(description="Partner-supplied tracking id.")
    description: str | None = strawberry.field(description="Free-text description.")
    comments: str | None = strawberry.field(description="Comments of the last review action.")
    period_start: date | None = strawberry.field(description="Commission period start.")
    period_end: date | None = strawberry.field(description="Commission period end.")
    cutoff_date: date | None = strawberry.field(description="Earliest payout date.")
    payment_date: date | None = strawberry.field(description="Value date (invoice payments).")
    approved_for_payment_at: datetime | None = strawberry.field(
        description="When every required document was approved."
    )
    paid_at: datetime | None = strawberry.field(description="When it was paid.")
    sent_at: datetime | None = strawberry.field(description="When the payer sent it.")
    received_at: datetime | None = strawberry.field(description="When the payee received it.")
    closed_at: datetime | None = strawberry.field(description="When it was completed.")
    expiration_date: datetime | None = strawberry.field(description="When it expires unpaid.")
    requester_ip: str | None = strawberry.field(
        description="Address the completion request came from (reseller completion)."
    )
    deleted_at: datetime | None = strawberry.field(
        description="When an invoice payment was deleted (its status is then DELETED)."
    )
    created_at: datetime = strawberry.field(description="Creation time (UTC).")
    updated_at: datetime = strawberry.field(description="Last change (UTC).")

    @lean("Requested amount (the payment total).", **{MONEY: ("amount", "currency")})
    @staticmethod
    def amount(payment: strawberry.Parent[e.Payment]) -> Money:
        return Money.of(payment.requested)

    @lean(
        "Requested, paid and settleable amounts (partner portfolio).",
        **{
            AMOUNTS: {
                "requested": ("amount", "currency"),
                "paid": ("paid_amount", "currency"),
                "settleable": ("settleable_amount", "currency"),
            }
        },
    )
    @staticmethod
    def amounts(payment: strawberry.Parent[e.Payment]) -> PaymentAmounts:
        return PaymentAmounts(
            requested=PaymentAmount.of(payment.requested),
            paid=PaymentAmount.of(payment.paid),
            settleable=PaymentAmount.of(payment.settleable),
        )

    @lean("Amount actually paid, when known.", **{MONEY: ("paid_amount", "currency")})
    @staticmethod
    def paid_amount(payment: strawberry.Parent[e.Payment]) -> Money | None:
        return Money.of(payment.paid)

    @lean(
        "Amount that can be settled to the merchant, when known.",
        **{MONEY: ("settleable_amount", "currency")},
    )
    @staticmethod
    def settleable_amount(payment: strawberry.Parent[e.Payment]) -> Money | None:
        return Money.of(payment.settleable)

    @lean("Discount granted, when any.", **{MONEY: ("discount_amount", "currency")})
    @staticmethod
    def discount_amount(payment: strawberry.Parent[e.Payment]) -> Money | None:
        return Money.of(payment.discount)

    @lean("The amount as entered, in its own currency, before conversion (invoice payments).")
    @staticmethod
    def original_amount(payment: strawberry.Parent[e.Payment]) -> Money | None:
        return Money.of(payment.original)

    @field(
        description=(
            "Detail rows (e.g. shipments; the commission payouts API's /details). Pages by "
            "cursor, or by `start`/`length` offsets with `sortBy`/`sortType` as that API does."
        ),
        metadata={CHILDREN: DETAILS},
        graphql_type=Connection[PaymentDetail],
    )
    @staticmethod
    def details(
        payment: strawberry.Parent[e.Payment],
        info: Info,
        filter: DetailFilterArg = None,
        sort: DetailSortArg = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        start: Start = None,
        length: Length = None,
        sort_by: SortBy = None,
        sort_type: SortType = None,
    ) -> PageOrPending:
        request = _details_request(
            filter, sort, first, after, last, before, start, length, sort_by, sort_type
        )
        return DETAILS.page(info.context, payment.id, request)

    documents = child_connection(
        catalog.DOCUMENTS_OF_PAYMENT,
        PaymentDocument,
        "Documents submitted for review, oldest first.",
    )
    accounting_transactions = child_connection(
        catalog.LEDGER_OF_PAYMENT,
        AccountingTransaction,
        "Ledger lines this payment posted, oldest first.",
    )
    events = child_connection(
        catalog.EVENTS_OF_PAYMENT,
        PaymentEvent,
        "The audit trail of this payment, oldest first.",
    )

    invoice = to_one(catalog.INVOICE_OF_PAYMENT, Invoice, "The invoice this payment settles.")

    @field(
        description=(
            "The reseller completion API's `invoices` relationship: the invoice this payment "
            "settles, as a list (empty when there is none)."
        ),
        graphql_type=list[Invoice],
    )
    @staticmethod
    async def invoices(payment: strawberry.Parent[e.Payment], info: Info) -> list[e.Invoice]:
        invoice = await load_related(info.context, catalog.INVOICE_OF_PAYMENT, payment)
        return [] if invoice is None else [invoice]

    @field(
        description="The reseller whose customer owes this payment (reseller completion).",
        graphql_type=Reseller | None,
    )
    @staticmethod
    async def reseller(payment: strawberry.Parent[e.Payment], info: Info) -> e.Partner | None:
        if payment.kind is not PaymentKind.RESELLER:
            return None
        partner = await load_related(info.context, catalog.PARTNER_OF_PAYMENT, payment)
        return as_reseller(partner)

    account = to_one(
        catalog.ACCOUNT_OF_PAYMENT,
        Account,
        "The reseller customer's account (reseller completion).",
    )

    fx_rate = to_one(
        catalog.FX_RATE_OF_PAYMENT,
        FxRate,
        "The rate `amount` was converted at from `originalAmount` (invoice payments), "
        "when the payment was made in another currency than its invoice's. Without a "
        "direct rate the conversion goes through the tenant's base currency: this is "
        "then its first leg (paid currency -> base) and `fxRateFromBase` its second.",
    )

    fx_rate_from_base = to_one(
        catalog.FX_RATE_FROM_BASE_OF_PAYMENT,
        FxRate,
        "The second leg of a conversion through the tenant's base currency (base -> "
        "the invoice's currency), applied after `fxRate` and rounded once with it; null "
        "when the payment was converted at a direct rate or not at all.",
    )

    sender = to_one(catalog.SENDER_OF_PAYMENT, Address, "The paying address.")

    receiver = to_one(catalog.RECEIVER_OF_PAYMENT, Address, "The receiving address.")

    partner = to_one(
        catalog.PARTNER_OF_PAYMENT,
        Partner,
        "The partner owning the payment (payee of a commission).",
    )

    merchant = to_one(catalog.MERCHANT_OF_PAYMENT, Merchant, "The merchant that took the payment.")

    terminal = to_one(
        catalog.TERMINAL_OF_PAYMENT, Terminal, "The terminal that processed the payment."
    )

    company = to_one(catalog.COMPANY_OF_PAYMENT, Company, "The company the payment concerns.")

    payment_method = to_one(
        catalog.PAYMENT_METHOD_OF_PAYMENT, PaymentMethod, "The payment method used."
    )

    authorized_by = to_one(
        catalog.AUTHORIZER_OF_PAYMENT, User, "The user who authorized the payment."
    )

    user = to_one(catalog.USER_OF_PAYMENT, User, "The partner user a commission is paid to.")

    manager = to_one(
        catalog.MANAGER_OF_PAYMENT, User, "The reseller manager who completed the payment."
    )

    @field(
        description=(
            "Commission payments: each workflow action with whether the viewer may take it "
            "now and, if not, why. Empty for other kinds."
        )
    )
    @staticmethod
    async def available_transitions(
        payment: strawberry.Parent[e.Payment], info: Info
    ) -> list[AvailableTransition]:
        options = await commission_resolvers.available_transitions(info.context, payment)
        return [
            AvailableTransition(
                action=option.action,
                mutation=option.operation.partition(".")[2],
                allowed=option.allowed,
                reason=option.blocked_by,
            )
            for option in options
        ]
