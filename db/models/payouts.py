"""Payout attempts: a commission payout recorded before the provider is asked, so a
crash or a timeout in between leaves something to resolve (domain.commission_payouts)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base
from db.models.parties import created_at, tenant_fk
from db.models.types import BigId, MinorUnits, UTCDateTime, enum_column_check, integer_check
from domain.statuses import PayoutAttemptStatus


class PayoutAttempt(Base):
    """One payout asked of the provider. PENDING until its answer is recorded; at most
    one PENDING attempt per payment (the payment is PAYOUT_IN_PROGRESS meanwhile)."""

    __tablename__ = "payout_attempt"
    __table_args__ = (
        enum_column_check("status", PayoutAttemptStatus, "status"),
        integer_check("amount", "amount_integer"),
        Index(None, "payout_key", unique=True),
        # The reconcile job: pending attempts by lease.
        Index(None, "status", "locked_until"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"), index=True)
    # The provider's Idempotency-Key (domain.payouts.payout_key) and what it was asked.
    payout_key: Mapped[str] = mapped_column(String(128))
    amount: Mapped[int] = mapped_column(MinorUnits)
    currency: Mapped[str] = mapped_column(ForeignKey("currency.code"), index=True)
    destination: Mapped[str] = mapped_column(String(128))
    reference: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text)
    # Who asked (the payout is recorded in their name) and their comments.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(200))
    comments: Mapped[str | None] = mapped_column(Text)
    # The idempotency key of the request that started it, completed with the outcome.
    idempotency_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("idempotency_key.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    provider_payout_id: Mapped[str | None] = mapped_column(String(128))
    # The lease of whoever is asking the provider now; NULL: anyone may take it.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = created_at()
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
