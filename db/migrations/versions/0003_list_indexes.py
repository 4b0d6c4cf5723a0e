"""list indexes: a btree per sortable field and, on PostgreSQL, trigram GIN indexes for
the text fields lists search with `contains`

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 12:40:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _trigram(table: str, column: str) -> None:
    # ILIKE '%text%' can use a trigram GIN index; on SQLite it is a plain btree.
    op.create_index(
        f"ix_{table}_{column}_trgm",
        table,
        [column],
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
    )


def upgrade() -> None:
    if _postgresql():
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        op.f("ix_payment_tenant_id_status_created_at"),
        "payment",
        ["tenant_id", "status", "created_at"],
    )
    op.create_index(
        op.f("ix_payment_tenant_id_kind_created_at"), "payment", ["tenant_id", "kind", "created_at"]
    )
    op.create_index(
        op.f("ix_payment_tenant_id_currency_created_at"),
        "payment",
        ["tenant_id", "currency", "created_at"],
    )
    op.create_index(op.f("ix_payment_tenant_id_paid_at"), "payment", ["tenant_id", "paid_at"])
    op.create_index(op.f("ix_payment_tenant_id_period_end"), "payment", ["tenant_id", "period_end"])
    op.create_index(
        op.f("ix_payment_partner_id_kind_created_at"),
        "payment",
        ["partner_id", "kind", "created_at"],
    )
    op.create_index(
        op.f("ix_invoice_tenant_id_total_amount"), "invoice", ["tenant_id", "total_amount"]
    )
    op.create_index(op.f("ix_invoice_tenant_id_due_on"), "invoice", ["tenant_id", "due_on"])
    op.create_index(op.f("ix_invoice_tenant_id_created_at"), "invoice", ["tenant_id", "created_at"])
    op.create_index(op.f("ix_invoice_tenant_id_updated_at"), "invoice", ["tenant_id", "updated_at"])
    op.create_index(op.f("ix_address_tenant_id_city"), "address", ["tenant_id", "city"])
    op.create_index(
        op.f("ix_address_tenant_id_country_code"), "address", ["tenant_id", "country_code"]
    )
    op.create_index(op.f("ix_address_tenant_id_created_at"), "address", ["tenant_id", "created_at"])
    op.create_index(
        op.f("ix_payment_detail_payment_id_carrier"), "payment_detail", ["payment_id", "carrier"]
    )
    op.create_index(
        op.f("ix_payment_detail_payment_id_amount"), "payment_detail", ["payment_id", "amount"]
    )
    op.create_index(
        op.f("ix_payment_detail_payment_id_created_at"),
        "payment_detail",
        ["payment_id", "created_at"],
    )
    op.create_index(
        op.f("ix_payment_document_payment_id_status"), "payment_document", ["payment_id", "status"]
    )
    op.create_index(
        op.f("ix_payment_document_payment_id_document_type"),
        "payment_document",
        ["payment_id", "document_type"],
    )
    op.create_index(op.f("ix_partner_tenant_id_kind"), "partner", ["tenant_id", "kind"])
    op.create_index(op.f("ix_partner_tenant_id_created_at"), "partner", ["tenant_id", "created_at"])
    op.create_index(op.f("ix_partner_parent_id_name"), "partner", ["parent_id", "name"])
    op.create_index(op.f("ix_merchant_partner_id_name"), "merchant", ["partner_id", "name"])
    op.create_index(
        op.f("ix_merchant_partner_id_created_at"), "merchant", ["partner_id", "created_at"]
    )
    op.create_index(op.f("ix_terminal_merchant_id_serial"), "terminal", ["merchant_id", "serial"])
    op.create_index(op.f("ix_company_tenant_id_name"), "company", ["tenant_id", "name"])
    op.create_index(op.f("ix_user_account_tenant_id_email"), "user_account", ["tenant_id", "email"])
    op.create_index(
        op.f("ix_payment_document_payment_id_created_at"),
        "payment_document",
        ["payment_id", "created_at"],
    )
    op.create_index(
        op.f("ix_terminal_merchant_id_created_at"), "terminal", ["merchant_id", "created_at"]
    )
    _trigram("payment", "reference")
    _trigram("payment", "document_number")
    _trigram("payment", "tracking_id")
    _trigram("payment", "description")
    _trigram("invoice", "number")
    _trigram("address", "name")
    _trigram("address", "line1")
    _trigram("address", "city")
    _trigram("address", "postal_code")
    _trigram("address", "country_code")
    _trigram("payment_detail", "carrier")
    _trigram("payment_detail", "tracking_number")
    _trigram("payment_detail", "shipment_reference")
    _trigram("payment_document", "document_type")
    _trigram("partner", "name")
    _trigram("partner", "external_ref")
    _trigram("merchant", "name")
    _trigram("merchant", "external_ref")
    _trigram("terminal", "serial")
    _trigram("terminal", "label")
    _trigram("company", "name")
    _trigram("company", "tax_id")
    _trigram("user_account", "name")
    _trigram("user_account", "email")
    _trigram("payment_method", "name")


def downgrade() -> None:
    op.drop_index(op.f("ix_terminal_merchant_id_created_at"), table_name="terminal")
    op.drop_index(op.f("ix_payment_document_payment_id_created_at"), table_name="payment_document")
    op.drop_index("ix_payment_method_name_trgm", table_name="payment_method")
    op.drop_index("ix_user_account_email_trgm", table_name="user_account")
    op.drop_index("ix_user_account_name_trgm", table_name="user_account")
    op.drop_index("ix_company_tax_id_trgm", table_name="company")
    op.drop_index("ix_company_name_trgm", table_name="company")
    op.drop_index("ix_terminal_label_trgm", table_name="terminal")
    op.drop_index("ix_terminal_serial_trgm", table_name="terminal")
    op.drop_index("ix_merchant_external_ref_trgm", table_name="merchant")
    op.drop_index("ix_merchant_name_trgm", table_name="merchant")
    op.drop_index("ix_partner_external_ref_trgm", table_name="partner")
    op.drop_index("ix_partner_name_trgm", table_name="partner")
    op.drop_index("ix_payment_document_document_type_trgm", table_name="payment_document")
    op.drop_index("ix_payment_detail_shipment_reference_trgm", table_name="payment_detail")
    op.drop_index("ix_payment_detail_tracking_number_trgm", table_name="payment_detail")
    op.drop_index("ix_payment_detail_carrier_trgm", table_name="payment_detail")
    op.drop_index("ix_address_country_code_trgm", table_name="address")
    op.drop_index("ix_address_postal_code_trgm", table_name="address")
    op.drop_index("ix_address_city_trgm", table_name="address")
    op.drop_index("ix_address_line1_trgm", table_name="address")
    op.drop_index("ix_address_name_trgm", table_name="address")
    op.drop_index("ix_invoice_number_trgm", table_name="invoice")
    op.drop_index("ix_payment_description_trgm", table_name="payment")
    op.drop_index("ix_payment_tracking_id_trgm", table_name="payment")
    op.drop_index("ix_payment_document_number_trgm", table_name="payment")
    op.drop_index("ix_payment_reference_trgm", table_name="payment")
    op.drop_index(op.f("ix_user_account_tenant_id_email"), table_name="user_account")
    op.drop_index(op.f("ix_company_tenant_id_name"), table_name="company")
    op.drop_index(op.f("ix_terminal_merchant_id_serial"), table_name="terminal")
    op.drop_index(op.f("ix_merchant_partner_id_created_at"), table_name="merchant")
    op.drop_index(op.f("ix_merchant_partner_id_name"), table_name="merchant")
    op.drop_index(op.f("ix_partner_parent_id_name"), table_name="partner")
    op.drop_index(op.f("ix_partner_tenant_id_created_at"), table_name="partner")
    op.drop_index(op.f("ix_partner_tenant_id_kind"), table_name="partner")
    op.drop_index(
        op.f("ix_payment_document_payment_id_document_type"), table_name="payment_document"
    )
    op.drop_index(op.f("ix_payment_document_payment_id_status"), table_name="payment_document")
    op.drop_index(op.f("ix_payment_detail_payment_id_created_at"), table_name="payment_detail")
    op.drop_index(op.f("ix_payment_detail_payment_id_amount"), table_name="payment_detail")
    op.drop_index(op.f("ix_payment_detail_payment_id_carrier"), table_name="payment_detail")
    op.drop_index(op.f("ix_address_tenant_id_created_at"), table_name="address")
    op.drop_index(op.f("ix_address_tenant_id_country_code"), table_name="address")
    op.drop_index(op.f("ix_address_tenant_id_city"), table_name="address")
    op.drop_index(op.f("ix_invoice_tenant_id_updated_at"), table_name="invoice")
    op.drop_index(op.f("ix_invoice_tenant_id_created_at"), table_name="invoice")
    op.drop_index(op.f("ix_invoice_tenant_id_due_on"), table_name="invoice")
    op.drop_index(op.f("ix_invoice_tenant_id_total_amount"), table_name="invoice")
    op.drop_index(op.f("ix_payment_partner_id_kind_created_at"), table_name="payment")
    op.drop_index(op.f("ix_payment_tenant_id_period_end"), table_name="payment")
    op.drop_index(op.f("ix_payment_tenant_id_paid_at"), table_name="payment")
    op.drop_index(op.f("ix_payment_tenant_id_currency_created_at"), table_name="payment")
    op.drop_index(op.f("ix_payment_tenant_id_kind_created_at"), table_name="payment")
    op.drop_index(op.f("ix_payment_tenant_id_status_created_at"), table_name="payment")
