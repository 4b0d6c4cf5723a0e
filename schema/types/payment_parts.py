"""What hangs off a payment: detail rows, documents, ledger lines and audit events."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from domain import entities as e
from domain import read_catalog as catalog
from schema.compiled_plan import MONEY
from schema.enums import DocumentStatus, LedgerDirection, PaymentStatus
from schema.field_decorators import field
from schema.field_kinds import lean
from schema.fields import database_id_field, entity_type_check, to_one
from schema.money import Money
from schema.types.parties import Partner, User

if TYPE_CHECKING:
    from schema.types.payment import Payment

PaymentRef = Annotated["Payment", strawberry.lazy("schema.types.payment")]


@strawberry.type(description="A detail row of a payment, e.g. one shipment (commission payouts).")
class PaymentDetail(relay.Node):
    is_type_of = entity_type_check(e.PaymentDetail)
    id: relay.NodeID[int]
    database_id: int = database_id_field()
    carrier: str = strawberry.field(description="Carrier of the shipment.")
    tracking_number: str | None = strawberry.field(description="Carrier tracking number.")
    shipment_reference: str | None = strawberry.field(description="Shipment reference.")
    created_at: datetime = strawberry.field(description="Creation time (UTC).")

    @lean("Amount of this row.", **{MONEY: ("amount", "currency")})
    @staticmethod
    def amount(detail: strawberry.Parent[e.PaymentDetail]) -> Money:
        return Money.of(detail.money)

    payment = to_one(catalog.PAYMENT_OF_DETAIL, PaymentRef, "The payment this row belongs to.")
    partner = to_one(catalog.PARTNER_OF_DETAIL, Partner, "The partner of this row.")


@strawberry.type(description="A document submitted for review before a commission is paid.")
class PaymentDocument(relay.Node):
    is_type_of = entity_type_check(e.PaymentDocument)
    id: relay.NodeID[int]
    database_id: int = database_id_field()
    document_type: str = strawberry.field(description="Kind of document, e.g. `invoice`.")
    status: DocumentStatus = strawberry.field(description="PENDING, APPROVED or REJECTED.")
    required: bool = strawberry.field(description="Must be approved before paying.")
    rejection_reason: str | None = strawberry.field(description="Why it was rejected.")
    reviewed_at: datetime | None = strawberry.field(description="When it was reviewed (UTC).")
    file_name: str | None = strawberry.field(description="Original file name.")
    content_type: str | None = strawberry.field(description="MIME type of the file.")
    size_bytes: int | None = strawberry.field(description="File size in bytes.")
    sha256: str | None = strawberry.field(description="SHA-256 of the file, hex.")
    created_at: datetime = strawberry.field(description="Upload time (UTC).")

    @field(
        description=(
            "Where to download the file: a path on this server that answers only callers "
            "who may read this document, with the same credentials as /graphql. Null until "
            "a file is uploaded."
        )
    )
    @staticmethod
    def download_path(document: strawberry.Parent[e.PaymentDocument]) -> str | None:
        if document.storage_key is None:
            return None
        return f"/documents/{document.id}/content"

    reviewed_by = to_one(catalog.REVIEWER_OF_DOCUMENT, User, "Who reviewed it.")
    payment = to_one(catalog.PAYMENT_OF_DOCUMENT, PaymentRef, "The payment this document supports.")


@strawberry.type(description="A double-entry ledger line; lines are never changed, only reversed.")
class AccountingTransaction(relay.Node):
    is_type_of = entity_type_check(e.AccountingTransaction)
    id: relay.NodeID[int]
    database_id: int = database_id_field()
    posting_id: str = strawberry.field(description="Lines of one balanced posting share it.")
    account_code: str = strawberry.field(description="Ledger account, e.g. `cash`.")
    direction: LedgerDirection = strawberry.field(description="DEBIT or CREDIT.")
    description: str | None = strawberry.field(description="Narrative.")
    created_at: datetime = strawberry.field(description="Posting time (UTC).")

    @lean("Amount of the line (always positive).", **{MONEY: ("amount", "currency")})
    @staticmethod
    def amount(line: strawberry.Parent[e.AccountingTransaction]) -> Money:
        return Money.of(line.money)

    payment = to_one(
        catalog.PAYMENT_OF_LEDGER_LINE, PaymentRef, "The payment that caused this line."
    )


@strawberry.type(description="An audit record: who changed a payment, when, and how.")
class PaymentEvent(relay.Node):
    is_type_of = entity_type_check(e.PaymentEvent)
    id: relay.NodeID[int]
    database_id: int = database_id_field()
    action: str = strawberry.field(description="What was done, e.g. `approve_document`.")
    actor_label: str = strawberry.field(description="Name of who did it, kept as written.")
    from_status: PaymentStatus | None = strawberry.field(description="Status before.")
    to_status: PaymentStatus | None = strawberry.field(description="Status after.")
    comments: str | None = strawberry.field(description="Comments given with the action.")
    created_at: datetime = strawberry.field(description="When it happened (UTC).")

    actor = to_one(catalog.ACTOR_OF_EVENT, User, "The user who acted, if a user did.")
