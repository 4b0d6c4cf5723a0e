"""commission workflow: an idempotency key's lease, and the payment an outbox row is about

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 10:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("idempotency_key") as batch:
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("payment_id", BIG_ID, nullable=True))
        batch.create_foreign_key(
            op.f("fk_outbox_payment_id_payment"), "payment", ["payment_id"], ["id"]
        )
        batch.create_index(op.f("ix_outbox_payment_id"), ["payment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index(op.f("ix_outbox_payment_id"))
        batch.drop_constraint(op.f("fk_outbox_payment_id_payment"), type_="foreignkey")
        batch.drop_column("payment_id")
    with op.batch_alter_table("idempotency_key") as batch:
        batch.drop_column("locked_until")
