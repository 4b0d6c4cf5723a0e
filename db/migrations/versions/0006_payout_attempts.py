"""payout attempts: a commission payout is recorded before the provider is asked, and
commission payments get the PAYOUT_IN_PROGRESS status while it is

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# The statuses each kind may have, as of this revision (db.models.payments).
STATUS_BY_KIND = (
    "(kind = 'commission' AND status IN ('generated', 'payment_requested', "
    "'documents_rejected', 'approved_for_payment', {in_progress}'under_review', "
    "'payment_rejected', 'paid', 'manually_paid')) OR (kind = 'acquiring' AND status IN "
    "('created', 'processing', 'completed', 'invalid', 'underpaid', 'overpaid', 'refunded')) "
    "OR (kind = 'reseller' AND status IN ('waiting_for_payment', 'expired', 'completed', "
    "'cancelled')) OR (kind = 'invoice' AND status IN ('recorded', 'deleted'))"
)


def _status_by_kind(in_progress: bool) -> None:
    with op.batch_alter_table("payment") as batch:
        batch.drop_constraint(op.f("ck_payment_status_by_kind"), type_="check")
        batch.create_check_constraint(
            op.f("ck_payment_status_by_kind"),
            STATUS_BY_KIND.format(in_progress="'payout_in_progress', " if in_progress else ""),
        )


def upgrade() -> None:
    op.create_table(
        "payout_attempt",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.Column("payment_id", BIG_ID, nullable=False),
        sa.Column("payout_key", sa.String(length=128), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("destination", sa.String(length=128), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("actor_id", BIG_ID, nullable=True),
        sa.Column("actor_label", sa.String(length=200), nullable=False),
        sa.Column("comments", sa.Text(), nullable=True),
        sa.Column("idempotency_key_id", BIG_ID, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider_payout_id", sa.String(length=128), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'paid', 'declined', 'failed')",
            name=op.f("ck_payout_attempt_status"),
        ),
        sa.CheckConstraint(
            "amount = CAST(amount AS BIGINT)", name=op.f("ck_payout_attempt_amount_integer")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_payout_attempt_tenant_id_tenant")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name=op.f("fk_payout_attempt_payment_id_payment")
        ),
        sa.ForeignKeyConstraint(
            ["currency"], ["currency.code"], name=op.f("fk_payout_attempt_currency_currency")
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user_account.id"],
            name=op.f("fk_payout_attempt_actor_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["idempotency_key_id"],
            ["idempotency_key.id"],
            name=op.f("fk_payout_attempt_idempotency_key_id_idempotency_key"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_attempt")),
    )
    with op.batch_alter_table("payout_attempt") as batch:
        batch.create_index(op.f("ix_payout_attempt_payout_key"), ["payout_key"], unique=True)
        batch.create_index(
            op.f("ix_payout_attempt_status_locked_until"), ["status", "locked_until"]
        )
        for column in ("tenant_id", "payment_id", "currency", "actor_id", "idempotency_key_id"):
            batch.create_index(op.f(f"ix_payout_attempt_{column}"), [column])
    _status_by_kind(in_progress=True)


def downgrade() -> None:
    # Refused while a payout is in progress: its row would break the old constraint.
    _status_by_kind(in_progress=False)
    op.drop_table("payout_attempt")
