"""Invoices, payments (all four kinds in one table) and what hangs off a payment."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base
from db.models.parties import created_at, tenant_fk
from db.models.types import (
    BigId,
    MinorUnits,
    UTCDateTime,
    enum_column_check,
    integer_check,
    utcnow,
)
from domain.statuses import STATUSES_BY_KIND, DocumentStatus, InvoiceStatus, PaymentKind


def _status_by_kind_check() -> CheckConstraint:
    clauses = [
        f"(kind = '{kind.value}' AND status IN ({', '.join(repr(s.value) for s in statuses)}))"
        for kind, statuses in STATUSES_BY_KIND.items()
    ]
    return CheckConstraint(" OR ".join(clauses), name="status_by_kind")


def updated_at() -> Mapped[datetime]:
    return mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def money_column(nullable: bool = False) -> Mapped[int]:
    return mapped_column(MinorUnits, nullable=nullable)


class Invoice(Base):
    __tablename__ = "invoice"
    __table_args__ = (
        enum_column_check("status", InvoiceStatus, "status"),
        integer_check("total_amount", "total_amount_integer"),
        integer_check("paid_amount", "paid_amount_integer"),
        CheckConstraint("total_amount >= 0", name="total_amount_non_negative"),
        Index(None, "tenant_id", "number", unique=True),
        Index(None, "tenant_id", "status"),
        Index(None, "tenant_id", "issued_on"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    number: Mapped[str] = mapped_column(String(64))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("address.id"), index=True)
    receiver_id: Mapped[int | None] = mapped_column(ForeignKey("address.id"), index=True)
    total_amount: Mapped[int] = money_column()
    paid_amount: Mapped[int] = mapped_column(MinorUnits, default=0)
    currency: Mapped[str] = mapped_column(ForeignKey("currency.code"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class FxRate(Base):
    """quote per base = rate_value / 10**rate_scale on `effective_on`: exact, no floats."""

    __tablename__ = "fx_rate"
    __table_args__ = (
        CheckConstraint("rate_value > 0", name="rate_positive"),
        CheckConstraint("rate_scale BETWEEN 0 AND 18", name="rate_scale_range"),
        Index(None, "tenant_id", "base_currency", "quote_currency", "effective_on", unique=True),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    base_currency: Mapped[str] = mapped_column(ForeignKey("currency.code"), index=True)
    quote_currency: Mapped[str] = mapped_column(ForeignKey("currency.code"), index=True)
    rate_value: Mapped[int] = mapped_column(BigInteger)
    rate_scale: Mapped[int]
    effective_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = created_at()


class Payment(Base):
    """One table for every kind of payment; `kind` selects the lifecycle."""

    __tablename__ = "payment"
    __table_args__ = (
        enum_column_check("kind", PaymentKind, "kind"),
        _status_by_kind_check(),
        integer_check("amount", "amount_integer"),
        integer_check("paid_amount", "paid_amount_integer"),
        integer_check("settleable_amount", "settleable_amount_integer"),
        integer_check("discount_amount", "discount_amount_integer"),
        integer_check("original_amount", "original_amount_integer"),
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        Index(None, "tenant_id", "created_at"),
        Index(None, "tenant_id", "status"),
        Index(None, "tenant_id", "kind", "status"),
        Index(None, "tenant_id", "payment_date"),
        Index(None, "tenant_id", "updated_at"),
        Index(None, "tenant_id", "amount"),
        Index(None, "tenant_id", "reference"),
        Index(None, "tenant_id", "period_start", "period_end"),
        Index(None, "tenant_id", "document_number"),
        Index(None, "partner_id", "created_at"),
        # The expiry job: reseller payments still waiting, by expiration date.
        Index(None, "status", "expiration_date"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))
    amount: Mapped[int] = money_column()
    currency: Mapped[str] = mapped_column(ForeignKey("currency.code"), index=True)
    paid_amount: Mapped[int | None] = money_column(nullable=True)
    settleable_amount: Mapped[int | None] = money_column(nullable=True)
    discount_amount: Mapped[int | None] = money_column(nullable=True)
    original_amount: Mapped[int | None] = money_column(nullable=True)
    original_currency: Mapped[str | None] = mapped_column(ForeignKey("currency.code"), index=True)
    fx_rate_id: Mapped[int | None] = mapped_column(ForeignKey("fx_rate.id"), index=True)
    # The second leg of a conversion through the tenant's base currency (base -> currency).
    fx_rate_from_base_id: Mapped[int | None] = mapped_column(ForeignKey("fx_rate.id"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchant.id"), index=True)
    terminal_id: Mapped[int | None] = mapped_column(ForeignKey("terminal.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), index=True)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("address.id"), index=True)
    receiver_id: Mapped[int | None] = mapped_column(ForeignKey("address.id"), index=True)
    payment_method_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment_method.id"), index=True
    )
    authorized: Mapped[bool] = mapped_column(default=False)
    authorized_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    authorized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    document_number: Mapped[str | None] = mapped_column(String(64))
    reference: Mapped[str | None] = mapped_column(String(128))
    tracking_id: Mapped[str | None] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text)
    comments: Mapped[str | None] = mapped_column(Text)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    cutoff_date: Mapped[date | None] = mapped_column(Date)
    payment_date: Mapped[date | None] = mapped_column(Date)
    approved_for_payment_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expiration_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requester_ip: Mapped[str | None] = mapped_column(String(45))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optimistic concurrency: every transition bumps it in its conditional UPDATE.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    details: Mapped[list[PaymentDetail]] = relationship(lazy="raise")
    documents: Mapped[list[PaymentDocument]] = relationship(lazy="raise")
    events: Mapped[list[PaymentEvent]] = relationship(lazy="raise")


class PaymentDetail(Base):
    """A detail row of a payment, e.g. one shipment (commission payouts)."""

    __tablename__ = "payment_detail"
    __table_args__ = (
        integer_check("amount", "amount_integer"),
        Index(None, "payment_id", "id"),
        Index(None, "tenant_id", "carrier"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(128))
    shipment_reference: Mapped[str | None] = mapped_column(String(128))
    amount: Mapped[int] = money_column()
    currency: Mapped[str] = mapped_column(ForeignKey("currency.code"), index=True)
    created_at: Mapped[datetime] = created_at()


class PaymentDocument(Base):
    """A document a partner uploads for review before a commission is paid."""

    __tablename__ = "payment_document"
    __table_args__ = (
        enum_column_check("status", DocumentStatus, "status"),
        CheckConstraint("size_bytes IS NULL OR size_bytes >= 0", name="size_non_negative"),
        Index(None, "payment_id", "id"),
        Index(None, "tenant_id", "status"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"))
    document_type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=DocumentStatus.PENDING.value)
    required: Mapped[bool] = mapped_column(default=True)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    file_name: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(127))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    storage_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class PaymentEvent(Base):
    """The audit trail: who did what to a payment, when, from which status to which."""

    __tablename__ = "payment_event"
    __table_args__ = (Index(None, "payment_id", "id"), Index(None, "tenant_id", "created_at"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    comments: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
