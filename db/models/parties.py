"""Tenants and the parties around payments: partners, merchants, terminals, companies,
users, reseller accounts, addresses and payment methods."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base
from db.models.types import BigId, UTCDateTime, enum_column_check, utcnow
from domain.statuses import PartnerKind, PaymentMethodType, UserRole


def tenant_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("tenant.id"), index=True)


def created_at() -> Mapped[datetime]:
    return mapped_column(UTCDateTime, default=utcnow)


class Currency(Base):
    """ISO 4217 reference data; rows come from domain.currencies via the migration."""

    __tablename__ = "currency"
    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    numeric_code: Mapped[int] = mapped_column(unique=True)
    exponent: Mapped[int]
    name: Mapped[str] = mapped_column(String(80))


class Tenant(Base):
    """A tenant domain (the invoice payments API's host_id); every business row belongs to one."""

    __tablename__ = "tenant"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # An FX conversion without a direct rate goes through it (domain.fx).
    base_currency: Mapped[str] = mapped_column(
        ForeignKey("currency.code"), index=True, default="USD", server_default="USD"
    )
    created_at: Mapped[datetime] = created_at()


class Partner(Base):
    """ISV, VAR, payfac or reseller; `parent_id` forms the reseller tree."""

    __tablename__ = "partner"
    __table_args__ = (
        enum_column_check("kind", PartnerKind, "kind"),
        UniqueConstraint("tenant_id", "external_ref"),
        Index(None, "tenant_id", "name"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    external_ref: Mapped[str] = mapped_column(String(64))
    payout_account: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at()

    parent: Mapped[Partner | None] = relationship(
        remote_side="Partner.id", back_populates="children", lazy="raise"
    )
    children: Mapped[list[Partner]] = relationship(back_populates="parent", lazy="raise")


class Merchant(Base):
    __tablename__ = "merchant"
    __table_args__ = (UniqueConstraint("tenant_id", "external_ref"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    external_ref: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at()


class Terminal(Base):
    __tablename__ = "terminal"
    __table_args__ = (UniqueConstraint("tenant_id", "serial"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"), index=True)
    serial: Mapped[str] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_at()


class Company(Base):
    __tablename__ = "company"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    name: Mapped[str] = mapped_column(String(200))
    tax_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at()


class User(Base):
    """Admins, partner users and reseller managers."""

    __tablename__ = "user_account"
    __table_args__ = (
        enum_column_check("role", UserRole, "role"),
        UniqueConstraint("tenant_id", "email"),
        Index(None, "tenant_id", "name"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    locale: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = created_at()


class Account(Base):
    """A reseller's customer account (the reseller completion API's account_id)."""

    __tablename__ = "account"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    reseller_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_at()


class Address(Base):
    """A sender or receiver of payments (invoice payments)."""

    __tablename__ = "address"
    __table_args__ = (Index(None, "tenant_id", "name"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    line1: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country_code: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = created_at()


class PaymentMethod(Base):
    __tablename__ = "payment_method"
    __table_args__ = (enum_column_check("method_type", PaymentMethodType, "method_type"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    name: Mapped[str] = mapped_column(String(100))
    method_type: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = created_at()
