"""The enumerations of the payment domain and which statuses belong to which lifecycle."""

from __future__ import annotations

from enum import StrEnum


class PaymentKind(StrEnum):
    """Selects the lifecycle a payment follows (one per source document)."""

    COMMISSION = "commission"  # the commission payouts API: partner commission payouts
    ACQUIRING = "acquiring"  # the partner portfolio API: partner -> merchant -> terminal payments
    RESELLER = "reseller"  # the reseller completion API: reseller customers' payments
    INVOICE = "invoice"  # the invoice payments API: ERP payments against invoices


class PaymentStatus(StrEnum):
    # commission (commission payouts)
    GENERATED = "generated"
    PAYMENT_REQUESTED = "payment_requested"
    DOCUMENTS_REJECTED = "documents_rejected"
    APPROVED_FOR_PAYMENT = "approved_for_payment"
    PAYOUT_IN_PROGRESS = "payout_in_progress"  # sent to the provider, its answer not recorded
    UNDER_REVIEW = "under_review"
    PAYMENT_REJECTED = "payment_rejected"
    PAID = "paid"
    MANUALLY_PAID = "manually_paid"  # the document's `manually-paid`
    # acquiring (partner portfolio)
    CREATED = "created"
    PROCESSING = "processing"
    COMPLETED = "completed"  # also the reseller lifecycle's final state
    INVALID = "invalid"
    UNDERPAID = "underpaid"
    OVERPAID = "overpaid"
    REFUNDED = "refunded"
    # reseller (reseller completion)
    WAITING_FOR_PAYMENT = "waiting_for_payment"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    # invoice (invoice payments)
    RECORDED = "recorded"
    DELETED = "deleted"


S = PaymentStatus
STATUSES_BY_KIND: dict[PaymentKind, tuple[PaymentStatus, ...]] = {
    PaymentKind.COMMISSION: (
        S.GENERATED,
        S.PAYMENT_REQUESTED,
        S.DOCUMENTS_REJECTED,
        S.APPROVED_FOR_PAYMENT,
        S.PAYOUT_IN_PROGRESS,
        S.UNDER_REVIEW,
        S.PAYMENT_REJECTED,
        S.PAID,
        S.MANUALLY_PAID,
    ),
    PaymentKind.ACQUIRING: (
        S.CREATED,
        S.PROCESSING,
        S.COMPLETED,
        S.INVALID,
        S.UNDERPAID,
        S.OVERPAID,
        S.REFUNDED,
    ),
    PaymentKind.RESELLER: (S.WAITING_FOR_PAYMENT, S.EXPIRED, S.COMPLETED, S.CANCELLED),
    PaymentKind.INVOICE: (S.RECORDED, S.DELETED),
}
del S


class DocumentStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"


class PartnerKind(StrEnum):
    ISV = "isv"
    VAR = "var"
    PAYFAC = "payfac"
    RESELLER = "reseller"


class UserRole(StrEnum):
    ADMIN = "admin"
    PARTNER = "partner"
    MANAGER = "manager"


class PaymentMethodType(StrEnum):
    CARD = "card"
    BANK_TRANSFER = "bank_transfer"
    CHECK = "check"
    CASH = "cash"
    WALLET = "wallet"


class LedgerDirection(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class PayoutAttemptStatus(StrEnum):
    """A payout attempt is PENDING until the provider's answer is recorded."""

    PENDING = "pending"
    PAID = "paid"
    DECLINED = "declined"
    FAILED = "failed"  # the provider answered that it made no payout


class IdempotencyStatus(StrEnum):
    IN_FLIGHT = "in_flight"
    COMPLETED = "completed"
