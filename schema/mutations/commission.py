"""The commission payout workflow, one mutation per transition. Errors are
top-level GraphQL errors with `extensions.code` (INVALID_STATE carries the current
`status` and the `reason`); payloads carry the payment as it now is."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Protocol

import strawberry
from strawberry.file_uploads import Upload

from domain import entities as e
from domain.idempotent import Settled
from domain.storage import Readable
from resolvers import commission as resolve
from schema.field_decorators import mutation
from schema.fields import Info
from schema.types.payment import Payment
from schema.types.payment_parts import PaymentDocument

PaymentIdArg = Annotated[
    strawberry.ID,
    strawberry.argument(description="The payment: its global ID or numeric database id."),
]
DocumentIdArg = Annotated[
    strawberry.ID,
    strawberry.argument(description="The document: its global ID or numeric database id."),
]
KeyArg = Annotated[
    str,
    strawberry.argument(
        description=(
            "A client-chosen unique key (e.g. a UUID) for this request. Resending the same "
            "key and input replays the first result without doing it again; the same key "
            "with other input fails with IDEMPOTENCY_KEY_REUSED; while the first request "
            "runs, IDEMPOTENCY_KEY_IN_USE. Keys are kept 24 hours, per tenant."
        )
    ),
]


class UploadedFile(Protocol):
    """An Upload argument's value: the file Starlette parsed (its UploadFile), where
    Strawberry types the scalar as bytes."""

    @property
    def file(self) -> Readable: ...


@strawberry.type(description="The payment after a workflow transition.")
class PaymentTransitionPayload:
    payment: e.Payment = strawberry.field(
        description="The payment as it now is.", graphql_type=Payment
    )
    success: bool = strawberry.field(
        default=True,
        description="Always true (as in the commission payouts and reseller completion APIs).",
    )


@strawberry.type(
    description=("The payment after an idempotent mutation: a payout, a completion or a recording.")
)
class PaymentSettlementPayload:
    payment: e.Payment = strawberry.field(
        description="The payment as it now is.", graphql_type=Payment
    )
    replayed: bool = strawberry.field(
        description="True when this answer replays an earlier request with the same key."
    )
    success: bool = strawberry.field(
        default=True,
        description="Always true (as in the commission payouts and reseller completion APIs).",
    )


@strawberry.type(description="The uploaded document and its payment.")
class AddPaymentDocumentPayload:
    payment: e.Payment = strawberry.field(
        description="The payment as it now is.", graphql_type=Payment
    )
    document: e.PaymentDocument = strawberry.field(
        description="The document holding the file.", graphql_type=PaymentDocument
    )
    success: bool = strawberry.field(default=True, description="Always true.")


def moved(payment: e.Payment) -> PaymentTransitionPayload:
    return PaymentTransitionPayload(payment=payment)


def settled(settled: Settled) -> PaymentSettlementPayload:
    return PaymentSettlementPayload(payment=settled.payment, replayed=settled.replayed)


@strawberry.type
class CommissionMutations:
    @mutation(
        description=(
            "A partner user requests the payout of its own commission payment: "
            "GENERATED -> PAYMENT_REQUESTED, once every required document is uploaded."
        )
    )
    async def request_partner_payment(
        self, info: Info, id: PaymentIdArg
    ) -> PaymentTransitionPayload:
        return moved(await resolve.request_partner_payment(info.context, id))

    @mutation(
        description=(
            "A partner user uploads a document (PDF, PNG or JPEG, recognised by its first "
            "bytes; a file name of at most 255 characters) for review, as a GraphQL "
            "multipart request. A document of the same type that is not approved yet gets "
            "the new file and goes back to PENDING; a new type is a new required document."
        )
    )
    async def add_payment_document(
        self,
        info: Info,
        payment_id: PaymentIdArg,
        document_type: Annotated[
            str,
            strawberry.argument(description="invoice, tax_certificate or bank_statement."),
        ],
        file: Annotated[
            UploadedFile,
            strawberry.argument(description="The file (multipart).", graphql_type=Upload),
        ],
    ) -> AddPaymentDocumentPayload:
        # The spooled file Starlette parsed the upload into (on disk past 1 MB), read from
        # there a chunk at a time: the upload is never held in memory whole.
        added = await resolve.add_payment_document(
            info.context,
            payment_id,
            document_type,
            file.file,
            file_name=getattr(file, "filename", None) or "document",
            content_type=getattr(file, "content_type", None) or "application/octet-stream",
        )
        return AddPaymentDocumentPayload(payment=added.payment, document=added.document)

    @mutation(
        description=(
            "Approve a document (as in the commission payouts API, it needs "
            "view-partner-payments). Allowed while the payment is PAYMENT_REQUESTED, "
            "DOCUMENTS_REJECTED, UNDER_REVIEW or PAYMENT_REJECTED. When every required "
            "document is approved the payment becomes APPROVED_FOR_PAYMENT and Slack hears of it."
        )
    )
    async def approve_payment_document(
        self, info: Info, payment_id: PaymentIdArg, document_id: DocumentIdArg
    ) -> PaymentTransitionPayload:
        return moved(await resolve.approve_payment_document(info.context, payment_id, document_id))

    @mutation(
        description=(
            "Reject a document with a reason (required, not blank); the payment becomes "
            "DOCUMENTS_REJECTED and the partner user gets an e-mail in its language."
        )
    )
    async def reject_payment_document(
        self,
        info: Info,
        payment_id: PaymentIdArg,
        document_id: DocumentIdArg,
        rejection_reason: Annotated[
            str, strawberry.argument(description="Why; shown to the partner.")
        ],
    ) -> PaymentTransitionPayload:
        return moved(
            await resolve.reject_payment_document(
                info.context, payment_id, document_id, rejection_reason
            )
        )

    @mutation(
        description="Send a payment to internal review (UNDER_REVIEW); comments are required."
    )
    async def send_payment_to_internal_review(
        self,
        info: Info,
        id: PaymentIdArg,
        comments: Annotated[str, strawberry.argument(description="Why it needs review.")],
    ) -> PaymentTransitionPayload:
        return moved(await resolve.send_to_internal_review(info.context, id, comments))

    @mutation(
        description=(
            "Execute the commission payout through the payout provider: only from "
            "APPROVED_FOR_PAYMENT with every required document approved, a payout "
            "account on file and the cutoff date reached. The payout is recorded first "
            "(PAYOUT_IN_PROGRESS), then the provider is asked; its answer makes it PAID, "
            "with ledger lines and a Slack 'commissions paid'. After PAYOUT_TIMEOUT, "
            "PAYOUT_FAILED or TRANSACTION_FAILED the payout stays in progress: retry with "
            "the same idempotency key (or any key) to ask the provider again under the "
            "same payout key; it never pays twice."
        )
    )
    async def pay_partner_payment(
        self,
        info: Info,
        id: PaymentIdArg,
        idempotency_key: KeyArg,
        comments: Annotated[
            str | None, strawberry.argument(description="Optional comments.")
        ] = None,
    ) -> PaymentSettlementPayload:
        return settled(
            await resolve.pay_partner_payment(info.context, id, comments, idempotency_key)
        )

    @mutation(
        description=(
            "Reject the payout after approval (same eligibility as paying): -> "
            "DOCUMENTS_REJECTED, approval cleared, reviewed documents back to PENDING, and "
            "a Slack message with the reason."
        )
    )
    async def reject_partner_payment(
        self,
        info: Info,
        id: PaymentIdArg,
        comments: Annotated[
            str | None, strawberry.argument(description="Shown to the partner.")
        ] = None,
    ) -> PaymentTransitionPayload:
        return moved(await resolve.reject_partner_payment(info.context, id, comments))

    @mutation(
        description=(
            "Record a payout made outside PayGraph: -> MANUALLY_PAID at `paidAt` (ISO-8601, "
            "not in the future), with ledger lines and a Slack 'commissions paid'. Refused "
            "(INVALID_STATE, reason PAYOUT_IN_PROGRESS) while a payout through the provider "
            "is in progress."
        )
    )
    async def mark_partner_payment_as_paid(
        self,
        info: Info,
        id: PaymentIdArg,
        paid_at: Annotated[datetime, strawberry.argument(description="When it was paid.")],
        idempotency_key: KeyArg,
    ) -> PaymentSettlementPayload:
        return settled(
            await resolve.mark_partner_payment_as_paid(info.context, id, paid_at, idempotency_key)
        )
