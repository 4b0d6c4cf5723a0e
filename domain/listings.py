"""What each listable type can be filtered and sorted by: the one catalogue behind the
GraphQL filter inputs, the sort enums, the SQL compiler and the REST APIs' `sortBy`
strings. Every sortable field has an index on PostgreSQL (migration 0003)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from domain import read_catalog as catalog
from domain.filtering import FieldKind, Listing, Relation, Scalar
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

K = FieldKind


def _id(target: str, description: str, *, nullable: bool = True) -> Scalar:
    return Scalar("", K.ID, description, nullable=nullable, target=target)


def _listing(
    table: catalog.Table[Any],
    scalars: dict[str, Scalar],
    relations: dict[str, tuple[str, tuple[str, ...], str]] | None = None,
) -> Listing:
    # Columns are the field names: fill them in here rather than repeat each name.
    filled = {field: replace(scalar, column=field) for field, scalar in scalars.items()}
    links = {
        field: Relation(field, target, columns, description)
        for field, (target, columns, description) in (relations or {}).items()
    }
    return Listing(table.type_name, table.name, filled, links)


def _own_id(type_name: str) -> Scalar:
    return Scalar("", K.ID, "The row's id (global or numeric).", sortable=True, target=type_name)


def _created() -> Scalar:
    return Scalar("", K.DATETIME, "Creation time (UTC).", sortable=True)


def _updated() -> Scalar:
    return Scalar("", K.DATETIME, "Last change (UTC).", sortable=True)


def _text(description: str, *, nullable: bool = False, sortable: bool = False) -> Scalar:
    return Scalar("", K.TEXT, description, nullable=nullable, sortable=sortable)


PAYMENT = _listing(
    catalog.PAYMENT,
    {
        "id": _own_id("Payment"),
        "tenant_id": Scalar(
            "", K.ID, "Tenant (the invoice payments API's host_id).", target="Tenant"
        ),
        "kind": Scalar("", K.ENUM, "Lifecycle.", sortable=True, enum=PaymentKind),
        "status": Scalar(
            "",
            K.ENUM,
            "Status (the commission payouts API's status / payment_status).",
            sortable=True,
            enum=PaymentStatus,
        ),
        "amount": Scalar("", K.AMOUNT, "Requested amount in minor units.", sortable=True),
        "paid_amount": Scalar("", K.AMOUNT, "Paid amount in minor units.", nullable=True),
        "settleable_amount": Scalar(
            "", K.AMOUNT, "Settleable amount in minor units.", nullable=True
        ),
        "currency": Scalar("", K.CODE, "ISO 4217 code.", sortable=True),
        "authorized": Scalar("", K.BOOLEAN, "Whether it was authorized."),
        "reference": _text("Partner-supplied reference.", nullable=True, sortable=True),
        "document_number": _text("Payment number (reseller completion).", nullable=True),
        "tracking_id": _text("Partner-supplied tracking id.", nullable=True),
        "description": _text("Free-text description.", nullable=True),
        "payment_date": Scalar(
            "",
            K.DATE,
            "Value date (the invoice payments API's date).",
            nullable=True,
            sortable=True,
        ),
        "period_start": Scalar(
            "",
            K.DATE,
            "Commission period start (the commission payouts API's startDate).",
            nullable=True,
            sortable=True,
        ),
        "period_end": Scalar(
            "",
            K.DATE,
            "Commission period end (the commission payouts API's endDate).",
            nullable=True,
            sortable=True,
        ),
        "paid_at": Scalar("", K.DATETIME, "When it was paid.", nullable=True, sortable=True),
        "created_at": _created(),
        "updated_at": _updated(),
        "partner_id": _id("Partner", "Partner (the commission payouts API's partner_id)."),
        "merchant_id": _id("Merchant", "Merchant."),
        "terminal_id": _id("Terminal", "Terminal."),
        "company_id": _id("Company", "Company (the commission payouts API's company_id)."),
        "user_id": _id("User", "Partner user (the commission payouts API's userId)."),
        "invoice_id": _id("Invoice", "Invoice (the invoice payments API's invoice_id)."),
        "sender_id": _id("Address", "Paying address (the invoice payments API's sender_id)."),
        "receiver_id": _id(
            "Address", "Receiving address (the invoice payments API's receiver_id)."
        ),
        "payment_method_id": _id("PaymentMethod", "Payment method."),
        "authorized_by_id": _id(
            "User", "Authorizing user (the invoice payments API's authorized_by_id)."
        ),
    },
    {
        "partner": ("Partner", ("partner_id",), "Payments whose partner matches."),
        "merchant": ("Merchant", ("merchant_id",), "Payments whose merchant matches."),
        "company": ("Company", ("company_id",), "Payments whose company matches."),
        "user": (
            "User",
            ("user_id",),
            "Payments whose partner user matches (the commission payouts API's name).",
        ),
        "authorized_by": ("User", ("authorized_by_id",), "Payments whose authorizer matches."),
        "invoice": ("Invoice", ("invoice_id",), "Payments whose invoice matches."),
        "sender": ("Address", ("sender_id",), "Payments whose sender matches."),
        "receiver": ("Address", ("receiver_id",), "Payments whose receiver matches."),
        "address": (
            "Address",
            ("sender_id", "receiver_id"),
            "Payments whose sender or receiver matches (the invoice payments API's address).",
        ),
        "payment_method": (
            "PaymentMethod",
            ("payment_method_id",),
            "Payments whose method matches.",
        ),
    },
)

INVOICE = _listing(
    catalog.INVOICE,
    {
        "id": _own_id("Invoice"),
        "number": _text("Invoice number.", sortable=True),
        "status": Scalar("", K.ENUM, "Settlement state.", sortable=True, enum=InvoiceStatus),
        "currency": Scalar("", K.CODE, "ISO 4217 code."),
        "total_amount": Scalar("", K.AMOUNT, "Total in minor units.", sortable=True),
        "paid_amount": Scalar("", K.AMOUNT, "Paid so far in minor units."),
        "issued_on": Scalar("", K.DATE, "Issue date.", sortable=True),
        "due_on": Scalar("", K.DATE, "Due date.", nullable=True, sortable=True),
        "created_at": _created(),
        "updated_at": _updated(),
        "company_id": _id("Company", "Billed company."),
        "sender_id": _id("Address", "Issuing address."),
        "receiver_id": _id("Address", "Billed address."),
    },
    {
        "company": ("Company", ("company_id",), "Invoices whose company matches."),
        "sender": ("Address", ("sender_id",), "Invoices whose issuing address matches."),
        "receiver": ("Address", ("receiver_id",), "Invoices whose billed address matches."),
    },
)

ADDRESS = _listing(
    catalog.ADDRESS,
    {
        "id": _own_id("Address"),
        "name": _text("Addressee.", sortable=True),
        "line1": _text("Street and number."),
        "city": _text("City.", sortable=True),
        "postal_code": _text("Postal code.", nullable=True),
        "country_code": Scalar("", K.TEXT, "ISO 3166-1 alpha-2 country.", sortable=True),
        "created_at": _created(),
        "company_id": _id("Company", "Company at this address."),
    },
    {"company": ("Company", ("company_id",), "Addresses whose company matches.")},
)

PAYMENT_DETAIL = _listing(
    catalog.PAYMENT_DETAIL,
    {
        "id": _own_id("PaymentDetail"),
        "partner_id": _id("Partner", "Partner (the commission payouts API's partner_id)."),
        "carrier": _text("Carrier (the commission payouts API's carrier LIKE).", sortable=True),
        "tracking_number": _text("Carrier tracking number.", nullable=True),
        "shipment_reference": _text("Shipment reference.", nullable=True),
        "amount": Scalar("", K.AMOUNT, "Amount in minor units.", sortable=True),
        "currency": Scalar("", K.CODE, "ISO 4217 code."),
        "created_at": _created(),
    },
    {"partner": ("Partner", ("partner_id",), "Rows whose partner matches.")},
)

PAYMENT_DOCUMENT = _listing(
    catalog.PAYMENT_DOCUMENT,
    {
        "id": _own_id("PaymentDocument"),
        "document_type": _text("Kind of document.", sortable=True),
        "status": Scalar("", K.ENUM, "Review state.", sortable=True, enum=DocumentStatus),
        "required": Scalar("", K.BOOLEAN, "Must be approved before paying."),
        "reviewed_at": Scalar("", K.DATETIME, "Review time.", nullable=True),
        "created_at": _created(),
        "reviewed_by_id": _id("User", "Reviewer."),
    },
)

PARTNER = _listing(
    catalog.PARTNER,
    {
        "id": _own_id("Partner"),
        "name": _text("Display name.", sortable=True),
        "kind": Scalar(
            "", K.ENUM, "ISV, VAR, PAYFAC or RESELLER.", sortable=True, enum=PartnerKind
        ),
        "external_ref": _text("Identifier in the source system.", sortable=True),
        "created_at": _created(),
        "parent_id": _id("Partner", "Parent in the reseller tree."),
    },
    {"parent": ("Partner", ("parent_id",), "Partners whose parent matches.")},
)

MERCHANT = _listing(
    catalog.MERCHANT,
    {
        "id": _own_id("Merchant"),
        "name": _text("Display name.", sortable=True),
        "external_ref": _text("Identifier in the source system."),
        "created_at": _created(),
        "partner_id": _id("Partner", "Owning partner.", nullable=False),
    },
    {"partner": ("Partner", ("partner_id",), "Merchants whose partner matches.")},
)

TERMINAL = _listing(
    catalog.TERMINAL,
    {
        "id": _own_id("Terminal"),
        "serial": _text("Serial number.", sortable=True),
        "label": _text("Human label.", nullable=True),
        "created_at": _created(),
    },
)

COMPANY = _listing(
    catalog.COMPANY,
    {
        "id": _own_id("Company"),
        "name": _text("Legal or display name.", sortable=True),
        "tax_id": _text("Tax identifier.", nullable=True),
    },
)

USER = _listing(
    catalog.USER,
    {
        "id": _own_id("User"),
        "name": _text("Full name (the commission payouts API's name LIKE).", sortable=True),
        "email": _text("E-mail address.", sortable=True),
        "role": Scalar("", K.ENUM, "ADMIN, PARTNER or MANAGER.", enum=UserRole),
        "partner_id": _id("Partner", "Partner of a partner user."),
        "company_id": _id("Company", "Employer."),
    },
)

PAYMENT_METHOD = _listing(
    catalog.PAYMENT_METHOD,
    {
        "id": _own_id("PaymentMethod"),
        "name": _text("Display name, e.g. `Check`.", sortable=True),
        "method_type": Scalar("", K.ENUM, "Family of the method.", enum=PaymentMethodType),
    },
)

ACCOUNTING_TRANSACTION = _listing(
    catalog.ACCOUNTING_TRANSACTION,
    {
        "id": _own_id("AccountingTransaction"),
        "created_at": _created(),
        "account_code": _text("Ledger account, e.g. `cash`."),
        "direction": Scalar("", K.ENUM, "DEBIT or CREDIT.", enum=LedgerDirection),
        "amount": Scalar("", K.AMOUNT, "Amount in minor units (always positive)."),
        "currency": Scalar("", K.CODE, "ISO 4217 code."),
        "payment_id": _id(
            "Payment", "Payment that posted it (the invoice payments API's payment_id)."
        ),
        "invoice_id": _id("Invoice", "Invoice of that payment."),
    },
    {
        "payment": ("Payment", ("payment_id",), "Lines whose payment matches."),
        "invoice": ("Invoice", ("invoice_id",), "Lines whose invoice matches."),
    },
)

ACCOUNT = _listing(
    catalog.ACCOUNT,
    {
        "id": _own_id("Account"),
        "created_at": Scalar("", K.DATETIME, "When it was opened (UTC)."),
    },
)

PAYMENT_EVENT = _listing(
    catalog.PAYMENT_EVENT,
    {"id": _own_id("PaymentEvent"), "created_at": _created()},
)

LISTINGS: dict[str, Listing] = {
    listing.name: listing
    for listing in (
        PAYMENT,
        INVOICE,
        ADDRESS,
        PAYMENT_DETAIL,
        PAYMENT_DOCUMENT,
        PARTNER,
        MERCHANT,
        TERMINAL,
        COMPANY,
        USER,
        PAYMENT_METHOD,
        ACCOUNTING_TRANSACTION,
        PAYMENT_EVENT,
        ACCOUNT,
    )
}
