"""Indexes that serve the list catalogue (domain.listings): a btree per sortable field,
led by the tenant (root lists) or the parent key (nested lists), and on PostgreSQL a
trigram GIN index per text field that `contains` searches (ILIKE '%...%').

On SQLite the trigram indexes are plain btrees on the column: harmless, and they keep
one set of models for both backends.
"""

from __future__ import annotations

from sqlalchemy import Index, Table

from db.models.base import table_of
from db.models.operations import AccountingTransaction
from db.models.parties import Address, Company, Merchant, Partner, PaymentMethod, Terminal, User
from db.models.payments import Invoice, Payment, PaymentDetail, PaymentDocument

# table -> column tuples; each gets a btree index
BTREE: dict[type, list[tuple[str, ...]]] = {
    Payment: [
        ("tenant_id", "status", "created_at"),
        ("tenant_id", "kind", "created_at"),
        ("tenant_id", "currency", "created_at"),
        ("tenant_id", "paid_at"),
        ("tenant_id", "period_end"),
        ("partner_id", "kind", "created_at"),
    ],
    Invoice: [
        ("tenant_id", "total_amount"),
        ("tenant_id", "due_on"),
        ("tenant_id", "created_at"),
        ("tenant_id", "updated_at"),
    ],
    Address: [("tenant_id", "city"), ("tenant_id", "country_code"), ("tenant_id", "created_at")],
    PaymentDetail: [
        ("payment_id", "carrier"),
        ("payment_id", "amount"),
        ("payment_id", "created_at"),
    ],
    PaymentDocument: [
        ("payment_id", "status"),
        ("payment_id", "document_type"),
        ("payment_id", "created_at"),
    ],
    Partner: [("tenant_id", "kind"), ("tenant_id", "created_at"), ("parent_id", "name")],
    Merchant: [("partner_id", "name"), ("partner_id", "created_at")],
    Terminal: [("merchant_id", "serial"), ("merchant_id", "created_at")],
    Company: [("tenant_id", "name")],
    User: [("tenant_id", "email")],
}

# table -> text columns searched with `contains`
TRIGRAM: dict[type, list[str]] = {
    Payment: ["reference", "document_number", "tracking_id", "description"],
    Invoice: ["number"],
    Address: ["name", "line1", "city", "postal_code", "country_code"],
    PaymentDetail: ["carrier", "tracking_number", "shipment_reference"],
    PaymentDocument: ["document_type"],
    Partner: ["name", "external_ref"],
    Merchant: ["name", "external_ref"],
    Terminal: ["serial", "label"],
    Company: ["name", "tax_id"],
    User: ["name", "email"],
    PaymentMethod: ["name"],
    AccountingTransaction: ["account_code"],
}


def trigram_index_name(table: str, column: str) -> str:
    return f"ix_{table}_{column}_trgm"


def _declare() -> None:
    for model, column_sets in BTREE.items():
        table: Table = table_of(model)
        for columns in column_sets:
            Index(None, *(table.c[name] for name in columns))
    for model, columns in TRIGRAM.items():
        table = table_of(model)
        for name in columns:
            Index(
                trigram_index_name(table.name, name),
                table.c[name],
                postgresql_using="gin",
                postgresql_ops={name: "gin_trgm_ops"},
            )


_declare()
