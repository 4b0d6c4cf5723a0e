"""Reseller completion, and invoice payments: payments against
invoices. Errors are top-level GraphQL errors with `extensions.code`; the invoice payments API's
422 arrives as VALIDATION_FAILED with `extensions.errors` = `{field path: [messages]}`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import strawberry

from resolvers import payments as resolve
from resolvers.payments import PaymentFields
from schema.field_decorators import mutation
from schema.fields import Info
from schema.mutations.commission import (
    KeyArg,
    PaymentIdArg,
    PaymentSettlementPayload,
    PaymentTransitionPayload,
    moved,
    settled,
)
from schema.scalars import BigInt

MethodIdArg = Annotated[
    strawberry.ID,
    strawberry.argument(
        description=(
            "The payment method (the reseller completion API's payment_method_id); "
            "PAYMENT-002 if none."
        )
    ),
]
TotalArg = Annotated[
    BigInt | None,
    strawberry.argument(
        description=(
            "Optional: the payment total in minor units; when given it must equal the "
            "payment's (PAYMENT_TOTAL_MISMATCH otherwise)."
        )
    ),
]
CurrencyCodeArg = Annotated[
    str | None,
    strawberry.argument(
        description="Optional ISO 4217 code; when given it must be the payment's (PAYMENT-003)."
    ),
]


@strawberry.input(
    description="The invoice payments API's payment fields; every one may be left out."
)
class InvoicePaymentInput:
    amount: BigInt | None = strawberry.field(
        default=None,
        description="Amount in minor units of `currency`, greater than 0 (amount_cents).",
    )
    currency: str | None = strawberry.field(
        default=None,
        description=(
            "ISO 4217 code; the invoice's by default. Another currency is converted into "
            "the invoice's at the FX rate effective on `paymentDate`, or without one "
            "through the tenant's base currency at the two rates effective that day."
        ),
    )
    payment_method_id: strawberry.ID | None = strawberry.field(
        default=None, description="The payment method used."
    )
    sender_id: strawberry.ID | None = strawberry.field(
        default=None, description="The paying address; the invoice's billed address by default."
    )
    receiver_id: strawberry.ID | None = strawberry.field(
        default=None, description="The receiving address; the invoice's issuer by default."
    )
    payment_date: date | None = strawberry.field(
        default=None,
        description="Value date (the invoice payments API's date): today (UTC) by default.",
    )
    sent_at: datetime | None = strawberry.field(default=None, description="When it was sent.")
    received_at: datetime | None = strawberry.field(
        default=None, description="When it was received."
    )
    reference: str | None = strawberry.field(default=None, description="Your reference.")
    description: str | None = strawberry.field(default=None, description="Free text.")
    authorized: bool | None = strawberry.field(
        default=None,
        description="Record it authorized by the caller (needs authorize-payments too).",
    )


@strawberry.input(
    description="A payment against an invoice (the invoice payments API's POST /payments)."
)
class CreatePaymentInput(InvoicePaymentInput):
    invoice_id: strawberry.ID | None = strawberry.field(
        default=None, description="The invoice paid: required (`can't be blank` otherwise)."
    )


@strawberry.input(
    description=(
        "A change to an invoice payment (the invoice payments API's PATCH): the fields given "
        "change. When what it books changes (a new amount, currency, or a date with another FX "
        "rate), the old posting is reversed, the new one booked and the authorization "
        "cleared."
    )
)
class UpdatePaymentInput:
    amount: BigInt | None = strawberry.field(default=None, description="New amount.")
    currency: str | None = strawberry.field(default=None, description="New currency.")
    payment_method_id: strawberry.ID | None = strawberry.field(
        default=None, description="New payment method."
    )
    sender_id: strawberry.ID | None = strawberry.field(default=None, description="New payer.")
    receiver_id: strawberry.ID | None = strawberry.field(default=None, description="New payee.")
    payment_date: date | None = strawberry.field(default=None, description="New value date.")
    sent_at: datetime | None = strawberry.field(default=None, description="When it was sent.")
    received_at: datetime | None = strawberry.field(
        default=None, description="When it was received."
    )
    reference: str | None = strawberry.field(default=None, description="Your reference.")
    description: str | None = strawberry.field(default=None, description="Free text.")


def _fields(data: Any) -> PaymentFields:
    return PaymentFields(
        amount=data.amount,
        currency=data.currency,
        payment_method_id=data.payment_method_id,
        sender_id=data.sender_id,
        receiver_id=data.receiver_id,
        payment_date=data.payment_date,
        sent_at=data.sent_at,
        received_at=data.received_at,
        reference=data.reference,
        description=data.description,
        authorized=getattr(data, "authorized", None),
    )


@strawberry.type
class PaymentMutations:
    @mutation(
        description=(
            "Reseller completion: complete a reseller customer's payment by its number, when it "
            "was paid elsewhere. For managers (X-Api-Token) and tenant admins with "
            "complete-payments; the reseller must be the manager's own or one below it. "
            "Only WAITING_FOR_PAYMENT and EXPIRED payments (INVALID_STATE otherwise)."
        )
    )
    async def complete_payment(
        self,
        info: Info,
        reseller_id: Annotated[
            strawberry.ID, strawberry.argument(description="The payment's reseller.")
        ],
        document_id: Annotated[
            str, strawberry.argument(description="The payment number (PAYMENT-001 if none).")
        ],
        payment_method_id: MethodIdArg,
        idempotency_key: KeyArg,
        total: TotalArg = None,
        currency_code: CurrencyCodeArg = None,
    ) -> PaymentSettlementPayload:
        return settled(
            await resolve.complete_payment(
                info.context,
                reseller_id,
                document_id,
                payment_method_id,
                total,
                currency_code,
                idempotency_key,
            )
        )

    @mutation(description="Reseller completion: complete a reseller payment by its id.")
    async def complete_payment_by_id(
        self,
        info: Info,
        id: PaymentIdArg,
        payment_method_id: MethodIdArg,
        idempotency_key: KeyArg,
        total: TotalArg = None,
        currency_code: CurrencyCodeArg = None,
    ) -> PaymentSettlementPayload:
        return settled(
            await resolve.complete_payment_by_id(
                info.context, id, payment_method_id, total, currency_code, idempotency_key
            )
        )

    @mutation(
        description=(
            "Invoice payments: record a payment against an invoice, with its ledger posting; "
            "the invoice's paid amount and status follow."
        )
    )
    async def create_payment(
        self,
        info: Info,
        input: Annotated[
            CreatePaymentInput, strawberry.argument(description="The payment's fields.")
        ],
        idempotency_key: KeyArg,
    ) -> PaymentSettlementPayload:
        return settled(
            await resolve.create_payment(
                info.context, input.invoice_id, _fields(input), idempotency_key
            )
        )

    @mutation(
        description="The invoice payments API's nested create: a payment against the given invoice."
    )
    async def create_invoice_payment(
        self,
        info: Info,
        invoice_id: Annotated[strawberry.ID, strawberry.argument(description="The invoice.")],
        input: Annotated[
            InvoicePaymentInput, strawberry.argument(description="The payment's fields.")
        ],
        idempotency_key: KeyArg,
    ) -> PaymentSettlementPayload:
        return settled(
            await resolve.create_invoice_payment(
                info.context, invoice_id, _fields(input), idempotency_key
            )
        )

    @mutation(description="Invoice payments: change an invoice payment.")
    async def update_payment(
        self,
        info: Info,
        id: PaymentIdArg,
        input: Annotated[
            UpdatePaymentInput, strawberry.argument(description="The fields to change.")
        ],
    ) -> PaymentTransitionPayload:
        return moved(await resolve.update_payment(info.context, id, _fields(input)))

    @mutation(
        description=(
            "Invoice payments: delete an invoice payment. It stays readable as DELETED with its "
            "ledger, whose posting is reversed; the invoice no longer counts it."
        )
    )
    async def delete_payment(self, info: Info, id: PaymentIdArg) -> PaymentTransitionPayload:
        return moved(await resolve.delete_payment(info.context, id))

    @mutation(description="Invoice payments: authorize an invoice payment, recording who and when.")
    async def authorize_payment(self, info: Info, id: PaymentIdArg) -> PaymentTransitionPayload:
        return moved(await resolve.authorize_payment(info.context, id))
