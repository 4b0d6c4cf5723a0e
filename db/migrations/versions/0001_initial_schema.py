"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21 09:18:15.088718
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain.currencies import ISO_4217

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "currency",
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("numeric_code", sa.Integer(), nullable=False),
        sa.Column("exponent", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_currency")),
        sa.UniqueConstraint("numeric_code", name=op.f("uq_currency_numeric_code")),
    )
    # Reference data as of this revision; later changes to the table get their own migration.
    op.bulk_insert(
        sa.table(
            "currency",
            sa.column("code", sa.String),
            sa.column("numeric_code", sa.Integer),
            sa.column("exponent", sa.Integer),
            sa.column("name", sa.String),
        ),
        [
            {"code": c.code, "numeric_code": c.numeric, "exponent": c.exponent, "name": c.name}
            for c in ISO_4217.values()
        ],
    )
    op.create_table(
        "tenant",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant")),
        sa.UniqueConstraint("slug", name=op.f("uq_tenant_slug")),
    )
    op.create_table(
        "company",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tax_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_company_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company")),
    )
    op.create_index(op.f("ix_company_tenant_id"), "company", ["tenant_id"], unique=False)

    op.create_table(
        "fx_rate",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("base_currency", sa.String(length=3), nullable=False),
        sa.Column("quote_currency", sa.String(length=3), nullable=False),
        sa.Column("rate_value", sa.BigInteger(), nullable=False),
        sa.Column("rate_scale", sa.Integer(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rate_scale BETWEEN 0 AND 18", name=op.f("ck_fx_rate_rate_scale_range")),
        sa.CheckConstraint("rate_value > 0", name=op.f("ck_fx_rate_rate_positive")),
        sa.ForeignKeyConstraint(
            ["base_currency"], ["currency.code"], name=op.f("fk_fx_rate_base_currency_currency")
        ),
        sa.ForeignKeyConstraint(
            ["quote_currency"], ["currency.code"], name=op.f("fk_fx_rate_quote_currency_currency")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_fx_rate_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fx_rate")),
    )
    op.create_index(op.f("ix_fx_rate_base_currency"), "fx_rate", ["base_currency"], unique=False)
    op.create_index(op.f("ix_fx_rate_quote_currency"), "fx_rate", ["quote_currency"], unique=False)
    op.create_index(op.f("ix_fx_rate_tenant_id"), "fx_rate", ["tenant_id"], unique=False)
    op.create_index(
        op.f("ix_fx_rate_tenant_id_base_currency_quote_currency_effective_on"),
        "fx_rate",
        ["tenant_id", "base_currency", "quote_currency", "effective_on"],
        unique=True,
    )

    op.create_table(
        "idempotency_key",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('in_flight', 'completed')", name=op.f("ck_idempotency_key_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_idempotency_key_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_key")),
    )
    op.create_index(
        op.f("ix_idempotency_key_expires_at"), "idempotency_key", ["expires_at"], unique=False
    )
    op.create_index(
        op.f("ix_idempotency_key_tenant_id"), "idempotency_key", ["tenant_id"], unique=False
    )
    op.create_index(
        op.f("ix_idempotency_key_tenant_id_key"),
        "idempotency_key",
        ["tenant_id", "key"],
        unique=True,
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'dead')", name=op.f("ck_outbox_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_outbox_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(
        op.f("ix_outbox_status_next_attempt_at"),
        "outbox",
        ["status", "next_attempt_at"],
        unique=False,
    )
    op.create_index(op.f("ix_outbox_tenant_id"), "outbox", ["tenant_id"], unique=False)

    op.create_table(
        "partner",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("external_ref", sa.String(length=64), nullable=False),
        sa.Column("payout_account", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('isv', 'var', 'payfac', 'reseller')", name=op.f("ck_partner_kind")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["partner.id"], name=op.f("fk_partner_parent_id_partner")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_partner_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner")),
        sa.UniqueConstraint(
            "tenant_id", "external_ref", name=op.f("uq_partner_tenant_id_external_ref")
        ),
    )
    op.create_index(op.f("ix_partner_parent_id"), "partner", ["parent_id"], unique=False)
    op.create_index(op.f("ix_partner_tenant_id"), "partner", ["tenant_id"], unique=False)
    op.create_index(
        op.f("ix_partner_tenant_id_name"), "partner", ["tenant_id", "name"], unique=False
    )

    op.create_table(
        "payment_method",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("method_type", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "method_type IN ('card', 'bank_transfer', 'check', 'cash', 'wallet')",
            name=op.f("ck_payment_method_method_type"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_payment_method_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_method")),
    )
    op.create_index(
        op.f("ix_payment_method_tenant_id"), "payment_method", ["tenant_id"], unique=False
    )

    op.create_table(
        "account",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "reseller_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reseller_id"], ["partner.id"], name=op.f("fk_account_reseller_id_partner")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_account_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
    )
    op.create_index(op.f("ix_account_reseller_id"), "account", ["reseller_id"], unique=False)
    op.create_index(op.f("ix_account_tenant_id"), "account", ["tenant_id"], unique=False)

    op.create_table(
        "address",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("line1", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("postal_code", sa.String(length=20), nullable=True),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_address_company_id_company")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_address_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address")),
    )
    op.create_index(op.f("ix_address_company_id"), "address", ["company_id"], unique=False)
    op.create_index(op.f("ix_address_tenant_id"), "address", ["tenant_id"], unique=False)
    op.create_index(
        op.f("ix_address_tenant_id_name"), "address", ["tenant_id", "name"], unique=False
    )

    op.create_table(
        "merchant",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "partner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("external_ref", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partner.id"], name=op.f("fk_merchant_partner_id_partner")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_merchant_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant")),
        sa.UniqueConstraint(
            "tenant_id", "external_ref", name=op.f("uq_merchant_tenant_id_external_ref")
        ),
    )
    op.create_index(op.f("ix_merchant_partner_id"), "merchant", ["partner_id"], unique=False)
    op.create_index(op.f("ix_merchant_tenant_id"), "merchant", ["tenant_id"], unique=False)

    op.create_table(
        "user_account",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column(
            "partner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'partner', 'manager')", name=op.f("ck_user_account_role")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_user_account_company_id_company")
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partner.id"], name=op.f("fk_user_account_partner_id_partner")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_user_account_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("tenant_id", "email", name=op.f("uq_user_account_tenant_id_email")),
    )
    op.create_index(
        op.f("ix_user_account_company_id"), "user_account", ["company_id"], unique=False
    )
    op.create_index(
        op.f("ix_user_account_partner_id"), "user_account", ["partner_id"], unique=False
    )
    op.create_index(op.f("ix_user_account_tenant_id"), "user_account", ["tenant_id"], unique=False)
    op.create_index(
        op.f("ix_user_account_tenant_id_name"), "user_account", ["tenant_id", "name"], unique=False
    )

    op.create_table(
        "invoice",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("sender_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "receiver_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("total_amount", sa.BigInteger(), nullable=False),
        sa.Column("paid_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'open', 'partially_paid', 'paid', 'void')",
            name=op.f("ck_invoice_status"),
        ),
        sa.CheckConstraint(
            "paid_amount = CAST(paid_amount AS BIGINT)", name=op.f("ck_invoice_paid_amount_integer")
        ),
        sa.CheckConstraint(
            "total_amount = CAST(total_amount AS BIGINT)",
            name=op.f("ck_invoice_total_amount_integer"),
        ),
        sa.CheckConstraint("total_amount >= 0", name=op.f("ck_invoice_total_amount_non_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_invoice_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_invoice_company_id_company")
        ),
        sa.ForeignKeyConstraint(
            ["currency"], ["currency.code"], name=op.f("fk_invoice_currency_currency")
        ),
        sa.ForeignKeyConstraint(
            ["receiver_id"], ["address.id"], name=op.f("fk_invoice_receiver_id_address")
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"], ["address.id"], name=op.f("fk_invoice_sender_id_address")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_invoice_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice")),
    )
    op.create_index(op.f("ix_invoice_account_id"), "invoice", ["account_id"], unique=False)
    op.create_index(op.f("ix_invoice_company_id"), "invoice", ["company_id"], unique=False)
    op.create_index(op.f("ix_invoice_currency"), "invoice", ["currency"], unique=False)
    op.create_index(op.f("ix_invoice_receiver_id"), "invoice", ["receiver_id"], unique=False)
    op.create_index(op.f("ix_invoice_sender_id"), "invoice", ["sender_id"], unique=False)
    op.create_index(op.f("ix_invoice_tenant_id"), "invoice", ["tenant_id"], unique=False)
    op.create_index(
        op.f("ix_invoice_tenant_id_issued_on"), "invoice", ["tenant_id", "issued_on"], unique=False
    )
    op.create_index(
        op.f("ix_invoice_tenant_id_number"), "invoice", ["tenant_id", "number"], unique=True
    )
    op.create_index(
        op.f("ix_invoice_tenant_id_status"), "invoice", ["tenant_id", "status"], unique=False
    )

    op.create_table(
        "terminal",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchant.id"], name=op.f("fk_terminal_merchant_id_merchant")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_terminal_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_terminal")),
        sa.UniqueConstraint("tenant_id", "serial", name=op.f("uq_terminal_tenant_id_serial")),
    )
    op.create_index(op.f("ix_terminal_merchant_id"), "terminal", ["merchant_id"], unique=False)
    op.create_index(op.f("ix_terminal_tenant_id"), "terminal", ["tenant_id"], unique=False)

    op.create_table(
        "payment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("paid_amount", sa.BigInteger(), nullable=True),
        sa.Column("settleable_amount", sa.BigInteger(), nullable=True),
        sa.Column("discount_amount", sa.BigInteger(), nullable=True),
        sa.Column("original_amount", sa.BigInteger(), nullable=True),
        sa.Column("original_currency", sa.String(length=3), nullable=True),
        sa.Column(
            "fx_rate_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "partner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "terminal_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("sender_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "receiver_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "payment_method_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("authorized", sa.Boolean(), nullable=False),
        sa.Column(
            "authorized_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("authorized_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "manager_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("document_number", sa.String(length=64), nullable=True),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.Column("tracking_id", sa.String(length=128), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("comments", sa.Text(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("cutoff_date", sa.Date(), nullable=True),
        sa.Column("payment_date", sa.Date(), nullable=True),
        sa.Column("approved_for_payment_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expiration_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requester_ip", sa.String(length=45), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind = 'commission' AND status IN ('generated', 'payment_requested', 'documents_rejected', 'approved_for_payment', 'under_review', 'payment_rejected', 'paid', 'manually_paid')) OR (kind = 'acquiring' AND status IN ('created', 'processing', 'completed', 'invalid', 'underpaid', 'overpaid', 'refunded')) OR (kind = 'reseller' AND status IN ('waiting_for_payment', 'expired', 'completed', 'cancelled')) OR (kind = 'invoice' AND status IN ('recorded', 'deleted'))",
            name=op.f("ck_payment_status_by_kind"),
        ),
        sa.CheckConstraint(
            "kind IN ('commission', 'acquiring', 'reseller', 'invoice')",
            name=op.f("ck_payment_kind"),
        ),
        sa.CheckConstraint(
            "amount = CAST(amount AS BIGINT)", name=op.f("ck_payment_amount_integer")
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_payment_amount_non_negative")),
        sa.CheckConstraint(
            "discount_amount = CAST(discount_amount AS BIGINT)",
            name=op.f("ck_payment_discount_amount_integer"),
        ),
        sa.CheckConstraint(
            "original_amount = CAST(original_amount AS BIGINT)",
            name=op.f("ck_payment_original_amount_integer"),
        ),
        sa.CheckConstraint(
            "paid_amount = CAST(paid_amount AS BIGINT)", name=op.f("ck_payment_paid_amount_integer")
        ),
        sa.CheckConstraint(
            "settleable_amount = CAST(settleable_amount AS BIGINT)",
            name=op.f("ck_payment_settleable_amount_integer"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_payment_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["authorized_by_id"],
            ["user_account.id"],
            name=op.f("fk_payment_authorized_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_payment_company_id_company")
        ),
        sa.ForeignKeyConstraint(
            ["currency"], ["currency.code"], name=op.f("fk_payment_currency_currency")
        ),
        sa.ForeignKeyConstraint(
            ["fx_rate_id"], ["fx_rate.id"], name=op.f("fk_payment_fx_rate_id_fx_rate")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_payment_invoice_id_invoice")
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"], ["user_account.id"], name=op.f("fk_payment_manager_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchant.id"], name=op.f("fk_payment_merchant_id_merchant")
        ),
        sa.ForeignKeyConstraint(
            ["original_currency"],
            ["currency.code"],
            name=op.f("fk_payment_original_currency_currency"),
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partner.id"], name=op.f("fk_payment_partner_id_partner")
        ),
        sa.ForeignKeyConstraint(
            ["payment_method_id"],
            ["payment_method.id"],
            name=op.f("fk_payment_payment_method_id_payment_method"),
        ),
        sa.ForeignKeyConstraint(
            ["receiver_id"], ["address.id"], name=op.f("fk_payment_receiver_id_address")
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"], ["address.id"], name=op.f("fk_payment_sender_id_address")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_payment_tenant_id_tenant")
        ),
        sa.ForeignKeyConstraint(
            ["terminal_id"], ["terminal.id"], name=op.f("fk_payment_terminal_id_terminal")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_payment_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
    )
    op.create_index(op.f("ix_payment_account_id"), "payment", ["account_id"], unique=False)
    op.create_index(
        op.f("ix_payment_authorized_by_id"), "payment", ["authorized_by_id"], unique=False
    )
    op.create_index(op.f("ix_payment_company_id"), "payment", ["company_id"], unique=False)
    op.create_index(op.f("ix_payment_currency"), "payment", ["currency"], unique=False)
    op.create_index(op.f("ix_payment_fx_rate_id"), "payment", ["fx_rate_id"], unique=False)
    op.create_index(op.f("ix_payment_invoice_id"), "payment", ["invoice_id"], unique=False)
    op.create_index(op.f("ix_payment_manager_id"), "payment", ["manager_id"], unique=False)
    op.create_index(op.f("ix_payment_merchant_id"), "payment", ["merchant_id"], unique=False)
    op.create_index(
        op.f("ix_payment_original_currency"), "payment", ["original_currency"], unique=False
    )
    op.create_index(op.f("ix_payment_partner_id"), "payment", ["partner_id"], unique=False)
    op.create_index(
        op.f("ix_payment_partner_id_created_at"),
        "payment",
        ["partner_id", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_payment_payment_method_id"), "payment", ["payment_method_id"], unique=False
    )
    op.create_index(op.f("ix_payment_receiver_id"), "payment", ["receiver_id"], unique=False)
    op.create_index(op.f("ix_payment_sender_id"), "payment", ["sender_id"], unique=False)
    op.create_index(op.f("ix_payment_tenant_id"), "payment", ["tenant_id"], unique=False)
    op.create_index(
        op.f("ix_payment_tenant_id_amount"), "payment", ["tenant_id", "amount"], unique=False
    )
    op.create_index(
        op.f("ix_payment_tenant_id_created_at"),
        "payment",
        ["tenant_id", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_payment_tenant_id_document_number"),
        "payment",
        ["tenant_id", "document_number"],
        unique=False,
    )
    op.create_index(
        op.f("ix_payment_tenant_id_kind_status"),
        "payment",
        ["tenant_id", "kind", "status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_payment_tenant_id_payment_date"),
        "payment",
        ["tenant_id", "payment_date"],
        unique=False,
    )
    op.create_index(
        op.f("ix_payment_tenant_id_period_start_period_end"),
        "payment",
        ["tenant_id", "period_start", "period_end"],
        unique=False,
    )
    op.create_index(
        op.f("ix_payment_tenant_id_reference"), "payment", ["tenant_id", "reference"], unique=False
    )
    op.create_index(
        op.f("ix_payment_tenant_id_status"), "payment", ["tenant_id", "status"], unique=False
    )
    op.create_index(
        op.f("ix_payment_tenant_id_updated_at"),
        "payment",
        ["tenant_id", "updated_at"],
        unique=False,
    )
    op.create_index(op.f("ix_payment_terminal_id"), "payment", ["terminal_id"], unique=False)
    op.create_index(op.f("ix_payment_user_id"), "payment", ["user_id"], unique=False)

    op.create_table(
        "accounting_transaction",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("posting_id", sa.String(length=36), nullable=False),
        sa.Column("account_code", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "direction IN ('debit', 'credit')", name=op.f("ck_accounting_transaction_direction")
        ),
        sa.CheckConstraint(
            "amount = CAST(amount AS BIGINT)", name=op.f("ck_accounting_transaction_amount_integer")
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_accounting_transaction_amount_positive")),
        sa.ForeignKeyConstraint(
            ["currency"],
            ["currency.code"],
            name=op.f("fk_accounting_transaction_currency_currency"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoice.id"],
            name=op.f("fk_accounting_transaction_invoice_id_invoice"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payment.id"],
            name=op.f("fk_accounting_transaction_payment_id_payment"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_accounting_transaction_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_transaction")),
    )
    op.create_index(
        op.f("ix_accounting_transaction_currency"),
        "accounting_transaction",
        ["currency"],
        unique=False,
    )
    op.create_index(
        op.f("ix_accounting_transaction_invoice_id"),
        "accounting_transaction",
        ["invoice_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_accounting_transaction_payment_id_id"),
        "accounting_transaction",
        ["payment_id", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_accounting_transaction_tenant_id"),
        "accounting_transaction",
        ["tenant_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_accounting_transaction_tenant_id_created_at"),
        "accounting_transaction",
        ["tenant_id", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_accounting_transaction_tenant_id_posting_id"),
        "accounting_transaction",
        ["tenant_id", "posting_id"],
        unique=False,
    )

    op.create_table(
        "payment_detail",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "partner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("carrier", sa.String(length=64), nullable=False),
        sa.Column("tracking_number", sa.String(length=128), nullable=True),
        sa.Column("shipment_reference", sa.String(length=128), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "amount = CAST(amount AS BIGINT)", name=op.f("ck_payment_detail_amount_integer")
        ),
        sa.ForeignKeyConstraint(
            ["currency"], ["currency.code"], name=op.f("fk_payment_detail_currency_currency")
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partner.id"], name=op.f("fk_payment_detail_partner_id_partner")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name=op.f("fk_payment_detail_payment_id_payment")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_payment_detail_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_detail")),
    )
    op.create_index(
        op.f("ix_payment_detail_currency"), "payment_detail", ["currency"], unique=False
    )
    op.create_index(
        op.f("ix_payment_detail_partner_id"), "payment_detail", ["partner_id"], unique=False
    )
    op.create_index(
        op.f("ix_payment_detail_payment_id_id"),
        "payment_detail",
        ["payment_id", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_payment_detail_tenant_id"), "payment_detail", ["tenant_id"], unique=False
    )
    op.create_index(
        op.f("ix_payment_detail_tenant_id_carrier"),
        "payment_detail",
        ["tenant_id", "carrier"],
        unique=False,
    )

    op.create_table(
        "payment_document",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("document_type", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column(
            "reviewed_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("content_type", sa.String(length=127), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("storage_key", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')", name=op.f("ck_payment_document_status")
        ),
        sa.CheckConstraint(
            "size_bytes IS NULL OR size_bytes >= 0",
            name=op.f("ck_payment_document_size_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name=op.f("fk_payment_document_payment_id_payment")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"],
            ["user_account.id"],
            name=op.f("fk_payment_document_reviewed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_payment_document_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_document")),
    )
    op.create_index(
        op.f("ix_payment_document_payment_id_id"),
        "payment_document",
        ["payment_id", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_payment_document_reviewed_by_id"),
        "payment_document",
        ["reviewed_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_payment_document_tenant_id"), "payment_document", ["tenant_id"], unique=False
    )
    op.create_index(
        op.f("ix_payment_document_tenant_id_status"),
        "payment_document",
        ["tenant_id", "status"],
        unique=False,
    )

    op.create_table(
        "payment_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("actor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("actor_label", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=True),
        sa.Column("comments", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_payment_event_actor_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name=op.f("fk_payment_event_payment_id_payment")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_payment_event_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_event")),
    )
    op.create_index(op.f("ix_payment_event_actor_id"), "payment_event", ["actor_id"], unique=False)
    op.create_index(
        op.f("ix_payment_event_payment_id_id"), "payment_event", ["payment_id", "id"], unique=False
    )
    op.create_index(
        op.f("ix_payment_event_tenant_id"), "payment_event", ["tenant_id"], unique=False
    )
    op.create_index(
        op.f("ix_payment_event_tenant_id_created_at"),
        "payment_event",
        ["tenant_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_payment_event_tenant_id_created_at"), table_name="payment_event")
    op.drop_index(op.f("ix_payment_event_tenant_id"), table_name="payment_event")
    op.drop_index(op.f("ix_payment_event_payment_id_id"), table_name="payment_event")
    op.drop_index(op.f("ix_payment_event_actor_id"), table_name="payment_event")

    op.drop_table("payment_event")
    op.drop_index(op.f("ix_payment_document_tenant_id_status"), table_name="payment_document")
    op.drop_index(op.f("ix_payment_document_tenant_id"), table_name="payment_document")
    op.drop_index(op.f("ix_payment_document_reviewed_by_id"), table_name="payment_document")
    op.drop_index(op.f("ix_payment_document_payment_id_id"), table_name="payment_document")

    op.drop_table("payment_document")
    op.drop_index(op.f("ix_payment_detail_tenant_id_carrier"), table_name="payment_detail")
    op.drop_index(op.f("ix_payment_detail_tenant_id"), table_name="payment_detail")
    op.drop_index(op.f("ix_payment_detail_payment_id_id"), table_name="payment_detail")
    op.drop_index(op.f("ix_payment_detail_partner_id"), table_name="payment_detail")
    op.drop_index(op.f("ix_payment_detail_currency"), table_name="payment_detail")

    op.drop_table("payment_detail")
    op.drop_index(
        op.f("ix_accounting_transaction_tenant_id_posting_id"), table_name="accounting_transaction"
    )
    op.drop_index(
        op.f("ix_accounting_transaction_tenant_id_created_at"), table_name="accounting_transaction"
    )
    op.drop_index(op.f("ix_accounting_transaction_tenant_id"), table_name="accounting_transaction")
    op.drop_index(
        op.f("ix_accounting_transaction_payment_id_id"), table_name="accounting_transaction"
    )
    op.drop_index(op.f("ix_accounting_transaction_invoice_id"), table_name="accounting_transaction")
    op.drop_index(op.f("ix_accounting_transaction_currency"), table_name="accounting_transaction")

    op.drop_table("accounting_transaction")
    op.drop_index(op.f("ix_payment_user_id"), table_name="payment")
    op.drop_index(op.f("ix_payment_terminal_id"), table_name="payment")
    op.drop_index(op.f("ix_payment_tenant_id_updated_at"), table_name="payment")
    op.drop_index(op.f("ix_payment_tenant_id_status"), table_name="payment")
    op.drop_index(op.f("ix_payment_tenant_id_reference"), table_name="payment")
    op.drop_index(op.f("ix_payment_tenant_id_period_start_period_end"), table_name="payment")
    op.drop_index(op.f("ix_payment_tenant_id_payment_date"), table_name="payment")
    op.drop_index(op.f("ix_payment_tenant_id_kind_status"), table_name="payment")
    op.drop_index(op.f("ix_payment_tenant_id_document_number"), table_name="payment")
    op.drop_index(op.f("ix_payment_tenant_id_created_at"), table_name="payment")
    op.drop_index(op.f("ix_payment_tenant_id_amount"), table_name="payment")
    op.drop_index(op.f("ix_payment_tenant_id"), table_name="payment")
    op.drop_index(op.f("ix_payment_sender_id"), table_name="payment")
    op.drop_index(op.f("ix_payment_receiver_id"), table_name="payment")
    op.drop_index(op.f("ix_payment_payment_method_id"), table_name="payment")
    op.drop_index(op.f("ix_payment_partner_id_created_at"), table_name="payment")
    op.drop_index(op.f("ix_payment_partner_id"), table_name="payment")
    op.drop_index(op.f("ix_payment_original_currency"), table_name="payment")
    op.drop_index(op.f("ix_payment_merchant_id"), table_name="payment")
    op.drop_index(op.f("ix_payment_manager_id"), table_name="payment")
    op.drop_index(op.f("ix_payment_invoice_id"), table_name="payment")
    op.drop_index(op.f("ix_payment_fx_rate_id"), table_name="payment")
    op.drop_index(op.f("ix_payment_currency"), table_name="payment")
    op.drop_index(op.f("ix_payment_company_id"), table_name="payment")
    op.drop_index(op.f("ix_payment_authorized_by_id"), table_name="payment")
    op.drop_index(op.f("ix_payment_account_id"), table_name="payment")

    op.drop_table("payment")
    op.drop_index(op.f("ix_terminal_tenant_id"), table_name="terminal")
    op.drop_index(op.f("ix_terminal_merchant_id"), table_name="terminal")

    op.drop_table("terminal")
    op.drop_index(op.f("ix_invoice_tenant_id_status"), table_name="invoice")
    op.drop_index(op.f("ix_invoice_tenant_id_number"), table_name="invoice")
    op.drop_index(op.f("ix_invoice_tenant_id_issued_on"), table_name="invoice")
    op.drop_index(op.f("ix_invoice_tenant_id"), table_name="invoice")
    op.drop_index(op.f("ix_invoice_sender_id"), table_name="invoice")
    op.drop_index(op.f("ix_invoice_receiver_id"), table_name="invoice")
    op.drop_index(op.f("ix_invoice_currency"), table_name="invoice")
    op.drop_index(op.f("ix_invoice_company_id"), table_name="invoice")
    op.drop_index(op.f("ix_invoice_account_id"), table_name="invoice")

    op.drop_table("invoice")
    op.drop_index(op.f("ix_user_account_tenant_id_name"), table_name="user_account")
    op.drop_index(op.f("ix_user_account_tenant_id"), table_name="user_account")
    op.drop_index(op.f("ix_user_account_partner_id"), table_name="user_account")
    op.drop_index(op.f("ix_user_account_company_id"), table_name="user_account")

    op.drop_table("user_account")
    op.drop_index(op.f("ix_merchant_tenant_id"), table_name="merchant")
    op.drop_index(op.f("ix_merchant_partner_id"), table_name="merchant")

    op.drop_table("merchant")
    op.drop_index(op.f("ix_address_tenant_id_name"), table_name="address")
    op.drop_index(op.f("ix_address_tenant_id"), table_name="address")
    op.drop_index(op.f("ix_address_company_id"), table_name="address")

    op.drop_table("address")
    op.drop_index(op.f("ix_account_tenant_id"), table_name="account")
    op.drop_index(op.f("ix_account_reseller_id"), table_name="account")

    op.drop_table("account")
    op.drop_index(op.f("ix_payment_method_tenant_id"), table_name="payment_method")

    op.drop_table("payment_method")
    op.drop_index(op.f("ix_partner_tenant_id_name"), table_name="partner")
    op.drop_index(op.f("ix_partner_tenant_id"), table_name="partner")
    op.drop_index(op.f("ix_partner_parent_id"), table_name="partner")

    op.drop_table("partner")
    op.drop_index(op.f("ix_outbox_tenant_id"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_status_next_attempt_at"), table_name="outbox")

    op.drop_table("outbox")
    op.drop_index(op.f("ix_idempotency_key_tenant_id_key"), table_name="idempotency_key")
    op.drop_index(op.f("ix_idempotency_key_tenant_id"), table_name="idempotency_key")
    op.drop_index(op.f("ix_idempotency_key_expires_at"), table_name="idempotency_key")

    op.drop_table("idempotency_key")
    op.drop_index(
        op.f("ix_fx_rate_tenant_id_base_currency_quote_currency_effective_on"), table_name="fx_rate"
    )
    op.drop_index(op.f("ix_fx_rate_tenant_id"), table_name="fx_rate")
    op.drop_index(op.f("ix_fx_rate_quote_currency"), table_name="fx_rate")
    op.drop_index(op.f("ix_fx_rate_base_currency"), table_name="fx_rate")

    op.drop_table("fx_rate")
    op.drop_index(op.f("ix_company_tenant_id"), table_name="company")

    op.drop_table("company")
    op.drop_table("tenant")
    op.drop_table("currency")
