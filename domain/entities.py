"""Read models of the domain: one frozen dataclass per table row the graph exposes.

Field names are the column names; adapters build these from rows, resolvers read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.money import Money
from domain.statuses import (
    DocumentStatus,
    InvoiceStatus,
    LedgerDirection,
    PartnerKind,
    PaymentKind,
    PaymentMethodType,
    PaymentStatus,
    UserRole,
)


@dataclass(frozen=True, slots=True)
class Tenant:
    id: int
    slug: str
    name: str
    base_currency: str  # what a conversion without a direct FX rate goes through
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Partner:
    id: int
    tenant_id: int
    parent_id: int | None
    name: str
    kind: PartnerKind
    external_ref: str
    payout_account: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Merchant:
    id: int
    tenant_id: int
    partner_id: int
    name: str
    external_ref: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Terminal:
    id: int
    tenant_id: int
    merchant_id: int
    serial: str
    label: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Company:
    id: int
    tenant_id: int
    name: str
    tax_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class User:
    id: int
    tenant_id: int
    name: str
    email: str
    role: UserRole
    partner_id: int | None
    company_id: int | None
    locale: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    tenant_id: int
    reseller_id: int
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Address:
    id: int
    tenant_id: int
    company_id: int | None
    name: str
    line1: str
    city: str
    postal_code: str | None
    country_code: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    id: int
    tenant_id: int
    name: str
    method_type: PaymentMethodType
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FxRate:
    """`rate_value / 10**rate_scale` units of the quote currency per unit of the base
    currency, from `effective_on` until the next rate: exact, never a float."""

    id: int
    tenant_id: int
    base_currency: str
    quote_currency: str
    rate_value: int
    rate_scale: int
    effective_on: date
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Invoice:
    id: int
    tenant_id: int
    number: str
    company_id: int | None
    account_id: int | None
    sender_id: int | None
    receiver_id: int | None
    total_amount: int
    paid_amount: int
    currency: str
    status: InvoiceStatus
    issued_on: date
    due_on: date | None
    created_at: datetime
    updated_at: datetime

    @property
    def total(self) -> Money:
        return Money(self.total_amount, self.currency)

    @property
    def paid(self) -> Money:
        return Money(self.paid_amount, self.currency)

    @property
    def outstanding(self) -> Money:
        return self.total - self.paid


@dataclass(frozen=True, slots=True)
class Payment:
    id: int
    tenant_id: int
    kind: PaymentKind
    status: PaymentStatus
    amount: int
    currency: str
    paid_amount: int | None
    settleable_amount: int | None
    discount_amount: int | None
    original_amount: int | None
    original_currency: str | None
    fx_rate_id: int | None  # the (first leg's) rate original_amount was converted at
    fx_rate_from_base_id: int | None  # the second leg's, base -> currency, when crossed
    partner_id: int | None
    merchant_id: int | None
    terminal_id: int | None
    company_id: int | None
    user_id: int | None
    account_id: int | None
    invoice_id: int | None
    sender_id: int | None
    receiver_id: int | None
    payment_method_id: int | None
    authorized: bool
    authorized_by_id: int | None
    authorized_at: datetime | None
    manager_id: int | None
    document_number: str | None
    reference: str | None
    tracking_id: str | None
    description: str | None
    comments: str | None
    period_start: date | None
    period_end: date | None
    cutoff_date: date | None
    payment_date: date | None
    approved_for_payment_at: datetime | None
    paid_at: datetime | None
    sent_at: datetime | None
    received_at: datetime | None
    closed_at: datetime | None
    expiration_date: datetime | None
    requester_ip: str | None
    deleted_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def requested(self) -> Money:
        return Money(self.amount, self.currency)

    def _optional(self, amount: int | None) -> Money | None:
        return None if amount is None else Money(amount, self.currency)

    @property
    def paid(self) -> Money | None:
        return self._optional(self.paid_amount)

    @property
    def settleable(self) -> Money | None:
        return self._optional(self.settleable_amount)

    @property
    def discount(self) -> Money | None:
        return self._optional(self.discount_amount)

    @property
    def original(self) -> Money | None:
        if self.original_amount is None or self.original_currency is None:
            return None
        return Money(self.original_amount, self.original_currency)


@dataclass(frozen=True, slots=True)
class PaymentDetail:
    id: int
    tenant_id: int
    payment_id: int
    partner_id: int | None
    carrier: str
    tracking_number: str | None
    shipment_reference: str | None
    amount: int
    currency: str
    created_at: datetime

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)


@dataclass(frozen=True, slots=True)
class PaymentDocument:
    id: int
    tenant_id: int
    payment_id: int
    document_type: str
    status: DocumentStatus
    required: bool
    rejection_reason: str | None
    reviewed_by_id: int | None
    reviewed_at: datetime | None
    file_name: str | None
    content_type: str | None
    size_bytes: int | None
    sha256: str | None
    storage_key: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AccountingTransaction:
    id: int
    tenant_id: int
    payment_id: int | None
    invoice_id: int | None
    posting_id: str
    account_code: str
    direction: LedgerDirection
    amount: int
    currency: str
    description: str | None
    created_at: datetime

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    id: int
    tenant_id: int
    payment_id: int
    actor_id: int | None
    actor_label: str
    action: str
    from_status: PaymentStatus | None
    to_status: PaymentStatus | None
    comments: str | None
    created_at: datetime
