"""reseller and invoice payments: an index for the reseller payment expiry job, and a
trigram index for searching ledger lines by account

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 14:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_payment_status_expiration_date"),
        "payment",
        ["status", "expiration_date"],
        unique=False,
    )
    op.create_index(
        "ix_accounting_transaction_account_code_trgm",
        "accounting_transaction",
        ["account_code"],
        postgresql_using="gin",
        postgresql_ops={"account_code": "gin_trgm_ops"},
    )


def downgrade() -> None:
    op.drop_index(
        "ix_accounting_transaction_account_code_trgm", table_name="accounting_transaction"
    )
    op.drop_index(op.f("ix_payment_status_expiration_date"), table_name="payment")
