"""FX through the base currency: each tenant has a base currency (USD unless set), and
an invoice payment converted through it keeps its second leg's rate

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("tenant") as batch:
        batch.add_column(
            sa.Column("base_currency", sa.String(length=3), nullable=False, server_default="USD")
        )
        batch.create_foreign_key(
            op.f("fk_tenant_base_currency_currency"), "currency", ["base_currency"], ["code"]
        )
        batch.create_index(op.f("ix_tenant_base_currency"), ["base_currency"])
    with op.batch_alter_table("payment") as batch:
        batch.add_column(sa.Column("fx_rate_from_base_id", BIG_ID, nullable=True))
        batch.create_foreign_key(
            op.f("fk_payment_fx_rate_from_base_id_fx_rate"),
            "fx_rate",
            ["fx_rate_from_base_id"],
            ["id"],
        )
        batch.create_index(op.f("ix_payment_fx_rate_from_base_id"), ["fx_rate_from_base_id"])


def downgrade() -> None:
    with op.batch_alter_table("payment") as batch:
        batch.drop_index(op.f("ix_payment_fx_rate_from_base_id"))
        batch.drop_constraint(op.f("fk_payment_fx_rate_from_base_id_fx_rate"), type_="foreignkey")
        batch.drop_column("fx_rate_from_base_id")
    with op.batch_alter_table("tenant") as batch:
        batch.drop_index(op.f("ix_tenant_base_currency"))
        batch.drop_constraint(op.f("fk_tenant_base_currency_currency"), type_="foreignkey")
        batch.drop_column("base_currency")
