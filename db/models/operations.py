"""The ledger and the operational tables: outbox and idempotency keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base
from db.models.parties import created_at, tenant_fk
from db.models.types import BigId, MinorUnits, UTCDateTime, enum_column_check, integer_check
from domain.statuses import IdempotencyStatus, LedgerDirection, OutboxStatus


class AccountingTransaction(Base):
    """One double-entry ledger line. Lines are only ever inserted; corrections reverse."""

    __tablename__ = "accounting_transaction"
    __table_args__ = (
        enum_column_check("direction", LedgerDirection, "direction"),
        integer_check("amount", "amount_integer"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index(None, "payment_id", "id"),
        Index(None, "tenant_id", "posting_id"),
        Index(None, "tenant_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), index=True)
    posting_id: Mapped[str] = mapped_column(String(36))
    account_code: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(MinorUnits)
    currency: Mapped[str] = mapped_column(ForeignKey("currency.code"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()


class Outbox(Base):
    """A notification written in the same transaction as its cause, delivered after commit."""

    __tablename__ = "outbox"
    __table_args__ = (
        enum_column_check("status", OutboxStatus, "status"),
        Index(None, "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotencyKey(Base):
    """A client-chosen key for a money-moving mutation, scoped per tenant."""

    __tablename__ = "idempotency_key"
    __table_args__ = (
        enum_column_check("status", IdempotencyStatus, "status"),
        Index(None, "tenant_id", "key", unique=True),
        Index(None, "expires_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    key: Mapped[str] = mapped_column(String(255))
    operation: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    response: Mapped[str | None] = mapped_column(Text)
    # While in flight: until when the claim holds; after that a retry may take it over.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
